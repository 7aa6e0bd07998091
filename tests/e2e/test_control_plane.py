"""The ground the operator stands on: a real API server that admits, schedules and collects.

These run on every backend (local control plane, kind, existing cluster).
"""

from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from .conftest import Cluster
from .wait import wait_for

PAUSE_IMAGE = "registry.k8s.io/pause:3.10"
RESTRICTED_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": 65535,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def _deployment(name: str, container_security: dict[str, object]) -> dict[str, object]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{
                    "name": "main", "image": PAUSE_IMAGE, "securityContext": container_security,
                }]},
            },
        },
    }


def test_restricted_deployment_gets_scheduled_ready_pods(api: client.ApiClient,
                                                         namespace: str) -> None:
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    apps.create_namespaced_deployment(namespace, _deployment("web", RESTRICTED_SECURITY))

    def ready_deployment() -> client.V1Deployment | None:
        dep = apps.read_namespaced_deployment("web", namespace)
        return dep if (dep.status.ready_replicas or 0) == 2 else None

    wait_for(ready_deployment, timeout=90, what="Deployment web with 2 ready replicas")
    replica_sets = apps.list_namespaced_replica_set(namespace, label_selector="app=web").items
    assert len(replica_sets) == 1
    assert replica_sets[0].metadata.owner_references[0].kind == "Deployment"

    pods = core.list_namespaced_pod(namespace, label_selector="app=web").items
    assert len(pods) == 2
    node_names = {node.metadata.name for node in core.list_node().items}
    for pod in pods:
        assert pod.spec.node_name in node_names, "the scheduler bound the pod to a node"
        assert pod.status.phase == "Running"
        ready = {c.type: c.status for c in pod.status.conditions}
        assert ready["Ready"] == "True"


def test_pod_violating_restricted_is_refused_by_admission(api: client.ApiClient,
                                                          namespace: str) -> None:
    core = client.CoreV1Api(api)
    privileged_pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "rooty"},
        "spec": {"containers": [{
            "name": "main", "image": PAUSE_IMAGE,
            "securityContext": {"privileged": True, "runAsUser": 0},
        }]},
    }
    with pytest.raises(ApiException) as refused:
        core.create_namespaced_pod(namespace, privileged_pod)
    assert refused.value.status == 403
    message = json.loads(refused.value.body)["message"]
    assert 'violates PodSecurity "restricted:latest"' in message
    assert "privileged" in message and "runAsNonRoot" in message
    assert core.list_namespaced_pod(namespace).items == []


def test_deleting_an_owner_garbage_collects_its_children(api: client.ApiClient,
                                                         namespace: str) -> None:
    core = client.CoreV1Api(api)
    owner = core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "owner"}, "data": {"role": "parent"}})
    owner_ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
                 "uid": owner.metadata.uid, "blockOwnerDeletion": True}
    for index in range(3):
        core.create_namespaced_config_map(namespace, {
            "metadata": {"name": f"child-{index}", "labels": {"family": "owner"},
                         "ownerReferences": [owner_ref]}})
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "bystander"}})

    core.delete_namespaced_config_map("owner", namespace)

    wait_for(lambda: not core.list_namespaced_config_map(
        namespace, label_selector="family=owner").items,
        timeout=60, what="owned ConfigMaps to be garbage-collected")
    names = {cm.metadata.name for cm in core.list_namespaced_config_map(namespace).items}
    assert "bystander" in names, "objects without the owner reference survive"


WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.e2e.tcclog.com"},
    "spec": {
        "group": "e2e.tcclog.com",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
        "versions": [{
            "name": "v1", "served": True, "storage": True,
            "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {"spec": {
                    "type": "object",
                    "required": ["size"],
                    "properties": {
                        "size": {"type": "integer", "minimum": 1, "maximum": 10},
                        "min": {"type": "integer"},
                        "max": {"type": "integer"},
                    },
                    "x-kubernetes-validations": [
                        {"rule": "!has(self.min) || !has(self.max) || self.min <= self.max",
                         "message": "min must not exceed max"}],
                }},
            }},
        }],
    },
}


@pytest.fixture
def widget_crd(api: client.ApiClient) -> object:
    ext = client.ApiextensionsV1Api(api)
    ext.create_custom_resource_definition(WIDGET_CRD)
    yield wait_for(lambda: _established(ext), timeout=60, what="Widget CRD Established")
    ext.delete_custom_resource_definition(WIDGET_CRD["metadata"]["name"])  # type: ignore[index]


def _established(ext: client.ApiextensionsV1Api) -> bool:
    crd = ext.read_custom_resource_definition(WIDGET_CRD["metadata"]["name"])  # type: ignore[index]
    return any(c.type == "Established" and c.status == "True"
               for c in (crd.status.conditions or []))


def _widget(spec: dict[str, object]) -> dict[str, object]:
    return {"apiVersion": "e2e.tcclog.com/v1", "kind": "Widget",
            "metadata": {"name": "w"}, "spec": spec}


def test_crd_becomes_established_and_validates_objects(api: client.ApiClient, namespace: str,
                                                       widget_crd: object) -> None:
    objects = client.CustomObjectsApi(api)

    def create(spec: dict[str, object]) -> dict[str, object]:
        return objects.create_namespaced_custom_object(  # type: ignore[no-any-return]
            "e2e.tcclog.com", "v1", namespace, "widgets", _widget(spec))

    # The API server needs a moment after Established before it serves the new kind.
    created = wait_for(lambda: create({"size": 3, "unknown": "dropped"}), timeout=30,
                       what="the first Widget to be accepted")
    assert created["spec"] == {"size": 3}, "unknown fields are pruned by the structural schema"

    refusals = {
        "spec.size: Invalid value: 11": {"size": 11},
        "spec.size: Required value": {"min": 1},
        "min must not exceed max": {"size": 1, "min": 5, "max": 2},
    }
    for expected, spec in refusals.items():
        with pytest.raises(ApiException) as refused:
            objects.create_namespaced_custom_object(
                "e2e.tcclog.com", "v1", namespace, "widgets",
                {**_widget(spec), "metadata": {"name": "bad"}})
        assert refused.value.status == 422
        assert expected in json.loads(refused.value.body)["message"]


def test_nodes_are_ready_and_listed_by_kubectl(cluster: Cluster) -> None:
    out = cluster.kubectl("get", "nodes", "-o", "json").stdout
    nodes = json.loads(out)["items"]
    assert nodes, "the cluster has nodes"
    for node in nodes:
        conditions = {c["type"]: c["status"] for c in node["status"]["conditions"]}
        assert conditions["Ready"] == "True", node["metadata"]["name"]
