"""deploy/: the kustomize install stays in step with what the operator does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tcclog_operator.kube import CHILD_RESOURCES
from tcclog_operator.render import MANAGED_KINDS

from .conftest import REPO
from .test_render import assert_restricted

DEPLOY = REPO / "deploy"


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def cluster_role() -> dict[str, Any]:
    docs = documents(DEPLOY / "base" / "rbac.yaml")
    return next(d for d in docs if d["kind"] == "ClusterRole")


def allowed(group: str, resource: str) -> set[str]:
    verbs: set[str] = set()
    for rule in cluster_role()["rules"]:
        if group in rule["apiGroups"] and resource in rule["resources"]:
            verbs |= set(rule["verbs"])
    return verbs


def plural(kind: str) -> str:
    if kind.endswith("y"):
        return kind.lower()[:-1] + "ies"
    return kind.lower() + ("es" if kind.endswith("s") else "s")


def test_kustomization_resources_exist() -> None:
    for folder in (DEPLOY, DEPLOY / "base", DEPLOY / "ha", REPO / "crds"):
        kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
        for resource in kustomization["resources"]:
            assert (folder / resource).exists(), f"{folder}: {resource}"


def test_role_covers_every_rendered_kind() -> None:
    for api_version, kind in MANAGED_KINDS:
        group = api_version.rpartition("/")[0]
        verbs = allowed(group, plural(kind))
        needed = {"get", "list", "watch", "create", "patch", "delete"}
        assert needed <= verbs, f"{kind}: missing {needed - verbs}"


def test_role_covers_every_watched_kind() -> None:
    for resource in CHILD_RESOURCES:
        assert {"get", "list", "watch"} <= allowed(resource.group, resource.plural), resource


def test_role_covers_tcclogbackups_and_their_jobs() -> None:
    assert {"get", "list", "watch", "patch"} <= allowed("tcclog.com", "tcclogbackups")
    assert "patch" in allowed("tcclog.com", "tcclogbackups/status")
    assert {"create", "patch", "get"} <= allowed("batch", "jobs")


def test_role_covers_the_tcclog_and_kopf() -> None:
    assert {"list", "watch", "patch"} <= allowed("tcclog.com", "tcclogs")
    assert "patch" in allowed("tcclog.com", "tcclogs/status")
    assert "create" in allowed("", "events")
    assert {"list", "watch"} <= allowed("apiextensions.k8s.io", "customresourcedefinitions")
    assert {"list", "watch"} <= allowed("", "namespaces")
    assert "patch" in allowed("kopf.dev", "clusterkopfpeerings")


def test_role_grants_no_wildcards() -> None:
    for rule in cluster_role()["rules"]:
        assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"]


def test_operator_pod_meets_restricted() -> None:
    deployment = documents(DEPLOY / "base" / "deployment.yaml")[0]
    pod = deployment["spec"]["template"]["spec"]
    assert_restricted(pod)
    assert pod["containers"][0]["command"] == ["tcclog-operator", "run"]
