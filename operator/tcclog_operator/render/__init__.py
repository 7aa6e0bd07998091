"""Pure render: one TccLog in, the list of desired Kubernetes objects out.

Public interface (the reconcile and `tcclog-operator render` both use exactly this):

    render(tcclog, settings=RenderSettings(), *, secret_values,
           prometheus_crds_present=False) -> list[dict]

- `tcclog`: `TccLog.from_body(body)`; metadata.name and metadata.namespace are required,
  metadata.uid gives every child a controller owner reference (without a uid, as in
  `render -f FILE`, children have no ownerReferences).
- `settings`: `RenderSettings` (image repository, pull policy), normally
  `OperatorSettings.render_settings()`.
- `secret_values`: name -> key -> value for every generated Secret, complete. Build it
  with `fill_secret_values(tcclog, existing)` where `existing` is what the cluster holds
  (`values_from_secret_objects(...)`); see render/credentials.py. Render never invents a
  value, so it is deterministic and a reconcile never rotates a credential.
- Returns plain dicts (apiVersion, kind, metadata with namespace/labels/ownerReferences,
  ...), in apply order, ready for server-side apply. No I/O, no clock, no randomness.
"""

from __future__ import annotations

from typing import Any

from ..models import TccLog
from .backend import render_backend
from .backup import render_backup
from .credentials import (
    SecretValues,
    fill_secret_values,
    new_secret_value,
    render_secrets,
    required_secrets,
    values_from_secret_objects,
)
from .meta import (
    CONFIG_HASH_ANNOTATION,
    MANAGED_BY_SELECTOR,
    ChildNames,
    RenderSettings,
    endpoints,
    labels,
    names,
    owner_reference,
    selector_labels,
)
from .monitoring import render_monitoring
from .network import render_network_policies
from .postgres import render_postgres
from .redis import render_redis

#: (apiVersion, kind) of every child render can produce: what kube.py lists to prune.
MANAGED_KINDS: tuple[tuple[str, str], ...] = (
    ("v1", "Secret"),
    ("v1", "ServiceAccount"),
    ("v1", "ConfigMap"),
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("policy/v1", "PodDisruptionBudget"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("networking.k8s.io/v1", "Ingress"),
    ("apps/v1", "StatefulSet"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("batch/v1", "CronJob"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PodMonitor"),
)


def render(
    tcclog: TccLog,
    settings: RenderSettings | None = None,
    *,
    secret_values: SecretValues,
    prometheus_crds_present: bool = False,
) -> list[dict[str, Any]]:
    """Every child object of `tcclog`, in a fixed order (secrets and config first)."""
    settings = settings or RenderSettings()
    return [
        *render_secrets(tcclog, secret_values),
        *render_backend(tcclog, settings, secret_values),
        *render_postgres(tcclog, settings, secret_values),
        *render_redis(tcclog, settings, secret_values),
        *render_backup(tcclog, settings),
        *render_monitoring(tcclog, prometheus_crds_present=prometheus_crds_present),
        *render_network_policies(tcclog, settings),
    ]


__all__ = [
    "CONFIG_HASH_ANNOTATION",
    "MANAGED_BY_SELECTOR",
    "MANAGED_KINDS",
    "ChildNames",
    "RenderSettings",
    "SecretValues",
    "endpoints",
    "fill_secret_values",
    "labels",
    "names",
    "new_secret_value",
    "owner_reference",
    "render",
    "required_secrets",
    "selector_labels",
    "values_from_secret_objects",
]
