"""GitOps citizenship: no drift for Argo CD, and operator upgrades that write nothing.

A GitOps tool applies the TccLog from Git and keeps diffing it against the cluster. The
operator must never make that diff non-empty (it never writes spec; defaults come from
the schema), and replacing the operator (restart, or a new build with the same render)
must not touch a single child. A new render updates children in place and rolls the
Deployment, never deletes and recreates.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from tcclog_operator.settings import OperatorSettings
from tests.cluster.local import REPO

from .conftest import Cluster
from .operator import OperatorProcess
from .test_operator import GROUP, PLURAL, VERSION, _operator_writes, children, minimal, wait_ready
from .wait import wait_for

GITOPS_MANAGER = "argocd-controller"  # the field manager Argo CD's server-side apply uses


def audit_position(cluster: Cluster) -> int:
    assert cluster.audit_log is not None
    return len(cluster.audit_log.read_text().splitlines())


def writes_to(cluster: Cluster, namespace: str, since_line: int) -> list[dict[str, Any]]:
    """The operator's write requests in `namespace` since `since_line` of the audit log."""
    return [w for w in _operator_writes(cluster, since_line)
            if w["objectRef"].get("namespace") == namespace]


def wait_for_resyncs(operator: OperatorProcess, rounds: int = 2) -> None:
    """Until `rounds` resync intervals have passed with resync timers firing.

    Every TccLog has its own timer on the same interval, so once `rounds` intervals are
    over, each live one has been resynced; the count proves the timers really ran.
    """
    def resyncs() -> float:
        return operator.metric("tcclog_operator_reconciles_total", trigger="resync")
    target, deadline = resyncs() + rounds, time.monotonic() + rounds * operator.resync_seconds
    wait_for(lambda: resyncs() >= target and time.monotonic() > deadline,
             timeout=30 + rounds * operator.resync_seconds, what=f"{rounds} resync rounds")


@contextmanager
def replaced_operator(operator: OperatorProcess, monkeypatch: pytest.MonkeyPatch,
                      **env: str) -> Iterator[None]:
    """Stop the shared operator and start it again (with `env` set): an operator upgrade.

    The session's other tests need the operator with default settings, so a changed
    environment is undone by one more restart on the way out.
    """
    operator.stop()
    try:
        with monkeypatch.context() as patched:
            for key, value in env.items():
                patched.setenv(key, value)
            operator.start()
        yield
    finally:
        if env or operator.process is None or operator.process.poll() is not None:
            operator.stop()
            operator.start()


def get_json(cluster: Cluster, namespace: str, what: str, *flags: str) -> dict[str, Any]:
    out = cluster.kubectl("get", what, "-n", namespace, "-o", "json", *flags).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def child_uids(cluster: Cluster, namespace: str) -> dict[tuple[str, str], str]:
    return {(c["kind"], c["metadata"]["name"]): c["metadata"]["uid"]
            for c in children(cluster, namespace)}


@pytest.mark.parametrize("example", ["minimal", "production"])
def test_converged_tcclog_shows_no_server_side_diff(
        cluster: Cluster, operator: OperatorProcess, namespace: str, tmp_path: Path,
        example: str) -> None:
    body = yaml.safe_load((REPO / "examples" / f"{example}.yaml").read_text())
    body["metadata"]["namespace"] = namespace
    manifest = tmp_path / "tcclog.yaml"
    manifest.write_text(yaml.safe_dump(body))
    cluster.kubectl("apply", "--server-side", f"--field-manager={GITOPS_MANAGER}",
                    "-f", str(manifest))
    name = body["metadata"]["name"]
    # The operator has seen this generation and written its status; production's data
    # tier may still be on its way (no real pods here), which changes nothing below.
    def status_current() -> bool:
        obj = get_json(cluster, namespace, f"tcclog/{name}")
        return bool(obj.get("status", {}).get("observedGeneration")
                    == obj["metadata"]["generation"])
    wait_for(status_current, timeout=90, what="status for the applied generation")
    wait_for_resyncs(operator)  # give the operator every chance to write something

    diff = cluster.kubectl("diff", "--server-side", f"--field-manager={GITOPS_MANAGER}",
                           "-f", str(manifest), check=False)
    assert (diff.returncode, diff.stdout) == (0, ""), diff.stdout + diff.stderr
    live = get_json(cluster, namespace, f"tcclog/{name}", "--show-managed-fields")
    assert live["metadata"]["generation"] == 1, "nobody wrote spec after the first apply"
    managers = {m["manager"] for m in live["metadata"]["managedFields"]
                if m["operation"] == "Apply" and m.get("subresource") != "status"}
    assert managers == {GITOPS_MANAGER}, "only the GitOps tool applies the TccLog's spec"
    status_writers = {m["manager"] for m in live["metadata"]["managedFields"]
                      if m.get("subresource") == "status"}
    assert status_writers == {OperatorSettings().field_manager}, "status names its writer"


def test_operator_restart_makes_no_write_to_children(
        cluster: Cluster, api: client.ApiClient, operator: OperatorProcess,
        namespace: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if cluster.audit_log is None:
        pytest.skip("needs the API server's audit log (local control plane)")
    client.CustomObjectsApi(api).create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, minimal(namespace))
    wait_ready(api, namespace)
    wait_for_resyncs(operator, rounds=1)  # the Deployment controller's updates settle
    uids = child_uids(cluster, namespace)
    start_line = audit_position(cluster)

    with replaced_operator(operator, monkeypatch):
        # Resume (or a child event, with which resume coalesces) reconciles each TccLog.
        wait_for(lambda: operator.metric("tcclog_operator_reconciles_total"),
                 timeout=30, what="the restarted operator to reconcile its TccLogs")
        wait_for_resyncs(operator)

    writes = writes_to(cluster, namespace, start_line)
    assert writes == [], [(w["verb"], w["objectRef"]) for w in writes]
    assert child_uids(cluster, namespace) == uids
    wait_ready(api, namespace)


def test_new_render_updates_children_in_place_and_rolls_the_deployment(
        cluster: Cluster, api: client.ApiClient, operator: OperatorProcess,
        namespace: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if cluster.backend != "local":
        pytest.skip("the in-cluster operator from deploy/ (kind, existing) keeps the default "
                    "render and would undo the changed one")
    client.CustomObjectsApi(api).create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, minimal(namespace))
    wait_ready(api, namespace)
    before = get_json(cluster, namespace, "deployment/demo-backend")
    uids = child_uids(cluster, namespace)
    start_line = audit_position(cluster)
    repository = "registry.example/tcclog-next"

    def rolled() -> dict[str, Any] | None:
        dep = get_json(cluster, namespace, "deployment/demo-backend")
        image = dep["spec"]["template"]["spec"]["containers"][0]["image"]
        done = (dep["status"].get("observedGeneration") == dep["metadata"]["generation"]
                and dep["status"].get("updatedReplicas") == dep["spec"]["replicas"]
                == dep["status"].get("replicas"))
        return dep if image.startswith(repository + ":") and done else None

    with replaced_operator(operator, monkeypatch,
                           TCCLOG_OPERATOR_APP_IMAGE_REPOSITORY=repository):
        after = wait_for(rolled, timeout=60, what="the Deployment to roll to the new image")
        wait_ready(api, namespace)
        replica_sets = get_json(cluster, namespace, "replicasets")["items"]
        assert child_uids(cluster, namespace) == uids, "updated in place, never recreated"

    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    revision = "deployment.kubernetes.io/revision"
    assert int(after["metadata"]["annotations"][revision]) == \
        int(before["metadata"]["annotations"][revision]) + 1, "one rolling update"
    # The old ReplicaSet scaled down to 0, the new one up: a roll, not a replacement.
    assert sorted(rs["spec"]["replicas"] for rs in replica_sets) == \
        [0, before["spec"]["replicas"]]
    to_children = [(w["verb"], w["objectRef"]["resource"])
                   for w in writes_to(cluster, namespace, start_line)
                   if w["objectRef"]["resource"] not in (PLURAL, "events")]
    assert {verb for verb, _ in to_children} == {"patch"}, to_children
