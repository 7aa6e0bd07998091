"""The data tier with real processes: Patroni + PostgreSQL against the local control plane
(the operator renders the configuration and the pods, Patroni runs on loopback) and
redis-server + redis-sentinel from the rendered Redis configuration."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

# The e2e fixtures: the local control plane and the operator installed from deploy/.
from tests.e2e.conftest import Cluster, api, cluster, operator  # noqa: F401
from tests.e2e.operator import OperatorProcess
from tests.e2e.test_operator import create, minimal
from tests.e2e.wait import wait_for

from .patroni_harness import PatroniCluster

INSTANCES = 3


def new_namespace(api_client: client.ApiClient, hint: str) -> str:
    name = f"{re.sub(r'[^a-z0-9]+', '-', hint)[:30]}-{uuid.uuid4().hex[:6]}"
    client.CoreV1Api(api_client).create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(
        name=name, labels={"pod-security.kubernetes.io/enforce": "restricted"})))
    return name


@pytest.fixture(scope="module")
def patroni(cluster: Cluster, api: client.ApiClient,  # noqa: F811
            operator: OperatorProcess) -> Iterator[PatroniCluster]:  # noqa: F811
    """3 Patroni members (synchronous mode) for the pods the operator's StatefulSet made."""
    namespace = new_namespace(api, "patroni")
    body = minimal(namespace, postgres={
        "instances": INSTANCES, "synchronousMode": True,
        "parameters": {"max_connections": "40", "shared_buffers": "16MB"}})
    create(api, body)
    core = client.CoreV1Api(api)
    wait_for(lambda: len([p for p in core.list_namespaced_pod(
        namespace, label_selector="app.kubernetes.io/component=postgres").items
        if p.status.phase == "Running"]) == INSTANCES, timeout=90,
        what="the StatefulSet's pods (KWOK keeps them Running)")

    def kubectl(*args: str) -> str:
        return cluster.kubectl(*args).stdout

    started = PatroniCluster.start(core, kubectl, cluster.kubeconfig, namespace, "demo",
                                   INSTANCES)
    try:
        wait_for(started.healthy, timeout=60, interval=0.5,
                 what="a leader and streaming replicas")
        yield started
    except BaseException:
        for member in started.members:
            print(f"--- {member.name}\n{member.log_tail()}")  # noqa: T201 - failure context
        raise
    finally:
        started.stop()
        core.delete_namespace(namespace)


def pod_labels(api_client: client.ApiClient, namespace: str) -> dict[str, dict[str, Any]]:
    pods = client.CoreV1Api(api_client).list_namespaced_pod(
        namespace, label_selector="app.kubernetes.io/component=postgres").items
    return {p.metadata.name: (p.metadata.labels or {}) for p in pods}
