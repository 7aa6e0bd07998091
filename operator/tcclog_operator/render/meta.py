"""The one place for child names, labels, the owner reference and render-time settings.

Builders, the reconcile, status and tests all ask this module, so they always agree on
what a child is called and how it is selected (CNPG's cluster_funcs.go idea).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ..models import API_VERSION, KIND, Endpoints, TccLog

PART_OF = "tcclog"
MANAGED_BY = "tcclog-operator"
#: Label selector matching every child of every TccLog (what the operator watches).
MANAGED_BY_SELECTOR = f"app.kubernetes.io/managed-by={MANAGED_BY}"
#: Label naming the TccLog a child belongs to (the operator indexes children by it).
INSTANCE_LABEL = "app.kubernetes.io/instance"
#: Annotation on pod templates: hash of the configuration the pods read, so a change rolls them.
CONFIG_HASH_ANNOTATION = "tcclog.com/config-hash"
#: Sentinel "master set" name; the Redis component and the app's settings must agree.
REDIS_MASTER_SET = "tcclog"
SENTINEL_PORT = 26379
REDIS_PORT = 6379
POSTGRES_PORT = 5432
PATRONI_PORT = 8008
#: `pgbackrest server` (TLS) sidecar of each PostgreSQL pod; the backup jobs connect to it.
PGBACKREST_PORT = 8432
#: Common name of the backup jobs' client certificate (tls-server-auth on the pods).
PGBACKREST_CLIENT_CN = "tcclog-backup"
DATABASE_NAME = "tcclog"
DATABASE_USER = "tcclog"
#: Login role for read-only access (password: readonly-password in the credentials Secret).
READONLY_USER = "tcclog_readonly"
SUPERUSER = "postgres"
REPLICATION_USER = "replicator"
#: Pod label Patroni sets to the member's role; the -rw/-ro Services select on it.
ROLE_LABEL = "role"
ROLE_PRIMARY = "primary"
ROLE_REPLICA = "replica"
#: Pod label whose value is the Patroni scope (Patroni's own default label name).
SCOPE_LABEL = "cluster-name"
COMPONENT_LABEL = "app.kubernetes.io/component"


@dataclass(frozen=True)
class RenderSettings:
    """Operator-wide inputs to render (from OperatorSettings.render_settings())."""

    #: Where the operator runs: the Sentinel NetworkPolicy lets its pods ask for the master.
    operator_namespace: str = "tcclog-system"
    app_image_repository: str = "ghcr.io/tcclog/tcclog"
    image_pull_policy: str = "IfNotPresent"
    #: The Dockerfile `postgres` target (PostgreSQL + Patroni + pgBackRest); tag spec.version.
    postgres_image_repository: str = "ghcr.io/tcclog/tcclog-postgres"
    #: The official Redis image (redis-server, redis-sentinel and redis-cli).
    redis_image: str = "docker.io/library/redis:7.4"
    #: Sidecar in every PostgreSQL pod (the metrics the alerts read: pg_up, replication, archiver).
    postgres_exporter_image: str = "quay.io/prometheuscommunity/postgres-exporter:v0.20.1"
    #: Sidecar in every Redis pod (redis_up, role, connected replicas).
    redis_exporter_image: str = "docker.io/oliver006/redis_exporter:v1.89.0"


@dataclass(frozen=True)
class ChildNames:
    """Deterministic names of everything one TccLog owns."""

    instance: str

    @property
    def backend(self) -> str:
        """Deployment, Service, ConfigMap, ServiceAccount, HPA, PDB and Ingress."""
        return f"{self.instance}-backend"

    @property
    def backend_secret(self) -> str:
        """Generated app secrets (JWT signing key)."""
        return f"{self.instance}-backend"

    @property
    def postgres(self) -> str:
        return f"{self.instance}-postgres"

    @property
    def postgres_credentials(self) -> str:
        return f"{self.instance}-postgres-credentials"

    @property
    def postgres_headless(self) -> str:
        """Governing Service of the StatefulSet: stable DNS names for the members."""
        return f"{self.instance}-postgres-headless"

    @property
    def patroni_config(self) -> str:
        """ConfigMap with patroni.yaml and the post-bootstrap script."""
        return f"{self.instance}-postgres-patroni"

    @property
    def patroni_scope(self) -> str:
        """Patroni cluster name; Patroni itself creates `<scope>-leader`, `-config`, `-sync`."""
        return self.postgres

    @property
    def patroni_leader(self) -> str:
        """ConfigMap Patroni keeps its leader lock in (annotation `leader`)."""
        return f"{self.patroni_scope}-leader"

    @property
    def postgres_rw(self) -> str:
        return f"{self.instance}-postgres-rw"

    @property
    def postgres_ro(self) -> str:
        return f"{self.instance}-postgres-ro"

    @property
    def redis(self) -> str:
        return f"{self.instance}-redis"

    @property
    def redis_credentials(self) -> str:
        return f"{self.instance}-redis-credentials"

    @property
    def sentinel(self) -> str:
        return f"{self.instance}-sentinel"

    @property
    def redis_headless(self) -> str:
        return f"{self.instance}-redis-headless"

    @property
    def sentinel_headless(self) -> str:
        return f"{self.instance}-sentinel-headless"

    def network_policy(self, component: str) -> str:
        return f"{self.instance}-{component}-ingress"

    @property
    def backup(self) -> str:
        """ConfigMap (repository-host pgbackrest.conf + backup script) and ServiceAccount."""
        return f"{self.instance}-backup"

    def backup_cronjob(self, method: str) -> str:
        """`<name>-backup-full`, `-diff`, `-logical`, `-verify`."""
        return f"{self.instance}-backup-{method}"

    @property
    def pgbackrest_config(self) -> str:
        """ConfigMap with the database pods' pgbackrest.conf (and the recovery script)."""
        return f"{self.instance}-pgbackrest"

    @property
    def pgbackrest_tls(self) -> str:
        """Generated Secret: CA, the pods' server certificate, the backup jobs' client one."""
        return f"{self.instance}-pgbackrest-tls"

    @property
    def stanza(self) -> str:
        """pgBackRest stanza of this cluster: the TccLog's name."""
        return self.instance


def names(tcclog: TccLog) -> ChildNames:
    return ChildNames(tcclog.metadata.name)


def namespace_of(tcclog: TccLog) -> str:
    if not tcclog.metadata.namespace:
        raise ValueError(f"TccLog {tcclog.metadata.name!r} has no metadata.namespace")
    return tcclog.metadata.namespace


def selector_labels(tcclog: TccLog, component: str) -> dict[str, str]:
    """Labels that select a component's pods. Never changes for a given object."""
    return {
        "app.kubernetes.io/name": PART_OF,
        INSTANCE_LABEL: tcclog.metadata.name,
        COMPONENT_LABEL: component,
    }


def labels(tcclog: TccLog, component: str) -> dict[str, str]:
    """The standard app.kubernetes.io/* labels of every child."""
    return {
        **selector_labels(tcclog, component),
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "app.kubernetes.io/version": tcclog.spec.version,
    }


def owner_reference(tcclog: TccLog) -> dict[str, Any] | None:
    """Controller owner reference, or None when the object has no uid (render -f FILE)."""
    if not tcclog.metadata.uid:
        return None
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": tcclog.metadata.name,
        "uid": tcclog.metadata.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def object_meta(
    tcclog: TccLog, name: str, component: str, annotations: dict[str, str] | None = None
) -> dict[str, Any]:
    """metadata for a child: name, namespace, labels, owner reference."""
    meta: dict[str, Any] = {
        "name": name,
        "namespace": namespace_of(tcclog),
        "labels": labels(tcclog, component),
    }
    if annotations:
        meta["annotations"] = dict(annotations)
    owner = owner_reference(tcclog)
    if owner:
        meta["ownerReferences"] = [owner]
    return meta


def content_hash(*parts: Any) -> str:
    """Stable short hash of JSON-able data (key order does not matter)."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def service_host(tcclog: TccLog, service: str) -> str:
    return f"{service}.{namespace_of(tcclog)}.svc"


def endpoints(tcclog: TccLog) -> Endpoints:
    """Where clients connect; goes into status.endpoints."""
    child = names(tcclog)
    ingress = tcclog.spec.backend.ingress
    if ingress and ingress.host:
        scheme = "https" if ingress.tls_secret_name else "http"
        api = f"{scheme}://{ingress.host}"
    else:
        api = f"http://{service_host(tcclog, child.backend)}"
    return Endpoints(
        api=api,
        postgres_primary=service_host(tcclog, child.postgres_rw),
        postgres_replicas=service_host(tcclog, child.postgres_ro),
        redis_sentinel=service_host(tcclog, child.sentinel),
    )
