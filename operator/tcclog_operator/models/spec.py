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
from .common import ApiModel, cel
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
    backend: Backend = Field(default_factory=Backend, description="The API server.")
    ai: Ai | None = Field(None, description="AI assistant endpoint. Leave out to disable AI.")
    postgres: Postgres = Field(default_factory=Postgres, description="PostgreSQL (Patroni).")
    redis: Redis = Field(default_factory=Redis, description="Redis with Sentinel.")
    backup: Backup | None = Field(None, description="Backups to S3. Leave out for none.")
    monitoring: Monitoring = Field(
        default_factory=Monitoring, description="Prometheus alerts and scraping."
    )


__all__ = [
    "S3",
    "Ai",
    "Autoscaling",
    "Backend",
    "BackendResources",
    "Backup",
    "BackupRetention",
    "Ingress",
    "Monitoring",
    "PodDisruptionBudget",
    "Postgres",
    "PostgresResources",
    "PostgresStorage",
    "Redis",
    "RedisResources",
    "TccLogSpec",
]
