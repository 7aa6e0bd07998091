"""PostgreSQL run by Patroni: ServiceAccount + Role + RoleBinding, the Patroni ConfigMap,
headless/-rw/-ro Services, the StatefulSet and its PDB. Pure.

Failover is Patroni's (Kubernetes DCS: the leader lock is a ConfigMap, the member's role
is a label on its pod). The operator only composes: the -rw Service selects the pod
Patroni labels `role=primary`, -ro those labelled `role=replica`.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..models import TccLog
from .credentials import (
    POSTGRES_APP_PASSWORD_KEY,
    POSTGRES_READONLY_PASSWORD_KEY,
    POSTGRES_REPLICATION_PASSWORD_KEY,
    POSTGRES_SUPERUSER_PASSWORD_KEY,
    SecretValues,
)
from .exporters import (
    POSTGRES_EXPORTER_PORT,
    metrics_service_port,
    postgres_exporter_container,
)
from .meta import (
    CONFIG_HASH_ANNOTATION,
    PATRONI_PORT,
    POSTGRES_PORT,
    ROLE_LABEL,
    ROLE_PRIMARY,
    ROLE_REPLICA,
    RenderSettings,
    content_hash,
    labels,
    names,
    object_meta,
    selector_labels,
)
from .patroni import (
    COMPONENT,
    CONFIG_FILE,
    CONFIG_MOUNT,
    DATA_MOUNT,
    POST_BOOTSTRAP_FILE,
    ROLE_CHANGE_FILE,
    SOCKET_DIR,
    patroni_config,
    pod_labels_for_patroni,
    post_bootstrap_script,
    role,
    role_binding,
    role_change_script,
)
from .pgbackrest import (
    pg_config_map,
    pg_config_map_data,
    pod_volumes,
    postgres_env,
    postgres_mounts,
    server_container,
)
from .quantity import canonical_quantity, canonical_resources
from .security import pod_security_context, restricted_container_security_context

#: UID/GID of the `postgres` user in the official PostgreSQL (Debian) image.
POSTGRES_UID = 999
CONTAINER = "postgres"


def render_postgres(
    tcclog: TccLog, settings: RenderSettings, secret_values: SecretValues
) -> list[dict[str, Any]]:
    """All PostgreSQL objects, in apply order (RBAC before the pods that use it)."""
    objects = [
        service_account(tcclog),
        role(tcclog),
        role_binding(tcclog),
        config_map(tcclog),
        *filter(None, [pg_config_map(tcclog)]),
        headless_service(tcclog),
        role_service(tcclog, names(tcclog).postgres_rw, ROLE_PRIMARY),
        role_service(tcclog, names(tcclog).postgres_ro, ROLE_REPLICA),
        stateful_set(tcclog, settings, secret_values),
    ]
    budget = pod_disruption_budget(tcclog)
    return objects + ([budget] if budget else [])


def _meta(tcclog: TccLog, name: str) -> dict[str, Any]:
    return object_meta(tcclog, name, COMPONENT)


def service_account(tcclog: TccLog) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(tcclog, names(tcclog).postgres),
        # Patroni's Kubernetes DCS talks to the API; the token comes from the pod spec.
        "automountServiceAccountToken": False,
    }


def config_map_data(tcclog: TccLog) -> dict[str, str]:
    config = patroni_config(tcclog)
    data = {
        CONFIG_FILE: yaml.safe_dump(config, sort_keys=True),
        POST_BOOTSTRAP_FILE: post_bootstrap_script(tcclog),
    }
    if "callbacks" in config["postgresql"]:
        data[ROLE_CHANGE_FILE] = role_change_script(tcclog)
    return data


def config_map(tcclog: TccLog) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(tcclog, names(tcclog).patroni_config),
        "data": config_map_data(tcclog),
    }


def _ports() -> list[dict[str, Any]]:
    return [
        {"name": "postgresql", "port": POSTGRES_PORT, "targetPort": "postgresql", "protocol": "TCP"}
    ]


def headless_service(tcclog: TccLog) -> dict[str, Any]:
    """Stable DNS names per member (the StatefulSet's governing Service)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(tcclog, names(tcclog).postgres_headless),
        "spec": {
            "clusterIP": "None",
            # Members must resolve each other while still starting (not yet ready).
            "publishNotReadyAddresses": True,
            "selector": selector_labels(tcclog, COMPONENT),
            "ports": [
                *_ports(),
                {"name": "patroni", "port": PATRONI_PORT, "targetPort": "patroni",
                 "protocol": "TCP"},
                metrics_service_port(POSTGRES_EXPORTER_PORT),
            ],
        },
    }


def role_service(tcclog: TccLog, name: str, role_value: str) -> dict[str, Any]:
    """-rw (the pod Patroni labels primary) or -ro (pods labelled replica)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(tcclog, name),
        "spec": {
            "type": "ClusterIP",
            "selector": {**selector_labels(tcclog, COMPONENT), ROLE_LABEL: role_value},
            "ports": _ports(),
        },
    }


def _env(tcclog: TccLog) -> list[dict[str, Any]]:
    secret = names(tcclog).postgres_credentials

    def field(name: str, path: str) -> dict[str, Any]:
        return {"name": name, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}}

    def from_secret(name: str, key: str) -> dict[str, Any]:
        return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}

    return [
        field("PATRONI_NAME", "metadata.name"),
        field("PATRONI_KUBERNETES_NAMESPACE", "metadata.namespace"),
        field("PATRONI_KUBERNETES_POD_IP", "status.podIP"),
        # $(VAR) is expanded by Kubernetes from the variables above.
        {"name": "PATRONI_POSTGRESQL_CONNECT_ADDRESS",
         "value": f"$(PATRONI_KUBERNETES_POD_IP):{POSTGRES_PORT}"},
        {"name": "PATRONI_RESTAPI_CONNECT_ADDRESS",
         "value": f"$(PATRONI_KUBERNETES_POD_IP):{PATRONI_PORT}"},
        from_secret("PATRONI_SUPERUSER_PASSWORD", POSTGRES_SUPERUSER_PASSWORD_KEY),
        from_secret("PATRONI_REPLICATION_PASSWORD", POSTGRES_REPLICATION_PASSWORD_KEY),
        # Read by the post-bootstrap script only.
        from_secret("TCCLOG_APP_PASSWORD", POSTGRES_APP_PASSWORD_KEY),
        from_secret("TCCLOG_READONLY_PASSWORD", POSTGRES_READONLY_PASSWORD_KEY),
        # pgBackRest's S3 keys (archive_command, restore_command), with spec.backup.
        *postgres_env(tcclog),
    ]


def _container(tcclog: TccLog, settings: RenderSettings) -> dict[str, Any]:
    def probe(path: str, **tuning: int) -> dict[str, Any]:
        return {"httpGet": {"path": path, "port": "patroni", "scheme": "HTTP"}, **tuning}

    return {
        "name": CONTAINER,
        "image": f"{settings.postgres_image_repository}:{tcclog.spec.version}",
        "imagePullPolicy": settings.image_pull_policy,
        "command": ["patroni", f"{CONFIG_MOUNT}/{CONFIG_FILE}"],
        "env": _env(tcclog),
        "ports": [
            {"name": "postgresql", "containerPort": POSTGRES_PORT, "protocol": "TCP"},
            {"name": "patroni", "containerPort": PATRONI_PORT, "protocol": "TCP"},
        ],
        # /readiness: 200 once PostgreSQL runs (primary, or a replica that is streaming).
        "readinessProbe": probe("/readiness", periodSeconds=5, failureThreshold=3),
        # /liveness answers while Patroni's loop runs; Patroni restarts PostgreSQL itself.
        "livenessProbe": probe("/liveness", periodSeconds=10, failureThreshold=6),
        "resources": canonical_resources(tcclog.spec.postgres.resources.to_wire()),
        "securityContext": restricted_container_security_context(),
        "volumeMounts": [
            {"name": "data", "mountPath": DATA_MOUNT},
            {"name": "config", "mountPath": CONFIG_MOUNT, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "socket", "mountPath": SOCKET_DIR},
            *postgres_mounts(tcclog),
        ],
    }


def pod_config_hash(tcclog: TccLog, secret_values: SecretValues) -> str:
    child = names(tcclog)
    parts: list[Any] = [config_map_data(tcclog), dict(secret_values[child.postgres_credentials])]
    if pg_config_map_data(tcclog):  # unchanged without backups: no needless rolling restart
        parts += [pg_config_map_data(tcclog), dict(secret_values.get(child.pgbackrest_tls, {}))]
    return content_hash(*parts)


def _anti_affinity(tcclog: TccLog) -> dict[str, Any]:
    # Preferred, not required: a cluster with fewer nodes than instances still schedules.
    term = {
        "labelSelector": {"matchLabels": selector_labels(tcclog, COMPONENT)},
        "topologyKey": "kubernetes.io/hostname",
    }
    return {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 100, "podAffinityTerm": term}
            ]
        }
    }


def _volume_claim(tcclog: TccLog) -> dict[str, Any]:
    storage = tcclog.spec.postgres.storage
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": canonical_quantity(storage.size)}},
    }
    if storage.storage_class_name:
        spec["storageClassName"] = storage.storage_class_name
    metadata = {"name": "data", "labels": selector_labels(tcclog, COMPONENT)}
    return {"metadata": metadata, "spec": spec}


def stateful_set(
    tcclog: TccLog, settings: RenderSettings, secret_values: SecretValues
) -> dict[str, Any]:
    child = names(tcclog)
    pod = {
        "metadata": {
            "labels": {**labels(tcclog, COMPONENT), **pod_labels_for_patroni(tcclog)},
            "annotations": {CONFIG_HASH_ANNOTATION: pod_config_hash(tcclog, secret_values)},
        },
        "spec": {
            "serviceAccountName": child.postgres,
            "automountServiceAccountToken": True,
            "securityContext": pod_security_context(POSTGRES_UID),
            "containers": [_container(tcclog, settings),
                           postgres_exporter_container(tcclog, settings),
                           *_pgbackrest_sidecar(tcclog, settings)],
            "volumes": [
                {"name": "config", "configMap": {"name": child.patroni_config}},
                {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
                {"name": "socket", "emptyDir": {"sizeLimit": "1Mi"}},
                *pod_volumes(tcclog),
            ],
            "affinity": _anti_affinity(tcclog),
            # Time for Patroni to stop PostgreSQL cleanly and hand over the leader lock.
            "terminationGracePeriodSeconds": 30,
        },
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _meta(tcclog, child.postgres),
        "spec": {
            "replicas": tcclog.spec.postgres.instances,
            "serviceName": child.postgres_headless,
            "selector": {"matchLabels": selector_labels(tcclog, COMPONENT)},
            # Members find each other through the API; no need to start one by one.
            "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "RollingUpdate"},
            "template": pod,
            "volumeClaimTemplates": [_volume_claim(tcclog)],
        },
    }


def _pgbackrest_sidecar(tcclog: TccLog, settings: RenderSettings) -> list[dict[str, Any]]:
    """`pgbackrest server` beside PostgreSQL (only with spec.backup): data and socket shared."""
    shared = [m for m in _container(tcclog, settings)["volumeMounts"]
              if m["name"] in ("data", "socket", "tmp")]
    sidecar = server_container(tcclog, settings, shared)
    return [sidecar] if sidecar else []


def pod_disruption_budget(tcclog: TccLog) -> dict[str, Any] | None:
    """At most one member down by choice; none for a single instance (it would block drains)."""
    if tcclog.spec.postgres.instances < 2:
        return None
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(tcclog, names(tcclog).postgres),
        "spec": {"selector": {"matchLabels": selector_labels(tcclog, COMPONENT)},
                 "maxUnavailable": 1},
    }
