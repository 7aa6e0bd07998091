"""The TccLog status: written only by the operator, only through the status subresource.

Conditions follow metav1.Condition (type, status, reason, message, lastTransitionTime,
observedGeneration) so kstatus, `kubectl wait --for=condition=Ready` and Argo CD health
checks understand them without a custom plugin.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .common import ApiModel

ConditionType = Literal[
    "Ready", "Progressing", "Degraded", "BackupHealthy", "MonitoringAvailable"]


class Condition(ApiModel):
    """One observation of the TccLog's state, in the metav1.Condition shape."""

    type: str = Field(
        max_length=316,
        description="Ready (summary), Progressing (work in flight), Degraded; with backups "
        "BackupHealthy; with monitoring asked for, MonitoringAvailable.",
    )
    status: Literal["True", "False", "Unknown"] = Field(description="True, False or Unknown.")
    reason: str = Field(
        max_length=1024,
        pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
        description="CamelCase reason for the last transition, for machines.",
    )
    message: str = Field("", max_length=32768, description="Explanation for humans.")
    last_transition_time: str = Field(
        description="When status last changed (RFC 3339). Unchanged while status stays the same."
    )
    observed_generation: int | None = Field(
        None, ge=0, description="metadata.generation the condition was computed from."
    )


class ComponentStatus(ApiModel):
    """Summary of one component (backend, postgres, redis, backup, monitoring)."""

    ready: bool = Field(False, description="The component is serving as asked.")
    summary: str = Field("", max_length=64, description="Short form, e.g. 2/3 (ready/desired).")
    message: str = Field("", max_length=4096, description="What the operator sees, for humans.")
    desired_replicas: int | None = Field(None, ge=0, description="Replicas asked for.")
    ready_replicas: int | None = Field(None, ge=0, description="Replicas ready.")
    updated_replicas: int | None = Field(
        None, ge=0, description="Replicas running the current template."
    )
    metrics_available: bool | None = Field(
        None, description="Backend HPA: the metrics API answers (no metrics-server: false)."
    )
    primary: str | None = Field(None, max_length=253, description="Postgres: current primary pod.")
    master: str | None = Field(None, max_length=253, description="Redis: current master pod.")


class Components(ApiModel):
    """Per-component summaries."""

    backend: ComponentStatus | None = Field(None, description="The API server.")
    postgres: ComponentStatus | None = Field(None, description="PostgreSQL.")
    redis: ComponentStatus | None = Field(None, description="Redis and Sentinel.")
    backup: ComponentStatus | None = Field(None, description="Backups.")
    monitoring: ComponentStatus | None = Field(None, description="Prometheus objects.")


class Endpoints(ApiModel):
    """Where clients reach the installation (Service DNS names or the Ingress URL)."""

    api: str | None = Field(None, max_length=2048, description="Base URL of the API.")
    postgres_primary: str | None = Field(None, max_length=253, description="Read-write Service.")
    postgres_replicas: str | None = Field(None, max_length=253, description="Read-only Service.")
    redis_sentinel: str | None = Field(None, max_length=253, description="Sentinel Service.")


class TccLogStatus(ApiModel):
    """Observed state, written by the operator."""

    observed_generation: int | None = Field(
        None, ge=0, description="metadata.generation the operator last acted on."
    )
    conditions: list[Condition] = Field(
        default_factory=list,
        max_length=16,
        description="Ready, Progressing, Degraded, BackupHealthy, MonitoringAvailable.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    components: Components = Field(
        default_factory=Components, description="Per-component summaries."
    )
    endpoints: Endpoints = Field(default_factory=Endpoints, description="Where to connect.")
    last_successful_backup: str | None = Field(
        None,
        description="When the last scheduled or on-demand backup (pgBackRest or logical) "
        "succeeded (RFC 3339). Failed backups never move it.",
    )
