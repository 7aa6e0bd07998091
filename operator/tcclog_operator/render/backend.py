"""Backend (the TCC Log API server): ServiceAccount, ConfigMap, Deployment, Service, PDB,
HPA and Ingress. Pure: same TccLog and secret values in, same objects out.
"""

from __future__ import annotations

from typing import Any

from ..models import TccLog
from .credentials import (
    JWT_SECRET_KEY,
    POSTGRES_APP_PASSWORD_KEY,
    REDIS_PASSWORD_KEY,
    SecretValues,
)
from .meta import (
    CONFIG_HASH_ANNOTATION,
    RenderSettings,
    content_hash,
    labels,
    names,
    object_meta,
    selector_labels,
)
from .quantity import canonical_resources
from .security import pod_security_context, restricted_container_security_context
from .settings_env import app_config

COMPONENT = "backend"
CONTAINER = "backend"
HTTP_PORT = 8000
SERVICE_PORT = 80


def render_backend(
    tcclog: TccLog, settings: RenderSettings, secret_values: SecretValues
) -> list[dict[str, Any]]:
    """All backend objects, in apply order."""
    config = app_config(tcclog)
    objects = [
        service_account(tcclog),
        config_map(tcclog, config),
        deployment(tcclog, settings, config, secret_values),
        service(tcclog),
    ]
    optional = [pod_disruption_budget(tcclog), horizontal_pod_autoscaler(tcclog), ingress(tcclog)]
    return objects + [obj for obj in optional if obj is not None]


def service_account(tcclog: TccLog) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": object_meta(tcclog, names(tcclog).backend, COMPONENT),
        # The API server never talks to Kubernetes: no token in the pod.
        "automountServiceAccountToken": False,
    }


def config_map(tcclog: TccLog, config: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": object_meta(tcclog, names(tcclog).backend, COMPONENT),
        "data": dict(config),
    }


def _secret_env(var: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": var, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def secret_env(tcclog: TccLog) -> list[dict[str, Any]]:
    """Environment variables read from Secrets (values never appear in the Deployment)."""
    child = names(tcclog)
    env = [
        _secret_env("TCCLOG_JWT_SECRET", child.backend_secret, JWT_SECRET_KEY),
        # libpq reads PGPASSWORD, so the DSNs in the ConfigMap carry no password.
        _secret_env("PGPASSWORD", child.postgres_credentials, POSTGRES_APP_PASSWORD_KEY),
        _secret_env("TCCLOG_REDIS_PASSWORD", child.redis_credentials, REDIS_PASSWORD_KEY),
    ]
    ai = tcclog.spec.ai
    if ai and ai.api_key_secret_ref:
        ref = ai.api_key_secret_ref
        env.append(_secret_env("TCCLOG_AI_API_KEY", ref.name, ref.key))
    backup = tcclog.spec.backup
    if backup and backup.s3 and backup.s3.credentials_secret_ref:
        creds = backup.s3.credentials_secret_ref
        env.append(_secret_env("TCCLOG_S3_ACCESS_KEY_ID", creds.name, creds.access_key_id_key))
        env.append(
            _secret_env("TCCLOG_S3_SECRET_ACCESS_KEY", creds.name, creds.secret_access_key_key)
        )
    return env


def pod_config_hash(tcclog: TccLog, config: dict[str, str], secret_values: SecretValues) -> str:
    """Changes whenever anything the pods read at startup changes, so they roll."""
    child = names(tcclog)
    read_by_pods = {
        name: dict(secret_values[name])
        for name in (child.backend_secret, child.postgres_credentials, child.redis_credentials)
    }
    return content_hash(config, read_by_pods)


def _container(tcclog: TccLog, settings: RenderSettings, command: list[str]) -> dict[str, Any]:
    # Canonical quantities: the live Deployment then holds exactly what we rendered.
    resources = canonical_resources(tcclog.spec.backend.resources.to_wire())
    return {
        "image": f"{settings.app_image_repository}:{tcclog.spec.version}",
        "imagePullPolicy": settings.image_pull_policy,
        "command": command,
        "envFrom": [{"configMapRef": {"name": names(tcclog).backend}}],
        "env": secret_env(tcclog),
        "resources": resources,
        "securityContext": restricted_container_security_context(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def _probe(path: str, **tuning: int) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": "http"}, **tuning}


def deployment(
    tcclog: TccLog, settings: RenderSettings, config: dict[str, str], secret_values: SecretValues
) -> dict[str, Any]:
    backend = tcclog.spec.backend
    selector = selector_labels(tcclog, COMPONENT)
    server = {
        "name": CONTAINER,
        **_container(
            tcclog, settings, ["tcclog", "serve", "--host", "0.0.0.0", "--port", str(HTTP_PORT)]
        ),
        "ports": [{"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"}],
        # Startup covers migrations and cold pools; liveness then only restarts a hung process.
        "startupProbe": _probe("/healthz", periodSeconds=5, failureThreshold=30),
        "livenessProbe": _probe("/healthz", periodSeconds=10, failureThreshold=3),
        "readinessProbe": _probe("/readyz", periodSeconds=5, failureThreshold=3),
    }
    # Migrations are idempotent; running them before the server starts means a new version
    # never serves against an old schema.
    migrate = {"name": "migrate", **_container(tcclog, settings, ["tcclog", "migrate"])}
    pod_template = {
        "metadata": {
            "labels": labels(tcclog, COMPONENT),
            "annotations": {CONFIG_HASH_ANNOTATION: pod_config_hash(tcclog, config, secret_values)},
        },
        "spec": {
            "serviceAccountName": names(tcclog).backend,
            "automountServiceAccountToken": False,
            "securityContext": pod_security_context(),
            "initContainers": [migrate],
            "containers": [server],
            "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}],
            "topologySpreadConstraints": _spread(selector),
        },
    }
    spec: dict[str, Any] = {
        "selector": {"matchLabels": selector},
        "revisionHistoryLimit": 5,
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0},
        },
        "template": pod_template,
    }
    if not backend.autoscaling.enabled:
        # Under an HPA the field is left out entirely, so apply never fights the HPA.
        spec["replicas"] = backend.replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": object_meta(tcclog, names(tcclog).backend, COMPONENT),
        "spec": spec,
    }


def _spread(selector: dict[str, str]) -> list[dict[str, Any]]:
    # ScheduleAnyway: spreading is a preference; a one-zone cluster must still schedule.
    return [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": dict(selector)},
            "matchLabelKeys": ["pod-template-hash"],
        }
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]


def service(tcclog: TccLog) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": object_meta(tcclog, names(tcclog).backend, COMPONENT),
        "spec": {
            "type": "ClusterIP",
            "selector": selector_labels(tcclog, COMPONENT),
            "ports": [
                {"name": "http", "port": SERVICE_PORT, "targetPort": "http", "protocol": "TCP"}
            ],
        },
    }


def pod_disruption_budget(tcclog: TccLog) -> dict[str, Any] | None:
    budget = tcclog.spec.backend.pod_disruption_budget
    if not budget.enabled:
        return None
    if budget.min_available is not None:
        limit = {"minAvailable": budget.min_available}
    else:
        limit = {"maxUnavailable": 1 if budget.max_unavailable is None else budget.max_unavailable}
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": object_meta(tcclog, names(tcclog).backend, COMPONENT),
        "spec": {"selector": {"matchLabels": selector_labels(tcclog, COMPONENT)}, **limit},
    }


def horizontal_pod_autoscaler(tcclog: TccLog) -> dict[str, Any] | None:
    scaling = tcclog.spec.backend.autoscaling
    if not scaling.enabled:
        return None

    def utilization(resource: str, percent: int) -> dict[str, Any]:
        target = {"type": "Utilization", "averageUtilization": percent}
        return {"type": "Resource", "resource": {"name": resource, "target": target}}

    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": object_meta(tcclog, names(tcclog).backend, COMPONENT),
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": names(tcclog).backend,
            },
            "minReplicas": scaling.min_replicas,
            "maxReplicas": scaling.max_replicas,
            "metrics": [
                utilization("cpu", scaling.target_cpu_utilization_percentage),
                utilization("memory", scaling.target_memory_utilization_percentage),
            ],
        },
    }


def ingress(tcclog: TccLog) -> dict[str, Any] | None:
    spec = tcclog.spec.backend.ingress
    if spec is None:
        return None
    backend_ref = {"service": {"name": names(tcclog).backend, "port": {"name": "http"}}}
    rule: dict[str, Any] = {
        "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend_ref}]}
    }
    if spec.host:
        rule = {"host": spec.host, **rule}
    ingress_spec: dict[str, Any] = {"rules": [rule]}
    if spec.class_name:
        ingress_spec["ingressClassName"] = spec.class_name
    if spec.tls_secret_name and spec.host:
        ingress_spec["tls"] = [{"hosts": [spec.host], "secretName": spec.tls_secret_name}]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": object_meta(
            tcclog, names(tcclog).backend, COMPONENT, annotations=spec.annotations
        ),
        "spec": ingress_spec,
    }
