"""Monitoring on a real API server: without the Prometheus Operator CRDs a condition says
so; once they are installed the PrometheusRule, monitors and dashboard appear, and a
deleted rule comes back.

The CRDs installed here stand in for the Prometheus Operator's: same group, version,
kinds and scope, but an open schema (the real ones are several MB; the rule files
themselves are checked by promtool in tests/integration/monitoring).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from .conftest import Cluster
from .operator import OperatorProcess
from .test_operator import condition, create, get, minimal, wait_ready
from .wait import wait_for

GROUP = "monitoring.coreos.com"
KINDS = {"PrometheusRule": "prometheusrules", "ServiceMonitor": "servicemonitors",
         "PodMonitor": "podmonitors"}


def stand_in_crd(kind: str, plural: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "singular": kind.lower(),
                      "listKind": f"{kind}List"},
            "versions": [{
                "name": "v1", "served": True, "storage": True,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {"spec": {"type": "object",
                                            "x-kubernetes-preserve-unknown-fields": True}},
                }},
            }],
        },
    }


@pytest.fixture
def prometheus_crds(api: client.ApiClient) -> Iterator[None]:
    """Installs the stand-in CRDs; removes them afterwards, and waits until the operator's
    discovery (2 s in these tests) has noticed, so later tests see a cluster without them."""
    extensions = client.ApiextensionsV1Api(api)
    for kind, plural in KINDS.items():
        extensions.create_custom_resource_definition(stand_in_crd(kind, plural))
    try:
        yield
    finally:
        for plural in KINDS.values():
            extensions.delete_custom_resource_definition(f"{plural}.{GROUP}")
        wait_for(lambda: not any(
            crd.metadata.name.endswith(GROUP)
            for crd in extensions.list_custom_resource_definition().items),
            timeout=60, what="stand-in CRDs gone")
        time.sleep(3)


def monitoring_objects(api: client.ApiClient, namespace: str) -> dict[str, list[str]]:
    custom = client.CustomObjectsApi(api)
    return {kind: sorted(item["metadata"]["name"] for item in custom.list_namespaced_custom_object(
        GROUP, "v1", namespace, plural)["items"]) for kind, plural in KINDS.items()}


def test_monitoring_waits_for_the_prometheus_operator_then_appears(
        cluster: Cluster, api: client.ApiClient, operator: OperatorProcess, namespace: str,
        request: pytest.FixtureRequest) -> None:
    create(api, minimal(namespace))
    obj = wait_ready(api, namespace)
    unavailable = condition(obj, "MonitoringAvailable")
    assert unavailable is not None
    assert (unavailable["status"], unavailable["reason"]) == ("False", "PrometheusOperatorMissing")
    assert "monitoring.coreos.com" in unavailable["message"]
    assert obj["status"]["components"]["monitoring"]["summary"] == "unavailable"
    # Missing monitoring never costs readiness.
    assert condition(obj, "Ready")["status"] == "True"  # type: ignore[index]
    events = cluster.kubectl("get", "events", "-n", namespace,
                             "--field-selector", "reason=MonitoringUnavailable", "-o", "name")
    assert events.stdout.strip(), "no MonitoringUnavailable event"

    request.getfixturevalue("prometheus_crds")
    wait_for(lambda: monitoring_objects(api, namespace) == {
        "PrometheusRule": ["demo"], "ServiceMonitor": ["demo-backend"],
        "PodMonitor": ["demo-postgres", "demo-redis"]},
        timeout=60, what="PrometheusRule and monitors created")
    wait_for(lambda: (condition(get(api, namespace), "MonitoringAvailable") or {}).get("status")
             == "True", timeout=30, what="MonitoringAvailable=True")
    custom = client.CustomObjectsApi(api)
    rule = custom.get_namespaced_custom_object(GROUP, "v1", namespace, "prometheusrules", "demo")
    alerts = {r["alert"] for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r}
    assert {"TccLogPostgresPrimaryMissing", "TccLogRedisMasterMissing"} <= alerts, alerts
    owner = rule["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"]) == ("TccLog", "demo")
    dashboard = client.CoreV1Api(api).read_namespaced_config_map("demo-dashboard", namespace)
    assert dashboard.metadata.labels.get("grafana_dashboard") == "1"

    # A deleted rule is a drifted child like any other: it comes back.
    custom.delete_namespaced_custom_object(GROUP, "v1", namespace, "prometheusrules", "demo")
    wait_for(lambda: "demo" in monitoring_objects(api, namespace)["PrometheusRule"],
             timeout=30, what="PrometheusRule restored")
    assert condition(get(api, namespace), "Ready")["status"] == "True"  # type: ignore[index]
