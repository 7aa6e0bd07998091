"""TccLogBackup: its Job and its status, as pure functions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tcclog_operator.backup_request import backup_result, job_name, render_job, request_status
from tcclog_operator.models.tcclogbackup import TccLogBackup, TccLogBackupStatus
from tcclog_operator.render import RenderSettings

from .conftest import make

pytestmark = pytest.mark.unit

BACKUP = {"s3": {"bucket": "tcc-backups", "credentialsSecretRef": {"name": "s3"}}}


def request(method: str = "full", **status: Any) -> TccLogBackup:
    return TccLogBackup.from_body({
        "metadata": {"name": "before-upgrade", "namespace": "tcc", "uid": "req-uid"},
        "spec": {"tcclogRef": {"name": "demo"}, "method": method},
        **({"status": status} if status else {}),
    })


def job(**status: Any) -> dict[str, Any]:
    return {"kind": "Job", "metadata": {"name": "tcclogbackup-before-upgrade"},
            "status": status}


def test_missing_tcclog_or_backup_config_fails_with_a_reason() -> None:
    missing = request_status(request(), tcclog=None, job=None)
    assert missing.phase == "Failed" and "TccLog demo not found" in missing.message
    unconfigured = request_status(request(), tcclog=make({}), job=None)
    assert unconfigured.phase == "Failed" and "spec.backup" in unconfigured.message


def test_lifecycle_pending_running_succeeded() -> None:
    tcclog = make({"backup": BACKUP})
    assert request_status(request(), tcclog=tcclog, job=None).phase == "Pending"
    assert request_status(request(), tcclog=tcclog, job=job()).phase == "Pending"
    running = request_status(request(), tcclog=tcclog,
                             job=job(active=1, startTime="2026-12-04T10:00:00Z"))
    assert (running.phase, running.start_time) == ("Running", "2026-12-04T10:00:00Z")
    done = job(startTime="2026-12-04T10:00:00Z", completionTime="2026-12-04T10:02:00Z",
               conditions=[{"type": "Complete", "status": "True"}])
    result = {"method": "full", "label": "20261204-100000F", "sizeBytes": 123456,
              "location": "s3://tcc-backups/tcc/demo"}
    succeeded = request_status(request(), tcclog=tcclog, job=done, result=result)
    assert succeeded.phase == "Succeeded"
    assert (succeeded.backup_label, succeeded.size_bytes, succeeded.location) == (
        "20261204-100000F", 123456, "s3://tcc-backups/tcc/demo")
    assert succeeded.completion_time == "2026-12-04T10:02:00Z"


def test_failed_job_fails_the_request_and_final_phases_stick() -> None:
    tcclog = make({"backup": BACKUP})
    failed_job = job(startTime="2026-12-04T10:00:00Z", conditions=[
        {"type": "Failed", "status": "True", "lastTransitionTime": "2026-12-04T10:01:00Z",
         "reason": "BackoffLimitExceeded", "message": "Job has reached the backoff limit"}])
    failed = request_status(request(), tcclog=tcclog, job=failed_job)
    assert failed.phase == "Failed" and "backoff limit" in failed.message
    assert failed.size_bytes is None and failed.location is None
    final = request("full", **failed.to_wire())
    assert request_status(final, tcclog=tcclog, job=None) == failed


def test_result_comes_from_the_termination_message_and_junk_is_ignored() -> None:
    result = {"label": "L", "sizeBytes": 1, "location": "s3://b/p"}
    pods = [
        {"status": {"containerStatuses": [{"state": {"terminated": {"message": "not json"}}}]}},
        {"status": {"containerStatuses": [
            {"state": {"terminated": {"message": json.dumps(result)}}}]}},
    ]
    assert backup_result(pods) == result
    assert backup_result([]) == {}
    done = job(conditions=[{"type": "Complete", "status": "True"}])
    odd = request_status(request(), tcclog=make({"backup": BACKUP}), job=done,
                         result={"sizeBytes": -5, "label": 7})
    assert odd.phase == "Succeeded" and odd.size_bytes is None and odd.backup_label is None


@pytest.mark.parametrize("method", ["full", "diff", "incr", "logical"])
def test_job_is_owned_by_the_request_and_labelled_for_the_tcclog(method: str) -> None:
    tcclog = make({"backup": BACKUP})
    rendered = render_job(request(method), tcclog, RenderSettings())
    assert rendered["metadata"]["name"] == job_name(request()) == "tcclogbackup-before-upgrade"
    owner = rendered["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["uid"], owner["controller"]) == ("TccLogBackup", "req-uid", True)
    labels = rendered["metadata"]["labels"]
    assert labels["app.kubernetes.io/instance"] == "demo"
    assert labels["app.kubernetes.io/managed-by"] == "tcclog-operator"
    assert labels["tcclog.com/backup-request"] == "before-upgrade"
    assert rendered["spec"]["template"]["spec"]["containers"]


def test_status_model_round_trips() -> None:
    status = TccLogBackupStatus(phase="Running", job_name="j")
    assert TccLogBackupStatus.model_validate(status.to_wire()) == status
