"""The generated CRD: committed file current, schema structural, rules present."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tcclog_operator.models import TccLogSpec
from tcclog_operator.models.crd import (
    CRDS,
    TCCLOGBACKUP_CRD,
    CrdDefinition,
    crd_yaml,
    custom_resource_definition,
)

from .conftest import REPO

FORBIDDEN_KEYWORDS = ("$ref", "anyOf", "oneOf", "allOf", "not", "$defs", "title")


def version() -> dict[str, Any]:
    return custom_resource_definition()["spec"]["versions"][0]


def schema() -> dict[str, Any]:
    return version()["schema"]["openAPIV3Schema"]


def walk(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema node with its path."""
    yield path, node
    for name, child in (node.get("properties") or {}).items():
        yield from walk(child, f"{path}.{name}")
    if isinstance(node.get("additionalProperties"), dict):
        yield from walk(node["additionalProperties"], f"{path}.*")
    if "items" in node:
        yield from walk(node["items"], f"{path}[]")


@pytest.mark.parametrize("definition", CRDS, ids=lambda d: d.kind)
def test_committed_crds_are_current(definition: CrdDefinition) -> None:
    committed = REPO / "crds" / definition.file_name
    assert committed.read_text() == crd_yaml(definition), (
        f"crds/{definition.file_name} is stale: run `make crds`"
    )
    kustomization = yaml.safe_load((REPO / "crds" / "kustomization.yaml").read_text())
    assert definition.file_name in kustomization["resources"]


def test_backup_crd_is_structural_with_an_immutable_spec() -> None:
    crd = custom_resource_definition(TCCLOGBACKUP_CRD)
    root = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for path, node in walk(root):
        assert not set(node) & set(FORBIDDEN_KEYWORDS), path
    spec = root["properties"]["spec"]
    assert {"rule": "self == oldSelf",
            "message": "spec is immutable: create a new TccLogBackup instead"} in (
        spec["x-kubernetes-validations"])
    assert spec["properties"]["method"]["enum"] == ["full", "diff", "incr", "logical"]
    assert crd["spec"]["versions"][0]["subresources"] == {"status": {}}


def test_names_and_scope() -> None:
    spec = custom_resource_definition()["spec"]
    assert spec["group"] == "tcclog.com"
    assert spec["scope"] == "Namespaced"
    assert spec["names"]["kind"] == "TccLog"
    assert spec["names"]["plural"] == "tcclogs"
    assert spec["names"]["shortNames"] == ["tcc"]
    assert "all" in spec["names"]["categories"]
    assert version()["name"] == "v1alpha1"
    assert version()["subresources"] == {"status": {}}


def test_schema_is_structural() -> None:
    for path, node in walk(schema()):
        for keyword in FORBIDDEN_KEYWORDS:
            assert keyword not in node, f"{path or '<root>'} uses {keyword}"
        assert node.get("additionalProperties") is not False, f"{path}: additionalProperties"
        typed = "type" in node or node.get("x-kubernetes-int-or-string") is True
        assert typed, f"{path or '<root>'} has no type"
        if node.get("x-kubernetes-int-or-string"):
            assert "type" not in node, f"{path}: int-or-string must not declare a type"


def test_every_spec_and_status_field_is_described() -> None:
    for section in ("spec", "status"):
        for path, node in walk(schema()["properties"][section], section):
            if path.endswith(".*"):
                continue  # values of a map: the map itself is described
            assert node.get("description"), f"{path} has no description (kubectl explain)"


def test_cel_cost_bounds_on_spec() -> None:
    # The API server's cost estimator refuses rules over unbounded strings and lists.
    for path, node in walk(schema()["properties"]["spec"], "spec"):
        if node.get("type") == "string" and "enum" not in node and not path.endswith(".*"):
            assert "maxLength" in node, f"{path}: string without maxLength"
        if node.get("type") == "array":
            assert "maxItems" in node, f"{path}: array without maxItems"
        if node.get("type") == "object" and "additionalProperties" in node:
            assert "maxProperties" in node, f"{path}: map without maxProperties"


def test_no_defaults_under_status() -> None:
    for path, node in walk(schema()["properties"]["status"], "status"):
        assert "default" not in node, f"{path} has a default"


def test_schema_defaults_match_the_models() -> None:
    """Defaults from the schema and from code agree, so Argo CD and render see one truth."""
    spec_schema = schema()["properties"]["spec"]["properties"]
    bare = TccLogSpec(version="0.1.0").to_wire()
    for section in ("backend", "postgres", "redis", "monitoring"):
        assert spec_schema[section]["default"] == bare[section], section


def rules() -> list[dict[str, str]]:
    return [rule for _, node in walk(schema()) for rule in node.get("x-kubernetes-validations", [])]


def test_cel_rules_present_with_distinct_messages() -> None:
    messages = [rule["message"] for rule in rules()]
    assert len(set(messages)) >= 14
    assert len(set(messages)) == len(messages)
    expected = [
        "backend.autoscaling.minReplicas must be less than or equal to maxReplicas",
        "backend.ingress.tlsSecretName requires backend.ingress.host",
        "postgres.storage.storageClassName is immutable",
        "backup.s3.bucket is required when backup is enabled",
        "backup.s3.credentialsSecretRef is required when backup is enabled",
        "backend.resources.requests.cpu must be less than or equal to backend.resources.limits.cpu",
    ]
    for message in expected:
        assert message in messages


def test_transition_rules_use_old_self() -> None:
    transition = [rule for rule in rules() if "oldSelf" in rule["rule"]]
    assert {r["message"] for r in transition} == {
        "postgres.storage.storageClassName is immutable",
        "postgres.storage.size cannot be decreased",
        "bootstrap is immutable: it only takes effect when the cluster is created",
    }


def test_no_backslashes_in_cel() -> None:
    # CEL string literals reject `\.`; regexes use [.] instead.
    for rule in rules():
        assert "\\" not in rule["rule"], rule["rule"]


def test_printer_columns() -> None:
    columns = {c["name"]: c for c in version()["additionalPrinterColumns"]}
    assert columns["Ready"]["jsonPath"] == '.status.conditions[?(@.type=="Ready")].status'
    assert columns["Version"]["jsonPath"] == ".spec.version"
    assert {"Backend", "Postgres", "Age"} <= set(columns)


def test_yaml_round_trips() -> None:
    assert yaml.safe_load(crd_yaml()) == custom_resource_definition()
