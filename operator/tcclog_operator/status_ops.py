"""Pure status of what runs beside the app: backups and monitoring.

Neither counts toward Ready (a failed backup needs attention, yet the app serves), so
each has its own condition:

- BackupHealthy: from the backup Jobs the watches saw. Every backup CronJob's latest
  finished Job must have succeeded; one failed Job turns it False (reason BackupFailed)
  until a later run of that CronJob succeeds. Unknown until a first backup finishes.
  `lastSuccessfulBackup` is the newest success of any backup Job, scheduled or on-demand,
  or the CronJobs' own lastSuccessfulTime; it never moves back when old Jobs are cleaned up.
- MonitoringAvailable: whether the Prometheus Operator API exists, when monitoring is
  asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .models import ComponentStatus, TccLog, TccLogStatus
from .status import ConditionStatus, SideHealth

BACKUP_HEALTHY = "BackupHealthy"
MONITORING_AVAILABLE = "MonitoringAvailable"

REASON_BACKUP_SUCCEEDED = "BackupSucceeded"
REASON_BACKUP_FAILED = "BackupFailed"
REASON_NO_BACKUP_YET = "NoBackupYet"
REASON_PROMETHEUS_OPERATOR_FOUND = "PrometheusOperatorFound"
REASON_PROMETHEUS_OPERATOR_MISSING = "PrometheusOperatorMissing"

EVENT_BACKUP_FAILED = "BackupFailed"
EVENT_BACKUP_RECOVERED = "BackupRecovered"
EVENT_MONITORING_UNAVAILABLE = "MonitoringUnavailable"

Obj = Mapping[str, Any]


@dataclass(frozen=True)
class FinishedJob:
    name: str
    source: str  # "CronJob/<name>" or "TccLogBackup/<name>"
    succeeded: bool
    time: str  # RFC 3339; string order is time order (all UTC, "Z")
    message: str


def _controller(obj: Obj) -> tuple[str, str] | None:
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("kind", ""), ref.get("name", "")
    return None


def finished_job(job: Obj) -> FinishedJob | None:
    """A Job's outcome once the Job controller has decided it (Complete or Failed)."""
    owner = _controller(job)
    source = f"{owner[0]}/{owner[1]}" if owner else "Job"
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("status") != "True":
            continue
        if condition.get("type") == "Complete":
            time = (job.get("status") or {}).get("completionTime") or condition.get(
                "lastTransitionTime", "")
            return FinishedJob(job["metadata"]["name"], source, True, time, "")
        if condition.get("type") == "Failed":
            message = condition.get("message") or condition.get("reason") or "failed"
            return FinishedJob(job["metadata"]["name"], source, False,
                               condition.get("lastTransitionTime", ""), message)
    return None


def _kind(children: Mapping[tuple[str, str], Obj], kind: str) -> Iterable[Obj]:
    return (obj for (k, _), obj in sorted(children.items()) if k == kind)


def backup_health(tcclog: TccLog, children: Mapping[tuple[str, str], Obj]
                  ) -> tuple[SideHealth | None, str | None]:
    """(BackupHealthy side health, lastSuccessfulBackup); (None, None) without backups."""
    spec = tcclog.spec.backup
    if spec is None or not spec.enabled:
        return None, None
    finished = [f for f in map(finished_job, _kind(children, "Job")) if f is not None]
    previous = tcclog.status.last_successful_backup if tcclog.status else None
    successes = [f.time for f in finished if f.succeeded] + [
        t for t in ((c.get("status") or {}).get("lastSuccessfulTime")
                    for c in _kind(children, "CronJob")) if t
    ]
    last_success = max([*successes, *([previous] if previous else [])], default=None)

    latest: dict[str, FinishedJob] = {}
    for job in sorted(finished, key=lambda f: (f.time, f.name)):
        if job.source.startswith("CronJob/"):
            latest[job.source] = job
    failed = [job for job in latest.values() if not job.succeeded]
    status: ConditionStatus
    if failed:
        status, reason = "False", REASON_BACKUP_FAILED
        message = "; ".join(f"{job.source.split('/', 1)[1]}: Job {job.name} failed at "
                            f"{job.time}: {job.message}" for job in failed)
        summary = "failed"
    elif latest or last_success:
        status, reason, summary = "True", REASON_BACKUP_SUCCEEDED, "ok"
        message = f"Last successful backup at {last_success}"
    else:
        status, reason, summary = "Unknown", REASON_NO_BACKUP_YET, "none yet"
        message = f"No backup has finished yet (full backups run on '{spec.schedule}')"
    component = ComponentStatus(ready=status == "True", summary=summary, message=message)
    return SideHealth("backup", BACKUP_HEALTHY, status, reason, component), last_success


def monitoring_health(tcclog: TccLog, *, prometheus_crds_present: bool) -> SideHealth | None:
    """MonitoringAvailable when the spec asks for Prometheus objects; None otherwise."""
    spec = tcclog.spec.monitoring
    if not (spec.prometheus_rule or spec.service_monitor):
        return None
    if prometheus_crds_present:
        component = ComponentStatus(
            ready=True, summary="ok",
            message="Prometheus Operator API found: alert rules and monitors are applied")
        return SideHealth("monitoring", MONITORING_AVAILABLE, "True",
                          REASON_PROMETHEUS_OPERATOR_FOUND, component)
    component = ComponentStatus(
        ready=False, summary="unavailable",
        message="The Prometheus Operator CRDs (monitoring.coreos.com/v1) are not installed: "
        "no PrometheusRule, ServiceMonitor or PodMonitor was created. They are created "
        "once the CRDs exist.")
    return SideHealth("monitoring", MONITORING_AVAILABLE, "False",
                      REASON_PROMETHEUS_OPERATOR_MISSING, component)


def side_events(old: TccLogStatus | None, new: TccLogStatus
                ) -> list[tuple[Literal["Normal", "Warning"], str, str]]:
    """Events when backups start failing or recover, and when monitoring is unavailable."""
    before = {c.type: c.status for c in (old.conditions if old else [])}
    after = {c.type: c for c in new.conditions}
    events: list[tuple[Literal["Normal", "Warning"], str, str]] = []
    backup = after.get(BACKUP_HEALTHY)
    if backup is not None and backup.status != before.get(BACKUP_HEALTHY):
        if backup.status == "False":
            events.append(("Warning", EVENT_BACKUP_FAILED, backup.message))
        elif backup.status == "True" and before.get(BACKUP_HEALTHY) == "False":
            events.append(("Normal", EVENT_BACKUP_RECOVERED, backup.message))
    monitoring = after.get(MONITORING_AVAILABLE)
    if (monitoring is not None and monitoring.status == "False"
            and before.get(MONITORING_AVAILABLE) != "False"):
        events.append(("Warning", EVENT_MONITORING_UNAVAILABLE, monitoring.message))
    return events
