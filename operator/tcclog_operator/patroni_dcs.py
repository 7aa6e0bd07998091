"""Patroni's dynamic configuration kept in step with the spec after bootstrap.

`bootstrap.dcs` in patroni.yaml is read once, when the cluster is initialised; after that
Patroni reads synchronous_mode, the timings and the cluster-wide PostgreSQL parameters
only from its DCS: with the Kubernetes DCS, the `config` annotation of the `<scope>-config`
ConfigMap. Changing `spec.postgres.synchronousMode` or `parameters` later therefore means
writing that annotation, exactly what `patronictl edit-config` does; every member applies
it on its next loop (parameters needing a restart show as "pending restart" in Patroni).

The operator owns `synchronous_mode`, the timings and `postgresql.parameters` there (the
latter is replaced as a whole, so a parameter removed from the spec goes away); every
other key Patroni or an admin put in stays.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from .kube import ApiError, Kube
from .models import TccLog
from .render.meta import names
from .render.patroni import patroni_config

CONFIG_ANNOTATION = "config"


def config_map_name(tcclog: TccLog) -> str:
    return f"{names(tcclog).patroni_scope}-config"


def desired_dynamic_config(tcclog: TccLog) -> dict[str, Any]:
    """What the spec asks of the DCS: the same dict patroni.yaml bootstraps with."""
    return dict(patroni_config(tcclog)["bootstrap"]["dcs"])


def updated_dynamic_config(current: Mapping[str, Any], tcclog: TccLog) -> dict[str, Any] | None:
    """The DCS config to write, or None when it already says what the spec asks."""
    desired = desired_dynamic_config(tcclog)
    postgresql = {**(current.get("postgresql") or {}), **desired.get("postgresql", {})}
    updated = {**current, **desired, "postgresql": postgresql}
    return None if updated == dict(current) else updated


SyncResult = Literal["in-line", "updated", "pending"]


def sync_dynamic_config(kube: Kube, tcclog: TccLog) -> SyncResult:
    """Bring the DCS config in line with the spec. "pending" when Patroni has not created
    its config yet or wrote it concurrently: the next reconcile tries again."""
    namespace = tcclog.metadata.namespace or ""
    config_map = kube.get("ConfigMap", namespace, config_map_name(tcclog))
    if config_map is None:
        return "pending"
    raw = (config_map["metadata"].get("annotations") or {}).get(CONFIG_ANNOTATION) or "{}"
    try:
        current = json.loads(raw)
    except ValueError:
        current = {}
    updated = updated_dynamic_config(current if isinstance(current, dict) else {}, tcclog)
    if updated is None:
        return "in-line"
    try:
        kube.merge_patch("ConfigMap", namespace, config_map_name(tcclog), {"metadata": {
            # Optimistic concurrency: never overwrite a change Patroni made meanwhile.
            "resourceVersion": config_map["metadata"]["resourceVersion"],
            "annotations": {CONFIG_ANNOTATION: json.dumps(updated, separators=(",", ":"))},
        }})
    except ApiError as exc:
        if exc.status == 409:
            return "pending"
        raise
    return "updated"
