"""Operator settings: one class, read once at startup (`OperatorSettings()`), never at import.

Every field can be set from the environment with the TCCLOG_OPERATOR_ prefix, e.g.
TCCLOG_OPERATOR_NAMESPACES=tcc,tcc-staging or TCCLOG_OPERATOR_APP_IMAGE_REPOSITORY=...
"""

from __future__ import annotations

import random
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .render.meta import RenderSettings


class OperatorSettings(BaseSettings):
    """Everything the operator process is configured with."""

    model_config = SettingsConfigDict(env_prefix="TCCLOG_OPERATOR_", extra="ignore", frozen=True)

    namespaces: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Namespaces to watch, comma-separated in the environment. Empty: all.",
    )
    field_manager: str = Field(
        "tcclog-operator", min_length=1, description="Server-side apply field manager."
    )
    app_image_repository: str = Field(
        "ghcr.io/tcclog/tcclog",
        min_length=1,
        description="Image repository of the app; the tag is spec.version.",
    )
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    # The other images, e.g. for a registry mirror in an air-gapped cluster.
    postgres_image_repository: str = Field(
        RenderSettings.postgres_image_repository, min_length=1,
        description="PostgreSQL + Patroni + pgBackRest image (Dockerfile target `postgres`); "
        "the tag is spec.version.")
    redis_image: str = Field(RenderSettings.redis_image, min_length=1,
                             description="Redis image (server, Sentinel, redis-cli).")
    postgres_exporter_image: str = Field(
        RenderSettings.postgres_exporter_image, min_length=1,
        description="postgres_exporter sidecar image.")
    redis_exporter_image: str = Field(
        RenderSettings.redis_exporter_image, min_length=1,
        description="redis_exporter sidecar image.")
    resync_interval_seconds: float = Field(
        60.0, gt=0, description="How often each TccLog is reconciled anyway: folds child "
        "status back and repairs drift even if a watch event was missed."
    )
    discovery_interval_seconds: float = Field(
        30.0, gt=0, description="How long the answer to 'are the Prometheus Operator CRDs "
        "installed?' is reused before asking the API server again.",
    )
    sentinel_interval_seconds: float = Field(
        10.0, gt=0, description="How often the Sentinels are asked which Redis pod is master.",
    )
    pod_namespace: str = Field(
        "tcclog-system", min_length=1,
        description="Namespace of the operator's own pod (the NetworkPolicies let it reach "
        "the Sentinels from there). deploy/ sets it with the downward API.",
    )
    peering_name: str = Field(
        "tcclog-operator", min_length=1, description="kopf peering object shared by replicas."
    )
    standalone: bool = Field(False, description="Skip peering (a single replica, or tests).")
    peering_lifetime_seconds: int = Field(
        60, ge=5, description="How long a replica's peering record counts after its last "
        "heartbeat: a crashed active replica is replaced after at most this long.")
    peering_priority: int = Field(
        default_factory=lambda: random.randint(1, 10_000),
        ge=0,
        description="kopf peering priority. Default: random per process, so replicas never "
        "tie (peers with equal priority would all pause).",
    )
    health_port: int = Field(8080, ge=1, le=65535, description="Liveness endpoint: /healthz.")
    metrics_port: int = Field(
        9090, ge=0, le=65535, description="Prometheus metrics on /metrics; 0 disables."
    )
    metrics_address: str = Field("0.0.0.0", description="Address the metrics server binds.")
    worker_limit: int = Field(
        50, ge=1, description="Most objects of one watched kind in processing at once "
        "(kopf queueing.worker_limit)."
    )
    max_workers: int = Field(
        16, ge=1,
        description="Threads running reconciles (kopf's handlers and child events share them).",
    )
    log_format: Literal["plain", "full", "json"] = "json"
    debug: bool = False

    @field_validator("namespaces", mode="before")
    @classmethod
    def _split_namespaces(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [ns.strip() for ns in value.split(",") if ns.strip()]
        return value

    @property
    def clusterwide(self) -> bool:
        return not self.namespaces

    @property
    def liveness_endpoint(self) -> str:
        return f"http://0.0.0.0:{self.health_port}/healthz"

    def render_settings(self) -> RenderSettings:
        return RenderSettings(
            operator_namespace=self.pod_namespace,
            app_image_repository=self.app_image_repository,
            image_pull_policy=self.image_pull_policy,
            postgres_image_repository=self.postgres_image_repository,
            redis_image=self.redis_image,
            postgres_exporter_image=self.postgres_exporter_image,
            redis_exporter_image=self.redis_exporter_image,
        )
