"""spec.bootstrap: how a new cluster's database starts. Empty (initdb) by default, or a
point-in-time recovery from another cluster's pgBackRest repository.

Immutable: bootstrap runs once, when the cluster is created; changing it afterwards could
never take effect, so the API server refuses it (rule on TccLogSpec).
"""

from __future__ import annotations

from pydantic import Field

from .common import ApiModel, S3CredentialsSecretRef, cel
from .data import _HTTP_URL, S3

#: RFC 3339 date-time with seconds and an explicit offset (no backslashes: CEL strings).
RFC3339_PATTERN = (
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?"
    "([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
STANZA_PATTERN = r"^[A-Za-z0-9][-_.A-Za-z0-9]*$"


class RecoveryCredentials(S3CredentialsSecretRef):
    """A Secret holding the access keys of the repository to recover from."""


class RecoveryS3(S3):
    """S3-compatible storage holding the old cluster's backups (fields as in backup.s3)."""

    bucket: str = Field(min_length=3, max_length=63, description="Bucket name.")
    endpoint: str | None = Field(
        None,
        max_length=2048,
        description="Endpoint URL for non-AWS storage (MinIO, Ceph), e.g. https://minio:9000.",
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(_HTTP_URL, "bootstrap.recovery.source.s3.endpoint must be an http:// or "
                    "https:// URL")
            ]
        },
    )
    credentials_secret_ref: RecoveryCredentials = Field(
        description="Secret with the access keys."
    )


class RecoverySource(ApiModel):
    """The pgBackRest repository (S3) and stanza of the cluster to recover from."""

    s3: RecoveryS3 = Field(
        description="Where the old cluster's backups are: the same fields as backup.s3 "
        "(its bucket, endpoint, path and credentials)."
    )
    stanza: str = Field(
        min_length=1,
        max_length=63,
        pattern=STANZA_PATTERN,
        description="pgBackRest stanza of the old cluster: the old TccLog's name.",
    )


class Recovery(ApiModel):
    """Restore the newest backup before targetTime, then replay WAL up to targetTime."""

    source: RecoverySource = Field(description="The repository to restore from.")
    target_time: str | None = Field(
        None,
        max_length=64,
        description="Point in time to recover to (RFC 3339, e.g. 2026-12-04T10:15:00Z). "
        "Leave out to replay every archived WAL file (the latest state).",
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    f"self.matches('{RFC3339_PATTERN}')",
                    "bootstrap.recovery.targetTime must be an RFC 3339 time such as "
                    "2026-12-04T10:15:00Z",
                )
            ]
        },
    )


class Bootstrap(ApiModel):
    """How the database is created: recovery from a backup instead of an empty initdb."""

    recovery: Recovery | None = Field(
        None,
        description="Point-in-time recovery from a pgBackRest repository in S3. "
        "Leave out for a new, empty database.",
    )


#: The TccLogSpec rule that makes spec.bootstrap immutable (added, removed or changed).
BOOTSTRAP_IMMUTABLE = cel(
    "has(self.bootstrap) == has(oldSelf.bootstrap) && "
    "(!has(self.bootstrap) || self.bootstrap == oldSelf.bootstrap)",
    "bootstrap is immutable: it only takes effect when the cluster is created",
    ".bootstrap",
)
