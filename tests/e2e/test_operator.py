"""The operator against a real API server: converge, report, repair, survive, clean up."""

from __future__ import annotations

import json
import signal
import time
from typing import Any

import pytest
import yaml
from kubernetes import client

from tests.cluster.local import REPO

from .conftest import Cluster
from .operator import OPERATOR_USER, OperatorProcess
from .wait import wait_for

GROUP, VERSION, PLURAL = "tcclog.com", "v1alpha1", "tcclogs"
BACKEND_KINDS = {"ServiceAccount", "Secret", "ConfigMap", "Service", "Deployment",
                 "PodDisruptionBudget"}
MANAGED = "app.kubernetes.io/managed-by=tcclog-operator"


def minimal(namespace: str, name: str = "demo", **spec: Any) -> dict[str, Any]:
    body = yaml.safe_load((REPO / "examples/minimal.yaml").read_text())
    body["metadata"] = {"name": name, "namespace": namespace}
    body["spec"].update(spec)
    return body  # type: ignore[no-any-return]


def create(api: client.ApiClient, body: dict[str, Any]) -> dict[str, Any]:
    return client.CustomObjectsApi(api).create_namespaced_custom_object(  # type: ignore[no-any-return]
        GROUP, VERSION, body["metadata"]["namespace"], PLURAL, body)


def get(api: client.ApiClient, namespace: str, name: str = "demo") -> dict[str, Any]:
    return client.CustomObjectsApi(api).get_namespaced_custom_object(  # type: ignore[no-any-return]
        GROUP, VERSION, namespace, PLURAL, name)


def patch_spec(api: client.ApiClient, namespace: str, spec: dict[str, Any],
               name: str = "demo") -> None:
    client.CustomObjectsApi(api).patch_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, name, {"spec": spec})


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((c for c in obj.get("status", {}).get("conditions", [])
                 if c["type"] == kind), None)


def wait_ready(api: client.ApiClient, namespace: str, name: str = "demo",
               timeout: float = 150) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        obj = get(api, namespace, name)
        ready = condition(obj, "Ready")
        current = obj["status"].get("observedGeneration") == obj["metadata"]["generation"]
        return obj if ready and ready["status"] == "True" and current else None
    return wait_for(ready, timeout=timeout, what=f"TccLog {namespace}/{name} Ready")


def children(cluster: Cluster, namespace: str) -> list[dict[str, Any]]:
    kinds = "serviceaccounts,secrets,configmaps,services,deployments,hpa,pdb,ingresses"
    out = cluster.kubectl("get", kinds, "-n", namespace, "-l", MANAGED, "-o", "json").stdout
    return json.loads(out)["items"]  # type: ignore[no-any-return]


def test_minimal_tcclog_converges_to_ready_with_owned_children(
        cluster: Cluster, api: client.ApiClient, operator: OperatorProcess,
        namespace: str) -> None:
    created = create(api, minimal(namespace))
    # What users type: kubectl wait on the Ready condition.
    cluster.kubectl("wait", "-n", namespace, "tcc/demo", "--for=condition=Ready",
                    "--timeout=90s")
    obj = wait_ready(api, namespace)

    found = children(cluster, namespace)
    assert {c["kind"] for c in found} >= BACKEND_KINDS
    for child in found:
        owner = child["metadata"]["ownerReferences"][0]
        assert owner["uid"] == created["metadata"]["uid"] and owner["controller"] is True
        assert child["metadata"]["labels"]["app.kubernetes.io/instance"] == "demo"

    conditions = {c["type"]: c for c in obj["status"]["conditions"]}
    assert conditions["Ready"]["reason"] == "AllComponentsReady"
    assert conditions["Progressing"]["status"] == "False"
    assert conditions["Degraded"]["status"] == "False"
    assert all(c["observedGeneration"] == obj["metadata"]["generation"]
               for c in conditions.values())
    assert obj["spec"] == created["spec"], "the operator never writes spec"

    table = cluster.kubectl("get", "tcc", "-n", namespace).stdout
    header = table.splitlines()[0].split()
    assert header[:2] == ["NAME", "READY"] and "VERSION" in header and "AGE" in header
    assert table.splitlines()[1].split()[:3] == ["demo", "True", "0.1.0"]

    described = cluster.kubectl("describe", "tcc", "-n", namespace, "demo").stdout
    assert "AllComponentsReady" in described
    assert "ChildrenApplied" in described and "Deployment demo-backend" in described  # Events
    for secret in (c for c in found if c["kind"] == "Secret"):
        for value in secret["data"].values():
            assert value not in described and value not in operator.log_tail(10**7)


def test_replicas_and_version_changes_roll_the_deployment(
        api: client.ApiClient, operator: OperatorProcess, namespace: str) -> None:
    create(api, minimal(namespace))
    before = wait_ready(api, namespace)
    apps = client.AppsV1Api(api)
    old_template = apps.read_namespaced_deployment("demo-backend", namespace).spec.template

    patch_spec(api, namespace, {"version": "0.2.0", "backend": {"replicas": 2}})

    after = wait_ready(api, namespace)
    assert after["metadata"]["generation"] == before["metadata"]["generation"] + 1
    assert after["status"]["observedGeneration"] == after["metadata"]["generation"]
    deployment = apps.read_namespaced_deployment("demo-backend", namespace)
    assert deployment.spec.replicas == 2
    image = deployment.spec.template.spec.containers[0].image
    assert image.endswith(":0.2.0") and old_template.spec.containers[0].image.endswith(":0.1.0")
    assert deployment.metadata.uid, "updated in place (rolling), not recreated"
    wait_for(lambda: (apps.read_namespaced_deployment("demo-backend", namespace)
                      .status.updated_replicas or 0) == 2,
             timeout=60, what="both pods rolled to the new version")


def test_deleted_and_hand_edited_children_are_restored(
        api: client.ApiClient, operator: OperatorProcess, namespace: str) -> None:
    create(api, minimal(namespace))
    wait_ready(api, namespace)
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    service_uid = core.read_namespaced_service("demo-backend", namespace).metadata.uid
    config = core.read_namespaced_config_map("demo-backend", namespace)

    core.delete_namespaced_service("demo-backend", namespace)
    apps.patch_namespaced_deployment("demo-backend", namespace, {"spec": {"template": {
        "spec": {"containers": [{"name": "backend", "image": "evil/miner:1"}]}}}})
    core.patch_namespaced_config_map("demo-backend", namespace,
                                     {"data": {k: "tampered" for k in config.data}})

    started = time.monotonic()
    wait_for(lambda: core.read_namespaced_service("demo-backend", namespace).metadata.uid
             != service_uid, timeout=30, what="the deleted Service to be recreated")
    wait_for(lambda: all("evil" not in c.image for c in apps.read_namespaced_deployment(
        "demo-backend", namespace).spec.template.spec.containers),
        timeout=30, what="the edited image to be restored")
    wait_for(lambda: core.read_namespaced_config_map("demo-backend", namespace).data
             == config.data, timeout=30, what="the tampered ConfigMap to be restored")
    assert time.monotonic() - started < 30
    wait_ready(api, namespace)


def _operator_writes(cluster: Cluster, since_line: int) -> list[dict[str, Any]]:
    assert cluster.audit_log is not None
    lines = cluster.audit_log.read_text().splitlines()[since_line:]
    return [e for e in map(json.loads, lines) if e["user"]["username"] == OPERATOR_USER]


def test_idle_reconciles_make_no_write_request(
        cluster: Cluster, api: client.ApiClient, operator: OperatorProcess,
        namespace: str) -> None:
    if cluster.audit_log is None:
        pytest.skip("needs the API server's audit log (local control plane)")
    create(api, minimal(namespace))
    wait_ready(api, namespace)
    time.sleep(3)  # let the Deployment controller's status updates settle
    start_line = len(cluster.audit_log.read_text().splitlines())
    resyncs_before = operator.metric("tcclog_operator_reconciles_total", trigger="resync")

    # Several resync timers (every 5 s in tests) and child events, and no write.
    wait_for(lambda: operator.metric("tcclog_operator_reconciles_total", trigger="resync")
             >= resyncs_before + 3, timeout=60, what="three resync reconciles")
    writes = [w for w in _operator_writes(cluster, start_line)
              if w["objectRef"].get("namespace") == namespace]
    assert writes == [], [(w["verb"], w["objectRef"]) for w in writes]


def test_sigkill_mid_reconcile_then_restart_converges_without_duplicates(
        cluster: Cluster, api: client.ApiClient, operator: OperatorProcess,
        namespace: str) -> None:
    create(api, minimal(namespace))
    core = client.CoreV1Api(api)
    # Kill as soon as the first child exists: the reconcile is half done.
    wait_for(lambda: core.list_namespaced_secret(namespace, label_selector=MANAGED).items,
             timeout=30, interval=0.05, what="the first child")
    operator.stop(signal.SIGKILL)
    secrets_at_kill = {s.metadata.name: s.data for s in
                       core.list_namespaced_secret(namespace, label_selector=MANAGED).items}
    operator.start()

    wait_ready(api, namespace)
    found = children(cluster, namespace)
    keys = [(c["kind"], c["metadata"]["name"]) for c in found]
    assert len(keys) == len(set(keys)), "no duplicates"
    assert {kind for kind, _ in keys} >= BACKEND_KINDS
    for secret in (c for c in found if c["kind"] == "Secret"):
        if secret["metadata"]["name"] in secrets_at_kill:
            assert secret["data"] == secrets_at_kill[secret["metadata"]["name"]], \
                "generated credentials survive a restart unchanged"


def test_deleting_the_tcclog_garbage_collects_its_children(
        cluster: Cluster, api: client.ApiClient, operator: OperatorProcess,
        namespace: str) -> None:
    create(api, minimal(namespace))
    wait_ready(api, namespace)
    assert children(cluster, namespace)
    client.CustomObjectsApi(api).delete_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, "demo")
    wait_for(lambda: not children(cluster, namespace), timeout=60,
             what="children to be garbage-collected")


def test_install_manifests_apply_cleanly_on_the_cluster(cluster: Cluster,
                                                        operator: OperatorProcess) -> None:
    deployment = json.loads(cluster.kubectl(
        "get", "deployment", "tcclog-operator", "-n", "tcclog-system", "-o", "json").stdout)
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "tcclog-operator"
    wait_for(lambda: json.loads(cluster.kubectl(
        "get", "deployment", "tcclog-operator", "-n", "tcclog-system", "-o", "json"
    ).stdout)["status"].get("readyReplicas") == 1, timeout=60,
        what="the operator Deployment's pod (KWOK runs it on the local control plane)")
    # Re-applying the install is a no-op, as GitOps tools expect.
    out = cluster.kubectl("apply", "--server-side", "-k", str(REPO / "deploy")).stdout
    assert "serverside-applied" in out
