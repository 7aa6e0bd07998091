"""Every request the operator's reconciles make to the Kubernetes API (watches.py
follows the children; kopf the TccLogs).

Children are written with server-side apply under one field manager; the TccLog is
only ever written through its status subresource. Every write is counted in the
operator's metrics, so "an idle reconcile makes no write" is observable.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import urllib3

from . import metrics
from .connection import Connection
from .models.tcclog import GROUP, PLURAL, VERSION
from .models.tcclogbackup import BACKUP_KIND, BACKUP_PLURAL


@dataclass(frozen=True)
class Resource:
    """A kind the operator manages: enough to build its REST path and watch it."""

    group: str  # "" for the core API group
    version: str
    plural: str
    kind: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str, name: str | None = None) -> str:
        path = self.collection_path(namespace)
        return f"{path}/{name}" if name else path

    def collection_path(self, namespace: str | None) -> str:
        """Its objects in `namespace`, or in every namespace when None."""
        prefix = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        where = f"/namespaces/{namespace}" if namespace else ""
        return f"{prefix}{where}/{self.plural}"


MONITORING_GROUP, MONITORING_VERSION = "monitoring.coreos.com", "v1"

# Every kind render may produce. One list drives applying, pruning, the watches
# (watches.py) and, by a test, the ClusterRole in deploy/.
CHILD_RESOURCES: tuple[Resource, ...] = (
    Resource("", "v1", "serviceaccounts", "ServiceAccount"),
    Resource("", "v1", "secrets", "Secret"),
    Resource("", "v1", "configmaps", "ConfigMap"),
    Resource("", "v1", "services", "Service"),
    Resource("apps", "v1", "deployments", "Deployment"),
    Resource("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler"),
    Resource("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget"),
    Resource("networking.k8s.io", "v1", "ingresses", "Ingress"),
    Resource("apps", "v1", "statefulsets", "StatefulSet"),
    Resource("rbac.authorization.k8s.io", "v1", "roles", "Role"),
    Resource("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
    Resource("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy"),
    Resource("batch", "v1", "cronjobs", "CronJob"),
    # Only where the Prometheus Operator CRDs exist; watched once they appear.
    Resource(MONITORING_GROUP, MONITORING_VERSION, "prometheusrules", "PrometheusRule"),
    Resource(MONITORING_GROUP, MONITORING_VERSION, "servicemonitors", "ServiceMonitor"),
    Resource(MONITORING_GROUP, MONITORING_VERSION, "podmonitors", "PodMonitor"),
    # Watched, never rendered or pruned (owned by StatefulSets, not by the TccLog): the
    # Patroni members' role labels and status annotations feed status.postgres.
    Resource("", "v1", "pods", "Pod"),
    # Watched: backup Jobs (owned by the backup CronJobs or by a TccLogBackup, which
    # creates its Job itself) feed BackupHealthy and TccLogBackup status.
    Resource("batch", "v1", "jobs", "Job"),
)
BY_KIND: dict[str, Resource] = {resource.kind: resource for resource in CHILD_RESOURCES}
TCCLOG = Resource(GROUP, VERSION, PLURAL, "TccLog")
TCCLOGBACKUP = Resource(GROUP, VERSION, BACKUP_PLURAL, BACKUP_KIND)
OUR_KINDS = {TCCLOG.kind: TCCLOG, TCCLOGBACKUP.kind: TCCLOGBACKUP}
#: Read and patched on occasion, never watched: the claims of a growing StatefulSet.
PVC = Resource("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim")
_KINDS = {**BY_KIND, **OUR_KINDS, PVC.kind: PVC}
REQUEST_TIMEOUT = urllib3.Timeout(connect=10, read=30)


class ApiError(Exception):
    """The API server answered a request with an error status."""

    def __init__(self, status: int, body: str) -> None:
        self.status = status
        self.body = body
        super().__init__(f"{status} {self.reason}: {self.message[:300]}")

    @property
    def reason(self) -> str:
        """The HTTP status' name, e.g. Unprocessable Entity."""
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return "Unknown"

    @property
    def message(self) -> str:
        """The server's own words (a Status object's message), else the raw answer."""
        try:
            answer = json.loads(self.body or "{}")
        except ValueError:
            return self.body
        return str(answer.get("message", self.body)) if isinstance(answer, dict) else self.body


class Kube:
    """Thin, synchronous API access for reconcile (kopf runs it in worker threads)."""

    def __init__(self, connection: Connection, field_manager: str, pool_size: int = 16
                 ) -> None:
        self._connection = connection
        self._field_manager = field_manager
        context = connection.ssl_context()
        tls = {"ssl_context": context} if context else {}
        # One keep-alive connection per reconcile thread, reused from request to request.
        self._pool = urllib3.connection_from_url(
            connection.server, maxsize=pool_size, timeout=REQUEST_TIMEOUT,
            retries=urllib3.Retry(3, redirect=False), **tls)

    def _call(self, method: str, path: str, *, body: Any = None,
              content_type: str = "application/json",
              query: list[tuple[str, str]] | None = None) -> Any:
        if method in ("PATCH", "POST", "PUT"):  # fields written are ours, in managedFields
            query = [("fieldManager", self._field_manager), *(query or [])]
        url = f"{path}?{urlencode(query)}" if query else path
        response = self._pool.urlopen(
            method, url, body=None if body is None else json.dumps(body),
            headers={**self._connection.headers(), "Content-Type": content_type})
        if not 200 <= response.status < 300:
            raise ApiError(response.status, response.data.decode(errors="replace"))
        return json.loads(response.data or b"null")

    def apply(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Server-side apply: create or update, owning exactly the fields we render."""
        resource = BY_KIND[obj["kind"]]
        metadata = obj["metadata"]
        metrics.API_WRITES.labels(verb="apply", kind=obj["kind"]).inc()
        return self._call(
            "PATCH", resource.path(metadata["namespace"], metadata["name"]),
            body=dict(obj),
            content_type="application/apply-patch+yaml",
            # force: we are the only intended owner; a hand edit must not block us.
            query=[("force", "true")],
        )

    def merge_patch(self, kind: str, namespace: str, name: str, patch: Mapping[str, Any]
                    ) -> dict[str, Any]:
        """JSON merge patch of an object we do not own (e.g. Patroni's config ConfigMap);
        a metadata.resourceVersion in `patch` makes it conditional (409 if it moved)."""
        metrics.API_WRITES.labels(verb="patch", kind=kind).inc()
        return self._call("PATCH", _KINDS[kind].path(namespace, name), body=dict(patch),
                          content_type="application/merge-patch+json")

    def delete(self, kind: str, namespace: str, name: str, propagation: str = "Background"
               ) -> None:
        """Delete (404 is fine); "Orphan" leaves the object's dependents in place."""
        metrics.API_WRITES.labels(verb="delete", kind=kind).inc()
        try:
            self._call("DELETE", _KINDS[kind].path(namespace, name),
                       body={"propagationPolicy": propagation})
        except ApiError as exc:
            if exc.status != 404:
                raise

    def patch_status(self, namespace: str, name: str, status: Mapping[str, Any],
                     kind: str = TCCLOG.kind) -> None:
        """Merge-patch the status subresource of a TccLog or TccLogBackup (never spec)."""
        metrics.API_WRITES.labels(verb="patch-status", kind=kind).inc()
        self._call("PATCH", OUR_KINDS[kind].path(namespace, name) + "/status",
                   body={"status": dict(status)},
                   content_type="application/merge-patch+json")

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return self._call("GET", _KINDS[kind].path(namespace, name))
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def list(self, kind: str, namespace: str, label_selector: str) -> list[dict[str, Any]]:
        answer = self._call("GET", _KINDS[kind].path(namespace),
                            query=[("labelSelector", label_selector)])
        return list(answer.get("items") or [])

    def api_available(self, group: str, version: str, plural: str) -> bool:
        """Whether the API server serves `plural` in group/version (discovery; 404: no)."""
        try:
            answer = self._call("GET", f"/apis/{group}/{version}")
        except ApiError as exc:
            if exc.status == 404:
                return False
            raise
        return any(r.get("name") == plural for r in answer.get("resources") or [])
