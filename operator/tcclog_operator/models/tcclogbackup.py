"""TccLogBackup: one on-demand backup of a TccLog's database, run as a Job.

The spec is a request and never changes (a new backup is a new object); the status is
the Job's story: phase, start and end, and what the backup produced (pgBackRest label,
size, location) as reported by the backup container itself.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .common import ApiModel, cel, validated
from .tcclog import GROUP, ApiObject, ObjectMeta

BACKUP_KIND = "TccLogBackup"
BACKUP_PLURAL = "tcclogbackups"
BACKUP_SINGULAR = "tcclogbackup"
BACKUP_SHORT_NAMES = ("tccbackup",)
#: The Job is named `tcclogbackup-<name>`, and a Job name must fit a 63-character label.
BACKUP_MAX_NAME_LENGTH = 50

BackupMethod = Literal["full", "diff", "incr", "logical"]
BackupPhase = Literal["Pending", "Running", "Succeeded", "Failed"]
TERMINAL_PHASES: tuple[BackupPhase, ...] = ("Succeeded", "Failed")


class TccLogRef(ApiModel):
    """The TccLog (same namespace) whose database is backed up."""

    name: str = Field(min_length=1, max_length=63, description="Name of the TccLog.")


class TccLogBackupSpec(ApiModel):
    """What to back up, and how. Immutable: create a new TccLogBackup for a new backup."""

    model_config = validated(
        cel("self == oldSelf", "spec is immutable: create a new TccLogBackup instead")
    )

    tcclog_ref: TccLogRef = Field(description="The TccLog to back up; it needs spec.backup.")
    method: BackupMethod = Field(
        "full",
        description="full, diff or incr: a pgBackRest backup (diff/incr build on the last "
        "full one); logical: a pg_dump archive written by the app image.",
    )


class TccLogBackupStatus(ApiModel):
    """What happened, written by the operator."""

    phase: BackupPhase | None = Field(
        None, description="Pending, Running, Succeeded or Failed (final)."
    )
    message: str = Field("", max_length=4096, description="Why the backup is in this phase.")
    job_name: str | None = Field(None, max_length=63, description="The Job running the backup.")
    start_time: str | None = Field(None, description="When the Job started (RFC 3339).")
    completion_time: str | None = Field(
        None, description="When the backup finished, successfully or not (RFC 3339)."
    )
    backup_label: str | None = Field(
        None, max_length=256, description="pgBackRest backup label, e.g. 20261204-101500F."
    )
    size_bytes: int | None = Field(None, ge=0, description="Size of the backup as stored.")
    location: str | None = Field(
        None, max_length=2048, description="Where the backup is, e.g. s3://bucket/path."
    )


class TccLogBackup(ApiObject):
    """A whole TccLogBackup object (kopf body, API response or YAML)."""

    api_version: Literal["tcclog.com/v1alpha1"] = "tcclog.com/v1alpha1"
    kind: Literal["TccLogBackup"] = "TccLogBackup"
    metadata: ObjectMeta
    spec: TccLogBackupSpec
    status: TccLogBackupStatus | None = None


__all__ = [
    "BACKUP_KIND",
    "BACKUP_MAX_NAME_LENGTH",
    "BACKUP_PLURAL",
    "BACKUP_SHORT_NAMES",
    "BACKUP_SINGULAR",
    "GROUP",
    "TERMINAL_PHASES",
    "BackupMethod",
    "BackupPhase",
    "TccLogBackup",
    "TccLogBackupSpec",
    "TccLogBackupStatus",
    "TccLogRef",
]
