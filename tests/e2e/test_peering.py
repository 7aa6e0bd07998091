"""Several operator replicas (deploy/ha): kopf peering lets exactly one act, and another
takes over when it dies.

The suite's own operator runs standalone (it would act regardless of peering), so it is
paused for this test and started again afterwards.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from tests.cluster.local import REPO

from .conftest import Cluster
from .operator import OperatorProcess
from .test_operator import create, get, minimal, patch_spec, wait_ready
from .wait import wait_for

PEERING = REPO / "deploy/ha/peering.yaml"
LIFETIME_SECONDS = 10


@pytest.fixture
def replicas(cluster: Cluster, operator: OperatorProcess, tmp_path: Path
             ) -> Iterator[list[OperatorProcess]]:
    """Two peering replicas: priority 200 (acts) and 100 (waits); the suite's operator off."""
    operator.stop()
    cluster.kubectl("apply", "--server-side", "-f", str(PEERING))
    started = [OperatorProcess(operator.kubeconfig, tmp_path / f"replica-{priority}.log",
                               extra_env={
                                   "TCCLOG_OPERATOR_STANDALONE": "false",
                                   "TCCLOG_OPERATOR_PEERING_PRIORITY": str(priority),
                                   "TCCLOG_OPERATOR_PEERING_LIFETIME_SECONDS":
                                       str(LIFETIME_SECONDS)})
               for priority in (200, 100)]
    try:
        for replica in started:
            replica.start()
        yield started
    finally:
        for replica in started:
            replica.stop()
        cluster.kubectl("delete", "-f", str(PEERING), "--ignore-not-found")
        operator.start()


def reconciles(replica: OperatorProcess) -> float:
    return replica.metric("tcclog_operator_reconciles_total")


def settled(replica: OperatorProcess) -> tuple[float] | None:
    """Its reconcile count, once it stayed the same for 3 s (events in flight when it
    paused are still handled)."""
    before = reconciles(replica)
    time.sleep(3)
    return (before,) if reconciles(replica) == before else None


def test_one_replica_acts_and_another_takes_over_when_it_dies(
        api: client.ApiClient, namespace: str, replicas: list[OperatorProcess]) -> None:
    active, standby = replicas
    # A replica acts until peering has told it about a higher priority (e.g. it resumes
    # TccLogs left by other tests): let them meet, and let the standby's work settle.
    wait_for(lambda: "Pausing operations in favour of" in standby.log_tail(20000), timeout=30,
             what="the standby replica to pause for the active one")
    baseline = wait_for(lambda: settled(standby), timeout=60, what="the standby to settle")
    create(api, minimal(namespace))
    wait_ready(api, namespace)
    assert reconciles(active) > 0
    assert reconciles(standby) == baseline[0], standby.log_tail()

    # The active replica dies without a word (no peering record cleanup).
    active.stop(signal.SIGKILL)
    patch_spec(api, namespace, {"backend": {"replicas": 2}})
    wait_for(lambda: get(api, namespace)["status"]["observedGeneration"]
             == get(api, namespace)["metadata"]["generation"],
             timeout=LIFETIME_SECONDS + 60, what="the standby replica to take over")
    assert reconciles(standby) > baseline[0]
    deployment = client.AppsV1Api(api).read_namespaced_deployment("demo-backend", namespace)
    assert deployment.spec.replicas == 2
