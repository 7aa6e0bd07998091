"""BackupHealthy, lastSuccessfulBackup and MonitoringAvailable from observed objects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tcclog_operator import status, status_ops
from tcclog_operator.models import TccLog, TccLogStatus
from tcclog_operator.render import endpoints

from .conftest import make

pytestmark = pytest.mark.unit

BACKUP = {"schedule": "0 3 * * *",
          "s3": {"bucket": "tcc-backups", "credentialsSecretRef": {"name": "s3"}}}


def job(name: str, owner: tuple[str, str] | None, outcome: str | None, at: str,
        message: str = "") -> tuple[tuple[str, str], dict[str, Any]]:
    refs = [{"kind": owner[0], "name": owner[1], "controller": True}] if owner else []
    conditions = []
    if outcome == "Complete":
        conditions = [{"type": "Complete", "status": "True", "lastTransitionTime": at}]
    elif outcome == "Failed":
        conditions = [{"type": "Failed", "status": "True", "lastTransitionTime": at,
                       "reason": "BackoffLimitExceeded", "message": message}]
    body = {"kind": "Job", "metadata": {"name": name, "ownerReferences": refs},
            "status": {"conditions": conditions,
                       **({"completionTime": at} if outcome == "Complete" else {})}}
    return ("Job", name), body


def with_status(tcclog: TccLog, **fields: Any) -> TccLog:
    return tcclog.model_copy(update={"status": TccLogStatus(**fields)})


def test_no_backup_spec_means_no_condition() -> None:
    assert status_ops.backup_health(make({}), {}) == (None, None)
    disabled = make({"backup": {**BACKUP, "enabled": False}})
    assert status_ops.backup_health(disabled, {}) == (None, None)


def test_unknown_until_a_first_backup_finishes() -> None:
    children = dict([job("demo-backup-full-1", ("CronJob", "demo-backup-full"), None, "")])
    side, last = status_ops.backup_health(make({"backup": BACKUP}), children)
    assert side is not None and last is None
    assert (side.status, side.reason) == ("Unknown", "NoBackupYet")
    assert "0 3 * * *" in side.component.message


def test_success_sets_last_successful_backup() -> None:
    children = dict([
        job("full-1", ("CronJob", "demo-backup-full"), "Complete", "2026-12-04T03:00:40Z"),
        job("logical-1", ("CronJob", "demo-backup-logical"), "Complete", "2026-12-04T03:30:00Z"),
    ])
    side, last = status_ops.backup_health(make({"backup": BACKUP}), children)
    assert side is not None and side.status == "True" and side.reason == "BackupSucceeded"
    assert last == "2026-12-04T03:30:00Z"


def test_a_failed_scheduled_backup_is_never_healthy_even_after_other_successes() -> None:
    children = dict([
        job("full-1", ("CronJob", "demo-backup-full"), "Failed", "2026-12-04T03:01:00Z",
            "Job has reached the specified backoff limit"),
        job("logical-1", ("CronJob", "demo-backup-logical"), "Complete", "2026-12-04T03:30:00Z"),
    ])
    side, last = status_ops.backup_health(make({"backup": BACKUP}), children)
    assert side is not None and (side.status, side.reason) == ("False", "BackupFailed")
    assert "demo-backup-full" in side.component.message and "full-1" in side.component.message
    assert "backoff limit" in side.component.message
    assert last == "2026-12-04T03:30:00Z"  # the failure did not move it


def test_a_later_success_of_the_same_cronjob_recovers() -> None:
    children = dict([
        job("full-1", ("CronJob", "demo-backup-full"), "Failed", "2026-12-03T03:01:00Z"),
        job("full-2", ("CronJob", "demo-backup-full"), "Complete", "2026-12-04T03:01:00Z"),
    ])
    side, _ = status_ops.backup_health(make({"backup": BACKUP}), children)
    assert side is not None and side.status == "True"


def test_on_demand_failures_stay_on_their_tcclogbackup() -> None:
    children = dict([
        job("full-1", ("CronJob", "demo-backup-full"), "Complete", "2026-12-04T03:00:00Z"),
        job("tcclogbackup-x", ("TccLogBackup", "x"), "Failed", "2026-12-04T05:00:00Z"),
        job("tcclogbackup-y", ("TccLogBackup", "y"), "Complete", "2026-12-04T06:00:00Z"),
    ])
    side, last = status_ops.backup_health(make({"backup": BACKUP}), children)
    assert side is not None and side.status == "True"
    assert last == "2026-12-04T06:00:00Z"  # on-demand successes count


def test_last_success_never_moves_back_when_jobs_are_cleaned_up() -> None:
    tcclog = with_status(make({"backup": BACKUP}), last_successful_backup="2026-12-04T03:00:00Z")
    cronjob = {"kind": "CronJob", "metadata": {"name": "demo-backup-full"},
               "status": {"lastSuccessfulTime": "2026-12-02T03:00:00Z"}}
    side, last = status_ops.backup_health(tcclog, {("CronJob", "demo-backup-full"): cronjob})
    assert last == "2026-12-04T03:00:00Z"
    assert side is not None and side.status == "True"


def test_monitoring_condition() -> None:
    assert status_ops.monitoring_health(
        make({"monitoring": {"prometheusRule": False, "serviceMonitor": False}}),
        prometheus_crds_present=False) is None
    missing = status_ops.monitoring_health(make({}), prometheus_crds_present=False)
    assert missing is not None and (missing.status, missing.reason) == (
        "False", "PrometheusOperatorMissing")
    assert "monitoring.coreos.com" in missing.component.message
    found = status_ops.monitoring_health(make({}), prometheus_crds_present=True)
    assert found is not None and found.status == "True"


def compute(tcclog: TccLog, children: dict[tuple[str, str], Any]) -> TccLogStatus:
    side, last = status_ops.backup_health(tcclog, children)
    observed = status.ObservedChildren(side=(side,) if side else (), last_successful_backup=last)
    return status.compute_status(tcclog, observed, endpoints=endpoints(tcclog),
                                 now=datetime(2026, 12, 4, 7, tzinfo=UTC))


def test_backup_condition_sits_beside_ready_and_events_follow_transitions() -> None:
    tcclog = make({"backup": BACKUP})
    good = dict([job("full-1", ("CronJob", "demo-backup-full"), "Complete",
                     "2026-12-04T03:00:00Z")])
    healthy = compute(tcclog, good)
    conditions = {c.type: c for c in healthy.conditions}
    assert conditions["BackupHealthy"].status == "True"
    assert healthy.components.backup is not None and healthy.components.backup.summary == "ok"
    assert healthy.to_wire()["lastSuccessfulBackup"] == "2026-12-04T03:00:00Z"

    bad = {**good, **dict([job("full-2", ("CronJob", "demo-backup-full"), "Failed",
                               "2026-12-05T03:00:00Z", "S3 unreachable")])}
    failing = compute(tcclog.model_copy(update={"status": healthy}), bad)
    assert {c.type: c.status for c in failing.conditions}["BackupHealthy"] == "False"
    events = status_ops.side_events(healthy, failing)
    assert [(kind, reason) for kind, reason, _ in events] == [("Warning", "BackupFailed")]
    assert "S3 unreachable" in events[0][2]
    assert status_ops.side_events(failing, failing) == []
    recovered = status_ops.side_events(failing, healthy)
    assert [reason for _, reason, _ in recovered] == ["BackupRecovered"]
