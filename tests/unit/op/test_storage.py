"""Growing PostgreSQL storage: when the StatefulSet must be re-created."""

from __future__ import annotations

from typing import Any

import pytest

from tcclog_operator.render import RenderSettings, fill_secret_values
from tcclog_operator.render.postgres import stateful_set
from tcclog_operator.storage import claim_size, needs_growth

from .conftest import counter_generator, make

pytestmark = pytest.mark.unit


def sts(size: str) -> dict[str, Any]:
    tcclog = make({"postgres": {"storage": {"size": size}}})
    values = fill_secret_values(tcclog, {}, generate=counter_generator())
    return stateful_set(tcclog, RenderSettings(), values)


def test_claim_size_is_canonical() -> None:
    assert claim_size(sts("1024Mi")) == "1Gi"
    assert claim_size({"spec": {}}) is None


def test_growth_only_when_a_live_statefulset_has_another_size() -> None:
    assert not needs_growth(sts("2Gi"), None)  # first creation
    assert not needs_growth(sts("2Gi"), sts("2Gi"))
    assert not needs_growth(sts("2Gi"), sts("2048Mi"))  # same quantity, other spelling
    assert needs_growth(sts("2Gi"), sts("1Gi"))
