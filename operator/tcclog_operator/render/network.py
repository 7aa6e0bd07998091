"""NetworkPolicies: PostgreSQL and Redis reachable only from the backend and backup pods
(plus their own peers, for replication, Patroni's REST API and Sentinel gossip). Pure.

Only ingress is restricted: Patroni must reach the Kubernetes API, whose address and
port differ per cluster, so egress rules would be guesses.
"""

from __future__ import annotations

from typing import Any

from ..models import TccLog
from .exporters import POSTGRES_EXPORTER_PORT, REDIS_EXPORTER_PORT
from .meta import (
    PATRONI_PORT,
    PGBACKREST_PORT,
    POSTGRES_PORT,
    REDIS_PORT,
    SENTINEL_PORT,
    RenderSettings,
    names,
    object_meta,
    selector_labels,
)

BACKEND, BACKUP = "backend", "backup"
POSTGRES, REDIS, SENTINEL = "postgres", "redis", "sentinel"


def _from(tcclog: TccLog, *components: str) -> list[dict[str, Any]]:
    return [{"podSelector": {"matchLabels": selector_labels(tcclog, c)}} for c in components]


def _ports(*ports: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": port} for port in ports]


def _policy(tcclog: TccLog, component: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": object_meta(tcclog, names(tcclog).network_policy(component), component),
        "spec": {
            "podSelector": {"matchLabels": selector_labels(tcclog, component)},
            "policyTypes": ["Ingress"],
            "ingress": rules,
        },
    }


def _operator(settings: RenderSettings) -> dict[str, Any]:
    """The operator's pods (deploy/ labels them app.kubernetes.io/name=tcclog-operator)."""
    return {
        "namespaceSelector": {
            "matchLabels": {"kubernetes.io/metadata.name": settings.operator_namespace}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "tcclog-operator"}},
    }


# Prometheus runs wherever the cluster admin put it, so the exporters' metrics ports (and
# only those: they serve numbers, never data or credentials) are open to every namespace.
_ANY_POD: list[dict[str, Any]] = [{"namespaceSelector": {}}]


def render_network_policies(tcclog: TccLog, settings: RenderSettings | None = None
                            ) -> list[dict[str, Any]]:
    settings = settings or RenderSettings()
    return [
        _policy(tcclog, POSTGRES, [
            {"from": _from(tcclog, BACKEND, BACKUP), "ports": _ports(POSTGRES_PORT)},
            # Backup Jobs drive pgBackRest's TLS server in each member (render/pgbackrest.py).
            {"from": _from(tcclog, BACKUP), "ports": _ports(PGBACKREST_PORT)},
            # Members: streaming replication, pg_rewind and Patroni's REST API.
            {"from": _from(tcclog, POSTGRES), "ports": _ports(POSTGRES_PORT, PATRONI_PORT)},
            {"from": _ANY_POD, "ports": _ports(POSTGRES_EXPORTER_PORT)},
        ]),
        _policy(tcclog, REDIS, [
            {"from": _from(tcclog, BACKEND, REDIS, SENTINEL), "ports": _ports(REDIS_PORT)},
            {"from": _ANY_POD, "ports": _ports(REDIS_EXPORTER_PORT)},
        ]),
        _policy(tcclog, SENTINEL, [
            # The backend asks the Sentinels where the master is; Sentinels talk to each
            # other; Redis pods ask them at start-up which master to follow.
            # The operator asks them too, for status (sentinel.py).
            {"from": [*_from(tcclog, BACKEND, SENTINEL, REDIS), _operator(settings)],
             "ports": _ports(SENTINEL_PORT)},
        ]),
    ]
