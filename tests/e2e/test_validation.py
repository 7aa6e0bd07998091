"""Bad TccLogs are refused by the API server itself (CRD schema + CEL), with the field named.

No operator is involved: the messages come from the real kube-apiserver evaluating
the generated CRD. docs/API.md lists the same messages for users.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.cluster.local import REPO

from .conftest import Cluster

GROUP, VERSION, PLURAL = "tcclog.com", "v1alpha1", "tcclogs"
VALID_SPEC: dict[str, Any] = {"version": "0.1.0"}
HPA_REQUESTS = {"requests": {"cpu": "250m", "memory": "512Mi"}}
S3 = {"bucket": "b", "endpoint": "https://s3.example:9000",
      "credentialsSecretRef": {"name": "s3"}}

# (id, metadata.name, spec, field the API server names, words of the message)
REFUSALS: list[tuple[str, str, dict[str, Any], str, str]] = [
    ("name-too-long", "x" * 41, VALID_SPEC, "",
     "metadata.name must be at most 40 characters"),
    ("name-not-dns-label", "1abc", VALID_SPEC, "",
     "metadata.name must start with a lowercase letter"),
    ("version-latest", "t", {"version": "latest"}, "spec.version",
     "version must be a release version such as 0.1.0"),
    ("version-missing", "t", {"backend": {"replicas": 1}}, "spec.version", "Required value"),
    ("hpa-min-above-max", "t", {**VALID_SPEC, "backend": {
        "replicas": 4, "resources": HPA_REQUESTS,
        "autoscaling": {"enabled": True, "minReplicas": 5, "maxReplicas": 3}}},
     "spec.backend.autoscaling.minReplicas",
     "backend.autoscaling.minReplicas must be less than or equal to maxReplicas"),
    ("replicas-outside-hpa-range", "t", {**VALID_SPEC, "backend": {
        "replicas": 30, "resources": HPA_REQUESTS,
        "autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 5}}},
     "spec.backend.replicas", "backend.replicas must be between autoscaling.minReplicas"),
    ("hpa-without-requests", "t", {**VALID_SPEC, "backend": {
        "replicas": 2, "resources": {"limits": {"memory": "1Gi"}},
        "autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 5}}},
     "spec.backend.resources",
     "backend.resources.requests.cpu and memory are required when autoscaling is enabled"),
    ("cpu-request-above-limit", "t", {**VALID_SPEC, "backend": {"resources": {
        "requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}}, "spec.backend.resources",
     "backend.resources.requests.cpu must be less than or equal to"),
    ("memory-request-above-limit", "t", {**VALID_SPEC, "backend": {"resources": {
        "requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}}}}, "spec.backend.resources",
     "backend.resources.requests.memory must be less than or equal to"),
    ("cpu-not-a-quantity", "t", {**VALID_SPEC, "backend": {"resources": {
        "requests": {"cpu": "lots"}}}}, "spec.backend.resources.requests.cpu",
     "should match"),
    ("tls-without-host", "t", {**VALID_SPEC, "backend": {"ingress": {"tlsSecretName": "x"}}},
     "spec.backend.ingress.tlsSecretName",
     "backend.ingress.tlsSecretName requires backend.ingress.host"),
    ("pdb-both-bounds", "t", {**VALID_SPEC, "backend": {"podDisruptionBudget": {
        "minAvailable": 1, "maxUnavailable": 1}}}, "spec.backend.podDisruptionBudget",
     "set at most one of minAvailable and maxUnavailable"),
    ("ai-url-not-http", "t", {**VALID_SPEC, "ai": {"baseURL": "lm-studio:1234"}},
     "spec.ai.baseURL", "ai.baseURL must be an http:// or https:// URL"),
    ("sync-mode-single-instance", "t", {**VALID_SPEC, "postgres": {
        "instances": 1, "synchronousMode": True}}, "spec.postgres.synchronousMode",
     "postgres.synchronousMode requires at least 2 instances"),
    ("patroni-owned-parameter", "t", {**VALID_SPEC, "postgres": {
        "parameters": {"port": "6543"}}}, "spec.postgres.parameters",
     "postgres.parameters must not set parameters managed by Patroni"),
    ("too-many-instances", "t", {**VALID_SPEC, "postgres": {"instances": 10}},
     "spec.postgres.instances", "should be less than or equal to 9"),
    ("even-sentinels", "t", {**VALID_SPEC, "redis": {"replicas": 3, "sentinels": 4}},
     "spec.redis.sentinels", "redis.sentinels must be an odd number"),
    ("cron-not-five-fields", "t", {**VALID_SPEC, "backup": {
        "schedule": "every day", "s3": S3}}, "spec.backup.schedule",
     "backup.schedule must be a cron expression with 5 fields"),
    ("backup-without-bucket", "t", {**VALID_SPEC, "backup": {
        "s3": {"credentialsSecretRef": {"name": "s3"}}}}, "spec.backup.s3",
     "backup.s3.bucket is required when backup is enabled"),
    ("backup-without-credentials", "t", {**VALID_SPEC, "backup": {"s3": {"bucket": "b"}}},
     "spec.backup.s3", "backup.s3.credentialsSecretRef is required when backup is enabled"),
    ("s3-endpoint-not-url", "t", {**VALID_SPEC, "backup": {
        "s3": {**S3, "endpoint": "minio:9000"}}}, "spec.backup.s3.endpoint",
     "backup.s3.endpoint must be an http:// or https:// URL"),
    ("unknown-log-level", "t", {**VALID_SPEC, "backend": {"logLevel": "trace"}},
     "spec.backend.logLevel", 'Unsupported value: "trace"'),
    ("differential-cron", "t", {**VALID_SPEC, "backup": {
        "differentialSchedule": "hourly-ish", "s3": S3}}, "spec.backup.differentialSchedule",
     "backup.differentialSchedule must be a cron expression with 5 fields"),
    ("logical-cron", "t", {**VALID_SPEC, "backup": {
        "logicalSchedule": "0 4 * *", "s3": S3}}, "spec.backup.logicalSchedule",
     "backup.logicalSchedule must be a cron expression with 5 fields"),
    ("verify-cron", "t", {**VALID_SPEC, "backup": {
        "verifySchedule": "sundays", "s3": S3}}, "spec.backup.verifySchedule",
     "backup.verifySchedule must be a cron expression with 5 fields"),
    ("recovery-endpoint-not-url", "t", {**VALID_SPEC, "bootstrap": {"recovery": {
        "source": {"stanza": "old", "s3": {**S3, "endpoint": "minio:9000"}}}}},
     "spec.bootstrap.recovery.source.s3.endpoint",
     "bootstrap.recovery.source.s3.endpoint must be an http:// or https:// URL"),
    ("recovery-target-not-rfc3339", "t", {**VALID_SPEC, "bootstrap": {"recovery": {
        "source": {"stanza": "old", "s3": S3}, "targetTime": "2026-12-04 10:15"}}},
     "spec.bootstrap.recovery.targetTime",
     "bootstrap.recovery.targetTime must be an RFC 3339 time"),
]


def _tcclog(name: str, namespace: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "TccLog",
            "metadata": {"name": name, "namespace": namespace}, "spec": copy.deepcopy(spec)}


@pytest.fixture(scope="module")
def crd_installed(cluster: Cluster) -> None:
    cluster.kubectl("apply", "--server-side", "-f", str(REPO / "crds/tcclog.com_tcclogs.yaml"))
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s",
                    "crd/tcclogs.tcclog.com")


@pytest.mark.parametrize(("name", "spec", "field", "message"),
                         [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_invalid_tcclog_is_refused_naming_the_field(
        api: client.ApiClient, namespace: str, crd_installed: None,
        name: str, spec: dict[str, Any], field: str, message: str) -> None:
    objects = client.CustomObjectsApi(api)
    with pytest.raises(ApiException) as refused:
        objects.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL,
                                                _tcclog(name, namespace, spec))
    assert refused.value.status == 422
    text = json.loads(refused.value.body)["message"]
    assert message in text
    if field:
        assert f"{field}:" in text, text
    assert objects.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)["items"] == []


def test_immutable_and_shrink_rules_apply_to_updates(api: client.ApiClient, namespace: str,
                                                     crd_installed: None) -> None:
    objects = client.CustomObjectsApi(api)
    spec = {**VALID_SPEC, "postgres": {"storage": {"size": "10Gi",
                                                   "storageClassName": "standard"}}}
    objects.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL,
                                            _tcclog("t", namespace, spec))
    for storage, message in [
        ({"storageClassName": "fast"}, "postgres.storage.storageClassName is immutable"),
        ({"size": "5Gi"}, "postgres.storage.size cannot be decreased"),
    ]:
        with pytest.raises(ApiException) as refused:
            objects.patch_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURAL, "t",
                {"spec": {"postgres": {"storage": storage}}})
        assert refused.value.status == 422
        assert message in json.loads(refused.value.body)["message"]
    # Growing the volume is allowed.
    objects.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "t",
                                           {"spec": {"postgres": {"storage": {"size": "20Gi"}}}})
    # Bootstrap only matters at creation: adding it later is refused.
    recovery = {"recovery": {"source": {"stanza": "old", "s3": S3}}}
    with pytest.raises(ApiException) as refused:
        objects.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "t",
                                               {"spec": {"bootstrap": recovery}})
    assert "bootstrap is immutable: it only takes effect when the cluster is created" in (
        json.loads(refused.value.body)["message"])


def test_unknown_fields_are_refused_by_strict_apply_and_never_stored(
        cluster: Cluster, namespace: str, crd_installed: None) -> None:
    manifest = json.dumps(_tcclog("t", namespace, {**VALID_SPEC, "bogus": 1}))
    strict = cluster.kubectl("apply", "-f", "-", input=manifest, check=False)
    assert strict.returncode != 0
    assert 'unknown field "spec.bogus"' in strict.stderr
    cluster.kubectl("apply", "--validate=false", "-f", "-", input=manifest)
    stored = json.loads(cluster.kubectl("get", "tcc", "t", "-n", namespace, "-o", "json").stdout)
    assert "bogus" not in stored["spec"], "pruned by the structural schema"
