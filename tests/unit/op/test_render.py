"""Render as a pure function: names, labels, ownership, security, optional objects."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tcclog_operator.models import TccLog
from tcclog_operator.render import (
    CONFIG_HASH_ANNOTATION,
    MANAGED_KINDS,
    fill_secret_values,
    render,
    required_secrets,
    values_from_secret_objects,
)

from .conftest import by_kind, make, one, render_all

LABEL_KEYS = {
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
}


def backend(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Only the backend's objects (the data tier renders ServiceAccounts, PDBs, ... too)."""
    return [o for o in objects if o["metadata"]["labels"]["app.kubernetes.io/component"]
            == "backend"]


def pod_spec(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return one(objects, "Deployment")["spec"]["template"]["spec"]


def test_minimal_renders_the_backend(minimal: TccLog) -> None:
    objects = render_all(minimal)
    kinds = [(obj["kind"], obj["metadata"]["name"]) for obj in objects]
    # The data tier follows (tests/unit/op/test_render_postgres.py, test_render_redis.py).
    assert kinds[:8] == [
        ("Secret", "demo-backend"),
        ("Secret", "demo-postgres-credentials"),
        ("Secret", "demo-redis-credentials"),
        ("ServiceAccount", "demo-backend"),
        ("ConfigMap", "demo-backend"),
        ("Deployment", "demo-backend"),
        ("Service", "demo-backend"),
        ("PodDisruptionBudget", "demo-backend"),
    ]


def test_every_child_is_labelled_owned_and_namespaced(production: TccLog) -> None:
    for obj in render_all(production):
        meta = obj["metadata"]
        assert meta["namespace"] == "tcc"
        assert set(meta["labels"]) >= LABEL_KEYS, obj["kind"]
        assert meta["labels"]["app.kubernetes.io/managed-by"] == "tcclog-operator"
        assert meta["labels"]["app.kubernetes.io/instance"] == "tcc"
        assert meta["ownerReferences"] == [
            {
                "apiVersion": "tcclog.com/v1alpha1",
                "kind": "TccLog",
                "name": "tcc",
                "uid": "0000-uid",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
        assert (obj["apiVersion"], obj["kind"]) in MANAGED_KINDS


def test_without_uid_children_have_no_owner() -> None:
    tcclog = make({}, uid=None)
    assert all("ownerReferences" not in obj["metadata"] for obj in render_all(tcclog))


def test_render_needs_a_namespace() -> None:
    with pytest.raises(ValueError, match="namespace"):
        render_all(make({}, namespace=None))


def test_render_is_deterministic(production: TccLog) -> None:
    values = fill_secret_values(production, {})
    assert render(production, secret_values=values) == render(production, secret_values=values)


def test_longest_name_keeps_child_names_valid() -> None:
    tcclog = make({}, name="a" * 40)
    for obj in render_all(tcclog):
        assert len(obj["metadata"]["name"]) <= 63
        assert all(len(v) <= 63 for v in obj["metadata"]["labels"].values())


# ------------------------------------------------------------------ Pod Security


def assert_restricted(pod: dict[str, Any]) -> None:
    """The Pod Security "restricted" profile, as far as it concerns what we render."""
    pod_ctx = pod["securityContext"]
    assert pod_ctx["runAsNonRoot"] is True
    assert pod_ctx["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod_ctx.get("runAsUser", 1) != 0
    assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC")
    for volume in pod.get("volumes", []):
        assert set(volume) - {"name"} <= {"emptyDir", "configMap", "secret", "projected"}
    for container in pod["containers"] + pod.get("initContainers", []):
        ctx = container["securityContext"]
        assert ctx["allowPrivilegeEscalation"] is False
        assert ctx["capabilities"] == {"drop": ["ALL"]}
        assert ctx["readOnlyRootFilesystem"] is True
        assert ctx.get("privileged") is not True
        assert "hostPort" not in json.dumps(container.get("ports", []))


def test_backend_pods_meet_restricted(production: TccLog) -> None:
    pod = pod_spec(render_all(production))
    assert_restricted(pod)
    assert pod["automountServiceAccountToken"] is False
    assert {"name": "tmp", "mountPath": "/tmp"} in pod["containers"][0]["volumeMounts"]


def test_backend_container(production: TccLog) -> None:
    pod = pod_spec(render_all(production))
    server = pod["containers"][0]
    assert server["image"] == "ghcr.io/tcclog/tcclog:0.1.0"
    assert server["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert server["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert server["resources"]["requests"] == {"cpu": "250m", "memory": "512Mi"}
    assert server["envFrom"] == [{"configMapRef": {"name": "tcc-backend"}}]
    assert pod["initContainers"][0]["command"] == ["tcclog", "migrate"]
    keys = {c["topologyKey"] for c in pod["topologySpreadConstraints"]}
    assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}


def test_service_account_has_no_token(minimal: TccLog) -> None:
    sa = one(backend(render_all(minimal)), "ServiceAccount")
    assert sa["automountServiceAccountToken"] is False


# ------------------------------------------------------------------ HPA, PDB, Ingress


def test_hpa_owns_replicas_when_autoscaling(production: TccLog) -> None:
    objects = render_all(production)
    hpa = one(objects, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"]["name"] == "tcc-backend"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 20)
    metrics = {m["resource"]["name"]: m["resource"]["target"] for m in hpa["spec"]["metrics"]}
    assert metrics["cpu"]["averageUtilization"] == 70
    assert metrics["memory"]["averageUtilization"] == 80
    assert "replicas" not in one(objects, "Deployment")["spec"]


def test_no_hpa_without_autoscaling(minimal: TccLog) -> None:
    objects = render_all(minimal)
    assert by_kind(objects, "HorizontalPodAutoscaler") == []
    assert one(objects, "Deployment")["spec"]["replicas"] == 1


def test_pdb_variants() -> None:
    default = one(backend(render_all(make({}))), "PodDisruptionBudget")["spec"]
    assert default["maxUnavailable"] == 1 and "minAvailable" not in default
    min_two = make({"backend": {"podDisruptionBudget": {"minAvailable": 2}}})
    assert one(backend(render_all(min_two)), "PodDisruptionBudget")["spec"]["minAvailable"] == 2
    off = make({"backend": {"podDisruptionBudget": {"enabled": False}}})
    assert by_kind(backend(render_all(off)), "PodDisruptionBudget") == []


def test_ingress_with_tls(production: TccLog) -> None:
    ingress = one(render_all(production), "Ingress")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"hosts": ["api.example.com"], "secretName": "tcc-tls"}]
    assert ingress["spec"]["rules"][0]["host"] == "api.example.com"
    assert ingress["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt"}


def test_no_ingress_by_default(minimal: TccLog) -> None:
    assert by_kind(render_all(minimal), "Ingress") == []


# ------------------------------------------------------------------ config and secrets


def config(objects: list[dict[str, Any]]) -> dict[str, str]:
    return one(backend(objects), "ConfigMap")["data"]


def test_app_config(production: TccLog) -> None:
    data = config(render_all(production))
    assert data["TCCLOG_DATABASE_URL"] == "postgresql://tcclog@tcc-postgres-rw.tcc.svc:5432/tcclog"
    assert data["TCCLOG_DATABASE_RO_URL"].startswith("postgresql://tcclog@tcc-postgres-ro.")
    assert len(data["TCCLOG_REDIS_SENTINELS"].split(",")) == 3
    assert data["TCCLOG_AI_BASE_URL"] == "http://lm-studio.ai.svc:1234/v1"
    assert data["TCCLOG_S3_BUCKET"] == "tcc-backups"
    assert data["TCCLOG_BACKUP_PREFIX"] == "tcc/logical/"


def test_single_postgres_instance_has_no_replica_dsn(minimal: TccLog) -> None:
    assert "TCCLOG_DATABASE_RO_URL" not in config(render_all(minimal))


def secret_data(objects: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    return values_from_secret_objects(by_kind(objects, "Secret"))


def test_missing_secret_values_are_generated_once(minimal: TccLog) -> None:
    first = render_all(minimal)
    values = secret_data(first)
    assert values["demo-backend"]["jwt-secret"].startswith("generated-")
    # The reconcile passes what the cluster holds: nothing is regenerated.
    second = render_all(minimal, existing=values)
    assert secret_data(second) == values
    assert second == first


def test_only_missing_keys_are_generated(minimal: TccLog) -> None:
    existing = {"demo-postgres-credentials": {"app-password": "kept"}}
    values = secret_data(render_all(minimal, existing=existing))
    assert values["demo-postgres-credentials"]["app-password"] == "kept"
    assert values["demo-postgres-credentials"]["superuser-password"].startswith("generated-")


def test_real_generator_makes_strong_distinct_values(minimal: TccLog) -> None:
    values = fill_secret_values(minimal, {})
    flat = [v for secret in values.values() for v in secret.values()]
    assert len(set(flat)) == len(flat)
    assert all(len(v) >= 40 for v in flat)


def test_render_refuses_incomplete_secret_values(minimal: TccLog) -> None:
    with pytest.raises(KeyError):
        render(minimal, secret_values={})


def test_secret_values_appear_only_in_secrets(production: TccLog) -> None:
    objects = render_all(production)
    values = [v for s in secret_data(objects).values() for v in s.values()]
    for obj in objects:
        if obj["kind"] == "Secret":
            continue
        text = json.dumps(obj)
        encoded = [base64.b64encode(v.encode()).decode() for v in values]
        assert not any(v in text for v in values + encoded), obj["kind"]


def test_secrets_use_data_not_string_data(minimal: TccLog) -> None:
    for secret in by_kind(render_all(minimal), "Secret"):
        assert "stringData" not in secret and secret["type"] == "Opaque"
    assert set(required_secrets(minimal)) == {
        s["metadata"]["name"] for s in by_kind(render_all(minimal), "Secret")
    }


def test_pods_read_secrets_by_reference(production: TccLog) -> None:
    env = {e["name"]: e for e in pod_spec(render_all(production))["containers"][0]["env"]}
    assert env["TCCLOG_JWT_SECRET"]["valueFrom"]["secretKeyRef"] == {
        "name": "tcc-backend",
        "key": "jwt-secret",
    }
    assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "tcc-postgres-credentials"
    assert env["TCCLOG_AI_API_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "lm", "key": "token"}
    assert env["TCCLOG_S3_ACCESS_KEY_ID"]["valueFrom"]["secretKeyRef"]["name"] == "s3-creds"


def config_hash(objects: list[dict[str, Any]]) -> str:
    return one(objects, "Deployment")["spec"]["template"]["metadata"]["annotations"][
        CONFIG_HASH_ANNOTATION
    ]


def test_config_hash_rolls_pods_on_config_change() -> None:
    base = config_hash(render_all(make({"ai": {"baseURL": "http://a:1/v1"}})))
    same = config_hash(render_all(make({"ai": {"baseURL": "http://a:1/v1"}})))
    other = config_hash(render_all(make({"ai": {"baseURL": "http://b:1/v1"}})))
    assert base == same != other


def test_config_hash_changes_when_a_secret_is_rotated(minimal: TccLog) -> None:
    values = secret_data(render_all(minimal))
    rotated = {**values, "demo-backend": {"jwt-secret": "rotated-by-hand"}}
    assert config_hash(render_all(minimal, existing=values)) != config_hash(
        render_all(minimal, existing=rotated)
    )


def test_replica_change_does_not_touch_config_hash() -> None:
    assert config_hash(render_all(make({"backend": {"replicas": 2}}))) == config_hash(
        render_all(make({"backend": {"replicas": 5}}))
    )


def test_version_change_changes_image_only() -> None:
    old = one(render_all(make({})), "Deployment")
    new = one(render_all(make({"version": "0.2.0"})), "Deployment")
    assert new["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":0.2.0")
    assert old["spec"]["selector"] == new["spec"]["selector"]  # selectors are immutable
