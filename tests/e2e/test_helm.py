"""The Helm chart (deploy/helm/tcclog-operator): lint, template, and the same objects as
the kustomize install for default values (the ha overlay for replicas > 1).

helm comes from its Go module (hack/k8s/build.sh helm, cached by version) unless
TCCLOG_HELM names a binary. kustomize is kubectl's own.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cluster.local import REPO

from .conftest import Cluster

CHART = REPO / "deploy/helm/tcclog-operator"
NAMESPACE = "tcclog-system"
# Labels helm charts conventionally add (the kustomize install has no release to name);
# managed-by says Helm or kustomize.
HELM_LABELS = {"helm.sh/chart", "app.kubernetes.io/managed-by", "app.kubernetes.io/instance",
               "app.kubernetes.io/version"}
Key = tuple[str, str, str, str]


@pytest.fixture(scope="session")
def helm() -> str:
    if os.environ.get("TCCLOG_HELM"):
        return os.environ["TCCLOG_HELM"]
    out = subprocess.run([str(REPO / "hack/k8s/build.sh"), "helm"], check=True,
                         capture_output=True, text=True, timeout=3600).stdout
    return str(Path(out.strip().splitlines()[-1]) / "helm")


def run_helm(helm: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([helm, *args], capture_output=True, text=True, check=check,
                          timeout=120)


def template(helm: str, *sets: str, crds: bool = True, namespace: str = NAMESPACE) -> str:
    args = ["template", "tcclog", str(CHART), "-n", namespace]
    args += ["--include-crds"] if crds else []
    for value in sets:
        args += ["--set", value]
    return run_helm(helm, *args).stdout


def objects(text: str) -> dict[Key, dict[str, Any]]:
    """Parsed objects by (apiVersion, kind, namespace, name), helm's own labels removed."""
    found = {}
    for obj in (d for d in yaml.safe_load_all(text) if d):
        meta = obj["metadata"]
        # helm copies crds/ verbatim (no templating), so kustomize's common labels stay off.
        ignored = HELM_LABELS | ({"app.kubernetes.io/part-of"}
                                 if obj["kind"] == "CustomResourceDefinition" else set())
        for label in ignored & meta.get("labels", {}).keys():
            del meta["labels"][label]
        if meta.get("labels") == {}:
            del meta["labels"]
        found[(obj["apiVersion"], obj["kind"], meta.get("namespace", ""), meta["name"])] = obj
    return found


def kustomize(cluster: Cluster, folder: str) -> dict[Key, dict[str, Any]]:
    return objects(cluster.kubectl("kustomize", str(REPO / folder)).stdout)


def without(found: dict[Key, dict[str, Any]], *kinds: str) -> dict[Key, dict[str, Any]]:
    return {key: obj for key, obj in found.items() if key[1] not in kinds}


def test_helm_lint_passes_for_default_and_full_values(helm: str) -> None:
    run_helm(helm, "lint", "--strict", str(CHART))
    run_helm(helm, "lint", "--strict", str(CHART), "--set", "replicas=3",
             "--set", "watchNamespaces={tcc,tcc-staging}", "--set", "logLevel=debug",
             "--set", "metrics.serviceMonitor.enabled=true")


def test_default_values_render_the_kustomize_install(cluster: Cluster, helm: str) -> None:
    chart = objects(template(helm))
    install = kustomize(cluster, "deploy")
    # helm installs into a namespace it is given (-n tcclog-system --create-namespace).
    assert [key for key in install if key not in chart] == [
        ("v1", "Namespace", "", NAMESPACE)]
    assert chart == without(install, "Namespace")


def test_several_replicas_render_the_ha_overlay(cluster: Cluster, helm: str) -> None:
    chart = objects(template(helm, "replicas=2", crds=False))
    ha = without(kustomize(cluster, "deploy/ha"), "Namespace", "CustomResourceDefinition")
    assert chart == ha


def test_values_reach_the_deployment(helm: str) -> None:
    chart = objects(template(helm, "image.tag=0.3.0", "image.repository=reg.example/tcc",
                             "watchNamespaces={tcc,tcc-staging}", "logLevel=debug",
                             "resources.limits.memory=1Gi", "replicas=2", crds=False))
    deployment = chart[("apps/v1", "Deployment", NAMESPACE, "tcclog-operator")]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert container["image"] == "reg.example/tcc:0.3.0"
    assert env["TCCLOG_OPERATOR_APP_IMAGE_REPOSITORY"] == "reg.example/tcc"
    assert env["TCCLOG_OPERATOR_NAMESPACES"] == "tcc,tcc-staging"
    assert env["TCCLOG_OPERATOR_DEBUG"] == "true"
    assert {"name": "TCCLOG_OPERATOR_POD_NAMESPACE",  # NetworkPolicies admit it from there
            "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}} in container["env"]
    assert container["resources"]["limits"]["memory"] == "1Gi"
    # A namespaced operator's replicas meet in one KopfPeering per watched namespace.
    peerings = {(k[1], k[2]) for k in chart if k[1].endswith("KopfPeering")}
    assert peerings == {("KopfPeering", "tcc"), ("KopfPeering", "tcc-staging")}

    failed = run_helm(helm, "template", str(CHART), "--set", "logLevel=loud", check=False)
    assert failed.returncode != 0 and "logLevel must be info or debug" in failed.stderr


def test_service_monitor_scrapes_the_operator_metrics_port(helm: str) -> None:
    chart = objects(template(helm, "metrics.serviceMonitor.enabled=true",
                             "metrics.serviceMonitor.labels.release=prometheus", crds=False))
    monitor = chart[("monitoring.coreos.com/v1", "ServiceMonitor", NAMESPACE, "tcclog-operator")]
    service = chart[("v1", "Service", NAMESPACE, "tcclog-operator-metrics")]
    pod = chart[("apps/v1", "Deployment", NAMESPACE, "tcclog-operator")]["spec"]["template"]
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= \
        service["metadata"]["labels"].items()
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"]


def test_rendered_chart_is_accepted_by_the_api_server(cluster: Cluster, helm: str,
                                                      namespace: str) -> None:
    # As `helm install` does: the CRDs first (the same ones deploy/ installs) ...
    crds = run_helm(helm, "show", "crds", str(CHART)).stdout
    cluster.kubectl("apply", "--server-side", "-f", "-", input=crds)
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s",
                    *(f"crd/{key[3]}" for key in objects(crds)))
    # ... then every templated object, through a server-side dry run: schema validation
    # and admission, no change.
    rendered = template(helm, "replicas=2", f"watchNamespaces={{{namespace}}}",
                        namespace=namespace, crds=False)
    out = cluster.kubectl("apply", "--server-side", "--dry-run=server", "--force-conflicts",
                          "--field-manager=helm-dry-run", "-f", "-", input=rendered,
                          check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("serverside-applied") == len(objects(rendered)), out.stdout
