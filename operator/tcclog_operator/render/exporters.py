"""Prometheus exporter sidecars for the data tier: postgres_exporter in every PostgreSQL
pod, redis_exporter in every Redis pod. Pure.

Each sidecar talks to its server over loopback with credentials from the generated
Secrets and serves `/metrics` on a container port named `metrics`, which the PodMonitors
in render/monitoring.py scrape. They carry no probes on purpose: a failing exporter must
never make a database pod unready (that would take it out of the -rw/-ro Services).

The metric names the alerts and the dashboard read are listed here, checked against the
pinned exporter versions (postgres_exporter 0.20: collectors `replication` and
`stat_archiver`; redis_exporter 1.89: INFO fields), so a test can refuse any query that
names a metric nobody exports.
"""

from __future__ import annotations

from typing import Any

from ..models import TccLog
from .credentials import POSTGRES_READONLY_PASSWORD_KEY, REDIS_PASSWORD_KEY
from .meta import DATABASE_NAME, POSTGRES_PORT, READONLY_USER, REDIS_PORT, RenderSettings, names
from .security import restricted_container_security_context

METRICS_PORT_NAME = "metrics"
POSTGRES_EXPORTER_PORT = 9187
REDIS_EXPORTER_PORT = 9121
POSTGRES_EXPORTER = "postgres-exporter"
REDIS_EXPORTER = "redis-exporter"

#: Small and bounded: an exporter holds one connection and a few hundred series.
EXPORTER_RESOURCES: dict[str, Any] = {
    "requests": {"cpu": "10m", "memory": "32Mi"},
    "limits": {"cpu": "100m", "memory": "64Mi"},
}

#: postgres_exporter metrics the rules and dashboard use (collectors enabled by default).
POSTGRES_EXPORTER_METRICS = frozenset({
    "pg_up",                                # 1 when the last scrape could connect
    "pg_replication_lag_seconds",           # replica: seconds behind (0 when caught up)
    "pg_replication_is_replica",            # 1 on a replica, 0 on the primary
    "pg_stat_archiver_archived_count",      # WAL segments archived (counter)
    "pg_stat_archiver_failed_count",        # failed archive_command runs (counter)
    "pg_stat_archiver_last_archive_age",    # seconds since the last archived segment
})
#: redis_exporter metrics the rules and dashboard use.
REDIS_EXPORTER_METRICS = frozenset({
    "redis_up",
    "redis_instance_info",                  # label role="master" | "slave"
    "redis_connected_slaves",
    "redis_master_link_up",
    "redis_connected_clients",
    "redis_memory_used_bytes",
    "redis_commands_processed_total",
})


def _secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _port(port: int) -> list[dict[str, Any]]:
    return [{"name": METRICS_PORT_NAME, "containerPort": port, "protocol": "TCP"}]


def postgres_exporter_container(tcclog: TccLog, settings: RenderSettings) -> dict[str, Any]:
    """Connects as the read-only role over loopback (pg_hba: scram on host lines).

    Everything the alerts read (pg_last_xact_replay_timestamp(), pg_stat_archiver) is
    readable by any role; pg_monitor gives the other default collectors full detail.
    """
    return {
        "name": POSTGRES_EXPORTER,
        "image": settings.postgres_exporter_image,
        "imagePullPolicy": settings.image_pull_policy,
        "args": [f"--web.listen-address=:{POSTGRES_EXPORTER_PORT}", "--log.format=json"],
        "env": [
            # Loopback inside the pod: no TLS needed, and the password never leaves it.
            {"name": "DATA_SOURCE_URI",
             "value": f"127.0.0.1:{POSTGRES_PORT}/{DATABASE_NAME}?sslmode=disable"},
            {"name": "DATA_SOURCE_USER", "value": READONLY_USER},
            _secret_env("DATA_SOURCE_PASS", names(tcclog).postgres_credentials,
                        POSTGRES_READONLY_PASSWORD_KEY),
        ],
        "ports": _port(POSTGRES_EXPORTER_PORT),
        "resources": EXPORTER_RESOURCES,
        "securityContext": restricted_container_security_context(),
    }


def redis_exporter_container(tcclog: TccLog, settings: RenderSettings) -> dict[str, Any]:
    return {
        "name": REDIS_EXPORTER,
        "image": settings.redis_exporter_image,
        "imagePullPolicy": settings.image_pull_policy,
        "env": [
            {"name": "REDIS_ADDR", "value": f"redis://127.0.0.1:{REDIS_PORT}"},
            _secret_env("REDIS_PASSWORD", names(tcclog).redis_credentials, REDIS_PASSWORD_KEY),
            {"name": "REDIS_EXPORTER_WEB_LISTEN_ADDRESS", "value": f":{REDIS_EXPORTER_PORT}"},
            {"name": "REDIS_EXPORTER_LOG_FORMAT", "value": "json"},
        ],
        "ports": _port(REDIS_EXPORTER_PORT),
        "resources": EXPORTER_RESOURCES,
        "securityContext": restricted_container_security_context(),
    }


def metrics_service_port(port: int) -> dict[str, Any]:
    """The `metrics` port on a headless Service (for scrapers that discover endpoints)."""
    return {"name": METRICS_PORT_NAME, "port": port, "targetPort": METRICS_PORT_NAME,
            "protocol": "TCP"}
