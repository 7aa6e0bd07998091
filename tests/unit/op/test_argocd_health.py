"""Argo CD health checks (deploy/argocd/resource_customizations) run as Argo CD runs them.

Argo CD evaluates health.lua with gopher-lua (Lua 5.1) and the live object in the global
`obj`; its own test harness feeds each health_test.yaml case's testdata file and compares
status and message. This does the same with lupa's Lua 5.1 runtime, and also feeds status
that `tcclog_operator.status` really computes, so script and operator cannot drift apart.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from lupa import lua51

from tcclog_operator import status
from tcclog_operator.models import TccLog

from .conftest import REPO, example_body

CUSTOMIZATIONS = REPO / "deploy/argocd/resource_customizations"
CHECKS = sorted(p.parent for p in CUSTOMIZATIONS.glob("*/*/health.lua"))
REQUIRED_CASES = {
    "TccLog": {"no_status", "stale_generation", "progressing", "degraded", "healthy"},
    "TccLogBackup": {"no_status", "pending", "running", "succeeded", "failed"},
}


def health(check: Path, obj: dict[str, Any]) -> dict[str, str]:
    """Run `check`/health.lua on `obj` in a fresh Lua 5.1 state, as Argo CD does."""
    lua = lua51.LuaRuntime(unpack_returned_tuples=True)
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute((check / "health.lua").read_text())
    return dict(result.items())


def cases() -> list[Any]:
    found = []
    for check in CHECKS:
        spec = yaml.safe_load((check / "health_test.yaml").read_text())
        for case in spec["tests"]:
            kind = f"{check.parent.name}/{check.name}"
            found.append(pytest.param(check, case, id=f"{kind}:{Path(case['inputPath']).stem}"))
    return found


def test_every_kind_of_the_api_has_a_health_check() -> None:
    # Each CRD in crds/ needs its own check.
    kinds = {(doc["spec"]["group"], doc["spec"]["names"]["kind"])
             for path in (REPO / "crds").glob("*.yaml")
             for doc in yaml.safe_load_all(path.read_text())
             if doc and doc.get("kind") == "CustomResourceDefinition"}
    assert {("tcclog.com", "TccLog"), ("tcclog.com", "TccLogBackup")} <= kinds
    assert {(c.parent.name, c.name) for c in CHECKS} == kinds


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.name)
def test_health_tests_cover_the_required_cases_and_every_testdata_file(check: Path) -> None:
    spec = yaml.safe_load((check / "health_test.yaml").read_text())
    inputs = {case["inputPath"] for case in spec["tests"]}
    on_disk = {str(p.relative_to(check)) for p in (check / "testdata").glob("*.yaml")}
    assert inputs == on_disk
    assert {Path(p).stem for p in inputs} >= REQUIRED_CASES[check.name]
    for case in spec["tests"]:
        assert case["healthStatus"]["status"] in {"Healthy", "Progressing", "Degraded"}
        assert case["healthStatus"]["message"]


@pytest.mark.parametrize(("check", "case"), cases())
def test_health_lua_gives_the_expected_status_and_message(check: Path,
                                                          case: dict[str, Any]) -> None:
    obj = yaml.safe_load((check / case["inputPath"]).read_text())
    assert health(check, obj) == case["healthStatus"]


# ------------------------------------------------- what the operator really reports
TCCLOG = CUSTOMIZATIONS / "tcclog.com/TccLog"


def deployment(ready: int, updated: int, stuck: bool = False) -> dict[str, Any]:
    conditions = [{"type": "Progressing", "status": "False",
                   "reason": "ProgressDeadlineExceeded", "message": "timed out"}]
    return {"metadata": {"generation": 1}, "spec": {"replicas": 1}, "status": {
        "observedGeneration": 1, "replicas": max(ready, updated), "readyReplicas": ready,
        "updatedReplicas": updated, "availableReplicas": ready,
        "conditions": conditions if stuck else []}}


@pytest.mark.parametrize(("live", "expected"), [
    (None, "Progressing"),
    (deployment(ready=0, updated=0), "Progressing"),
    (deployment(ready=1, updated=1), "Healthy"),
    (deployment(ready=0, updated=1, stuck=True), "Degraded"),
])
def test_status_computed_by_the_operator_maps_to_the_argocd_verdict(
        live: dict[str, Any] | None, expected: str) -> None:
    body = example_body("minimal", generation=3)
    tcclog = TccLog.from_body(body)
    children = {("Deployment", "demo-backend"): live} if live else {}
    body["status"] = status.compute(tcclog, children, now=datetime(2026, 1, 1, tzinfo=UTC))
    verdict = health(TCCLOG, body)
    assert verdict["status"] == expected
    assert verdict["message"]

    body["metadata"]["generation"] = 4  # the user edits spec; the operator has not seen it
    assert health(TCCLOG, body) == {
        "status": "Progressing",
        "message": "Waiting for the operator to observe generation 4"}
