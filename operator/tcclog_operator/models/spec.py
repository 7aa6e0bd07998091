"""The TccLog spec: what a user (or Argo CD) asks for.

Each field says what it is, its default and its limits; models/crd.py turns these models
into the CRD schema, so the descriptions are what `kubectl explain tcc.spec...` prints.
Cross-field rules are CEL `x-kubernetes-validations` declared next to the fields they
check, so the API server refuses a bad object before the operator sees it. The exact
messages are listed in docs/API.md; e2e tests match on them, so change both together.
"""

from __future__ import annotations

from pydantic import Field

from .backend import Ai, Autoscaling, Backend, BackendResources, Ingress, PodDisruptionBudget
from .bootstrap import BOOTSTRAP_IMMUTABLE, Bootstrap, Recovery, RecoverySource
from .common import ApiModel, cel, validated
from .data import (
    S3,
    Backup,
    BackupRetention,
    Monitoring,
    Postgres,
    PostgresResources,
    PostgresStorage,
    Redis,
    RedisResources,
)

VERSION_PATTERN = r"^v?[0-9]+[.][0-9]+[.][0-9]+(-[0-9A-Za-z.-]+)?$"  # no backslashes: CEL strings


class TccLogSpec(ApiModel):
    """Desired state of one TCC Log installation."""

    model_config = validated(BOOTSTRAP_IMMUTABLE)

    version: str = Field(
        min_length=1,
        max_length=64,
        description="App version: the image tag of the backend. Changing it is a rolling upgrade.",
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    f"self.matches('{VERSION_PATTERN}')",
                    "version must be a release version such as 0.1.0",
                )
            ]
        },
    )
    backend: Backend = Field(
        default_factory=Backend,
        description="The API server (FastAPI): Deployment, Service, ConfigMap, "
        "Secret, ServiceAccount, PodDisruptionBudget, optional HPA and Ingress.",
    )
    ai: Ai | None = Field(
        None,
        description="The AI assistant's OpenAI-compatible endpoint (LM Studio by "
        "default). Leave out to run without the assistant.",
    )
    postgres: Postgres = Field(
        default_factory=Postgres,
        description="PostgreSQL run by Patroni: one primary, instances-1 streaming "
        "replicas, automatic failover; Services <name>-postgres-rw and -ro.",
    )
    redis: Redis = Field(
        default_factory=Redis,
        description="Redis (1 master + replicas) watched by Redis Sentinel for "
        "automatic failover; a Redis outage only costs the app cache misses.",
    )
    backup: Backup | None = Field(
        None,
        description="Scheduled backups to S3-compatible storage: pgBackRest "
        "(physical, with WAL archiving) plus a logical pg_dump. Leave out for none.",
    )
    bootstrap: Bootstrap | None = Field(
        None,
        description="How the database is created: leave out for an empty one, or recover "
        "it from another cluster's pgBackRest backups (point in time). Immutable.",
    )
    monitoring: Monitoring = Field(
        default_factory=Monitoring,
        description="PrometheusRule and ServiceMonitor/PodMonitor, created only when "
        "the Prometheus Operator CRDs exist (status says so otherwise).",
    )


__all__ = [
    "S3",
    "Ai",
    "Autoscaling",
    "Backend",
    "BackendResources",
    "Backup",
    "BackupRetention",
    "Bootstrap",
    "Ingress",
    "Monitoring",
    "PodDisruptionBudget",
    "Postgres",
    "PostgresResources",
    "PostgresStorage",
    "Recovery",
    "RecoverySource",
    "Redis",
    "RedisResources",
    "TccLogSpec",
]
