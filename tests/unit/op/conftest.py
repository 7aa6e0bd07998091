"""Shared fixtures: parsed example TccLogs and deterministic secret generation."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tcclog_operator.models import TccLog
from tcclog_operator.render import fill_secret_values, render

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples"


def example_body(name: str, **metadata: Any) -> dict[str, Any]:
    body = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())
    body["metadata"] = {**body["metadata"], "uid": "0000-uid", "generation": 1, **metadata}
    return body


def make(spec: dict[str, Any], name: str = "demo", **metadata: Any) -> TccLog:
    """A TccLog from a spec fragment (version filled in), in namespace tcc with a uid."""
    meta = {"name": name, "namespace": "tcc", "uid": "0000-uid", "generation": 1, **metadata}
    return TccLog.from_body({"metadata": meta, "spec": {"version": "0.1.0", **spec}})


def counter_generator() -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"generated-{next(numbers)}"


def render_all(
    tcclog: TccLog, existing: dict[str, dict[str, str]] | None = None, **kwargs: Any
) -> list[dict[str, Any]]:
    values = fill_secret_values(tcclog, existing or {}, generate=counter_generator())
    return render(tcclog, secret_values=values, **kwargs)


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["kind"] == kind]


def one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = by_kind(objects, kind)
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


@pytest.fixture
def minimal() -> TccLog:
    return TccLog.from_body(example_body("minimal"))


@pytest.fixture
def production() -> TccLog:
    return TccLog.from_body(example_body("production"))
