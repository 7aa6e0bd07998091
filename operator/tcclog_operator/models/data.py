"""Spec sections for the data tier and operations: postgres, redis, backup, monitoring.

These sections exist in the API now; later issues fill in what they drive.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .common import (
    DNS_SUBDOMAIN_PATTERN,
    ApiModel,
    Quantity,
    ResourceRequirements,
    S3CredentialsSecretRef,
    cel,
    default_resources,
    requests_within_limits_rules,
    validated,
)


class PostgresResources(ResourceRequirements):
    """CPU and memory of each PostgreSQL container. Requests must not exceed limits."""

    model_config = requests_within_limits_rules("postgres")


class RedisResources(ResourceRequirements):
    """CPU and memory of each Redis container. Requests must not exceed limits."""

    model_config = requests_within_limits_rules("redis")


# Parameters Patroni and the operator set themselves; a user value would break replication.
PATRONI_MANAGED_PARAMETERS = (
    "listen_addresses",
    "port",
    "data_directory",
    "hba_file",
    "ident_file",
    "cluster_name",
    "wal_level",
    "hot_standby",
    "max_wal_senders",
    "max_replication_slots",
    "wal_log_hints",
    "archive_command",
    "restore_command",
    "archive_mode",
    "archive_timeout",
)


ParameterValue = Annotated[str, Field(max_length=256)]


class PostgresStorage(ApiModel):
    """The PersistentVolumeClaim of each PostgreSQL instance."""

    model_config = validated(
        cel(
            "(has(self.storageClassName) ? self.storageClassName : '') == "
            "(has(oldSelf.storageClassName) ? oldSelf.storageClassName : '')",
            "postgres.storage.storageClassName is immutable",
            ".storageClassName",
        ),
        cel(
            "quantity(string(self.size)).compareTo(quantity(string(oldSelf.size))) >= 0",
            "postgres.storage.size cannot be decreased",
            ".size",
        ),
    )

    size: Quantity = Field("10Gi", description="Volume size per instance, e.g. 100Gi. Grow only.")
    storage_class_name: str | None = Field(
        None,
        max_length=253,
        pattern=DNS_SUBDOMAIN_PATTERN,
        description="StorageClass of the volumes. Empty: the cluster default. Immutable.",
    )


class Postgres(ApiModel):
    """PostgreSQL run by Patroni: one primary and instances-1 streaming replicas."""

    model_config = validated(
        cel(
            "!self.synchronousMode || self.instances >= 2",
            "postgres.synchronousMode requires at least 2 instances",
            ".synchronousMode",
        )
    )

    instances: int = Field(1, ge=1, le=9, description="Instances: 1 primary plus replicas.")
    storage: PostgresStorage = Field(
        default_factory=PostgresStorage, description="Volume of each instance."
    )
    parameters: dict[str, ParameterValue] = Field(
        default_factory=dict,
        max_length=64,
        description='postgresql.conf parameters, e.g. max_connections: "200". Parameters '
        "Patroni manages (listen_addresses, port, wal_level, ...) are refused.",
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    "!self.exists(k, k in "
                    + "["
                    + ", ".join(f"'{p}'" for p in PATRONI_MANAGED_PARAMETERS)
                    + "])",
                    "postgres.parameters must not set parameters managed by Patroni: "
                    + ", ".join(PATRONI_MANAGED_PARAMETERS),
                )
            ],
        },
    )
    synchronous_mode: bool = Field(
        False,
        description="Patroni synchronous replication: a commit waits for one replica. "
        "Needs instances >= 2.",
    )
    resources: PostgresResources = default_resources(PostgresResources, "250m", "512Mi", "1Gi")


class Redis(ApiModel):
    """Redis (1 master + replicas) watched by Redis Sentinel for automatic failover."""

    model_config = validated(
        cel(
            "self.sentinels % 2 == 1",
            "redis.sentinels must be an odd number so a majority can elect a master",
            ".sentinels",
        ),
        cel(
            "self.replicas == 1 || self.sentinels >= 3",
            "redis.sentinels must be at least 3 when redis.replicas is greater than 1",
            ".sentinels",
        ),
    )

    replicas: int = Field(1, ge=1, le=9, description="Redis servers: 1 master plus replicas.")
    sentinels: int = Field(3, ge=1, le=7, description="Sentinel processes; odd.")
    resources: RedisResources = default_resources(RedisResources, "50m", "64Mi", "256Mi")


class BackupRetention(ApiModel):
    """How many backups are kept in S3."""

    full_backups: int = Field(
        7,
        ge=1,
        le=365,
        description="Full pgBackRest backups kept (repo1-retention-full). WAL older than the "
        "oldest kept full backup expires with it: this bounds how far back PITR reaches.",
    )
    differential_backups: int = Field(
        8,
        ge=1,
        le=365,
        description="Differential pgBackRest backups kept (repo1-retention-diff); 8 is two "
        "days of the default 6-hourly schedule.",
    )
    logical_dumps: int = Field(7, ge=1, le=365, description="Logical pg_dump archives kept.")


CRON_PATTERN = (
    "^(@(yearly|annually|monthly|weekly|daily|hourly)|"
    "[0-9A-Za-z*/,?-]+( +[0-9A-Za-z*/,?-]+){4})$"
)
_HTTP_URL = "isURL(self) && url(self).getScheme() in ['http', 'https']"


class S3(ApiModel):
    """S3-compatible object storage for backups."""

    bucket: str | None = Field(
        None, min_length=3, max_length=63, description="Bucket name. Required when enabled."
    )
    endpoint: str | None = Field(
        None,
        max_length=2048,
        description="Endpoint URL for non-AWS storage (MinIO, Ceph), e.g. https://minio:9000.",
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(_HTTP_URL, "backup.s3.endpoint must be an http:// or https:// URL")
            ]
        },
    )
    region: str = Field("us-east-1", min_length=1, max_length=64, description="S3 region.")
    path: str = Field(
        "/", max_length=1024, pattern=r"^/", description="Prefix inside the bucket, e.g. /tcc."
    )
    force_path_style: bool = Field(
        True, description="Path-style URLs (bucket in the path); most non-AWS servers need it."
    )
    verify_tls: bool = Field(True, description="Verify the endpoint's TLS certificate.")
    credentials_secret_ref: S3CredentialsSecretRef | None = Field(
        None, description="Secret with the access keys. Required when enabled."
    )


class Backup(ApiModel):
    """Scheduled backups: pgBackRest to S3 plus a logical pg_dump."""

    model_config = validated(
        cel(
            "!self.enabled || (has(self.s3) && has(self.s3.bucket))",
            "backup.s3.bucket is required when backup is enabled",
            ".s3",
        ),
        cel(
            "!self.enabled || (has(self.s3) && has(self.s3.credentialsSecretRef))",
            "backup.s3.credentialsSecretRef is required when backup is enabled",
            ".s3",
        ),
    )

    enabled: bool = Field(True, description="Run scheduled backups.")
    schedule: str = Field(
        "0 3 * * *",
        min_length=1,
        max_length=64,
        description='Cron schedule of the full backup, e.g. "0 3 * * *" (03:00 daily).',
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    f"self.matches('{CRON_PATTERN}')",
                    "backup.schedule must be a cron expression with 5 fields, e.g. '0 3 * * *'",
                )
            ]
        },
    )
    differential_schedule: str = Field(
        "30 */6 * * *",
        min_length=1,
        max_length=64,
        description='Cron schedule of the differential pgBackRest backup (changes since the '
        'last full one), e.g. "30 */6 * * *" (every 6 hours at :30).',
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    f"self.matches('{CRON_PATTERN}')",
                    "backup.differentialSchedule must be a cron expression with 5 fields, "
                    "e.g. '30 */6 * * *'",
                )
            ]
        },
    )
    logical_schedule: str = Field(
        "0 4 * * *",
        min_length=1,
        max_length=64,
        description='Cron schedule of the logical pg_dump (app image, `tcclog backup`), '
        'e.g. "0 4 * * *" (04:00 daily, after the full backup).',
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    f"self.matches('{CRON_PATTERN}')",
                    "backup.logicalSchedule must be a cron expression with 5 fields, "
                    "e.g. '0 4 * * *'",
                )
            ]
        },
    )
    verify_schedule: str = Field(
        "0 5 * * 0",
        min_length=1,
        max_length=64,
        description='Cron schedule of `pgbackrest verify` (checks every backup and WAL '
        'file in the repository), e.g. "0 5 * * 0" (Sundays 05:00).',
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    f"self.matches('{CRON_PATTERN}')",
                    "backup.verifySchedule must be a cron expression with 5 fields, "
                    "e.g. '0 5 * * 0'",
                )
            ]
        },
    )
    retention: BackupRetention = Field(
        default_factory=BackupRetention, description="How many backups are kept."
    )
    s3: S3 | None = Field(None, description="Where backups go.")


class Monitoring(ApiModel):
    """Prometheus integration; created only when the Prometheus Operator CRDs exist."""

    prometheus_rule: bool = Field(True, description="Create a PrometheusRule with alerts.")
    service_monitor: bool = Field(True, description="Create ServiceMonitor/PodMonitor objects.")
    labels: dict[str, str] = Field(
        default_factory=dict,
        max_length=16,
        description="Extra labels on monitoring objects, to match a Prometheus selector.",
    )
