"""On-demand backups: a TccLogBackup becomes one Job; the Job's fate becomes its status.

Pure parts (the Job object, the status) live here beside the one impure step,
`converge_backup_request`, which the kopf handlers call on a TccLogBackup event or on an
event of its Job. The Job runs exactly what the scheduled CronJobs run
(`render.backup.backup_job_spec`), so an on-demand backup proves the scheduled ones too.

A finished backup (Succeeded or Failed) is final: its status is never rewritten and its
Job is never re-created, even if someone deletes the Job.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .kube import Kube
from .models import TccLog
from .models.tcclog import API_VERSION
from .models.tcclogbackup import (
    BACKUP_KIND,
    TERMINAL_PHASES,
    TccLogBackup,
    TccLogBackupStatus,
)
from .render import RenderSettings, labels
from .render.backup import backup_job_spec
from .status_ops import finished_job

COMPONENT = "backup"
#: Label naming the TccLogBackup a Job runs for.
REQUEST_LABEL = "tcclog.com/backup-request"

EVENT_BACKUP_STARTED = "BackupStarted"
EVENT_BACKUP_SUCCEEDED = "BackupSucceeded"
EVENT_BACKUP_FAILED = "BackupFailed"


def job_name(request: TccLogBackup) -> str:
    return f"tcclogbackup-{request.metadata.name}"


def render_job(request: TccLogBackup, tcclog: TccLog, settings: RenderSettings
               ) -> dict[str, Any]:
    """The Job of one TccLogBackup, owned by it (deleting the request deletes the Job)."""
    owner = {
        "apiVersion": API_VERSION,
        "kind": BACKUP_KIND,
        "name": request.metadata.name,
        "uid": request.metadata.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": job_name(request),
            "namespace": request.metadata.namespace,
            "labels": {**labels(tcclog, COMPONENT), REQUEST_LABEL: request.metadata.name},
            "ownerReferences": [owner],
        },
        "spec": backup_job_spec(tcclog, settings, request.spec.method),
    }


def backup_result(pods: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What the backup container reported in its termination message (JSON), if anything."""
    for pod in pods:
        for container in (pod.get("status") or {}).get("containerStatuses") or []:
            message = ((container.get("state") or {}).get("terminated") or {}).get("message")
            if not message:
                continue
            try:
                result = json.loads(message)
            except ValueError:
                continue
            if isinstance(result, dict):
                return result
    return {}


def request_status(request: TccLogBackup, *, tcclog: TccLog | None,
                   job: Mapping[str, Any] | None,
                   result: Mapping[str, Any] | None = None) -> TccLogBackupStatus:
    """The status a TccLogBackup should have now (pure)."""
    current = request.status or TccLogBackupStatus()
    if current.phase in TERMINAL_PHASES:
        return current
    ref = request.spec.tcclog_ref.name
    if job is None:
        if tcclog is None:
            return TccLogBackupStatus(
                phase="Failed", message=f"TccLog {ref} not found in this namespace")
        if tcclog.spec.backup is None or not tcclog.spec.backup.enabled:
            return TccLogBackupStatus(
                phase="Failed",
                message=f"TccLog {ref} has no backup configured: set spec.backup "
                "(bucket and credentials) first")
        return TccLogBackupStatus(phase="Pending", message="Creating the backup Job",
                                  job_name=job_name(request))
    status = job.get("status") or {}
    common: dict[str, Any] = {"job_name": job["metadata"]["name"],
                              "start_time": status.get("startTime")}
    finished = finished_job(job)
    if finished is None:
        if status.get("active") or status.get("startTime"):
            return TccLogBackupStatus(phase="Running", message="Backup running", **common)
        return TccLogBackupStatus(phase="Pending", message="Job created; waiting for its pod",
                                  **common)
    if not finished.succeeded:
        return TccLogBackupStatus(phase="Failed", completion_time=finished.time,
                                  message=f"Job failed: {finished.message}", **common)
    result = result or {}
    size = result.get("sizeBytes")
    return TccLogBackupStatus(
        phase="Succeeded",
        completion_time=finished.time,
        message="Backup completed" + ("" if result else
                                      " (the backup container reported no details)"),
        backup_label=result.get("label") if isinstance(result.get("label"), str) else None,
        size_bytes=size if isinstance(size, int) and size >= 0 else None,
        location=result.get("location") if isinstance(result.get("location"), str) else None,
        **common,
    )


@dataclass(frozen=True)
class RequestOutcome:
    status: dict[str, Any]
    written: bool
    event: tuple[str, str, str] | None  # (type, reason, message) to post on the request


def converge_backup_request(kube: Kube, body: Mapping[str, Any],
                            settings: RenderSettings) -> RequestOutcome:
    """Create the Job if it should run and does not exist; bring status up to date."""
    request = TccLogBackup.from_body(body)
    namespace = request.metadata.namespace or ""
    old = request.status or TccLogBackupStatus()
    if old.phase in TERMINAL_PHASES:
        return RequestOutcome(old.to_wire(), False, None)
    raw_tcclog = kube.get("TccLog", namespace, request.spec.tcclog_ref.name)
    tcclog = TccLog.from_body(raw_tcclog) if raw_tcclog is not None else None
    job = kube.get("Job", namespace, job_name(request))
    new = request_status(request, tcclog=tcclog, job=job)
    if job is None and new.phase == "Pending" and tcclog is not None:
        job = kube.apply(render_job(request, tcclog, settings))
        new = request_status(request, tcclog=tcclog, job=job)
    if new.phase == "Succeeded":
        pods = kube.list("Pod", namespace, f"job-name={job_name(request)}")
        new = request_status(request, tcclog=tcclog, job=job, result=backup_result(pods))
    wire = new.to_wire()
    if new == old:
        return RequestOutcome(wire, False, None)
    kube.patch_status(namespace, request.metadata.name, wire, kind=BACKUP_KIND)
    return RequestOutcome(wire, True, _phase_event(old, new))


def _phase_event(old: TccLogBackupStatus, new: TccLogBackupStatus
                 ) -> tuple[str, str, str] | None:
    if new.phase == old.phase:
        return None
    if new.phase == "Running":
        return "Normal", EVENT_BACKUP_STARTED, f"Job {new.job_name} started"
    if new.phase == "Succeeded":
        where = f" to {new.location}" if new.location else ""
        return "Normal", EVENT_BACKUP_SUCCEEDED, f"Backup {new.backup_label or ''}{where} done"
    if new.phase == "Failed":
        return "Warning", EVENT_BACKUP_FAILED, new.message
    return None
