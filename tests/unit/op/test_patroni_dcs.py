"""Patroni's dynamic configuration after bootstrap: what the operator writes to the DCS."""

from __future__ import annotations

import pytest

from tcclog_operator.patroni_dcs import config_map_name, updated_dynamic_config

from .conftest import make

pytestmark = pytest.mark.unit


def test_in_line_config_needs_no_write() -> None:
    tcclog = make({"postgres": {"instances": 3, "synchronousMode": True}})
    current = updated_dynamic_config({}, tcclog)
    assert current is not None and current["synchronous_mode"] is True
    assert updated_dynamic_config(current, tcclog) is None
    assert config_map_name(tcclog) == "demo-postgres-config"


def test_spec_wins_for_its_keys_and_foreign_keys_stay() -> None:
    before = make({"postgres": {"instances": 3, "synchronousMode": True,
                                "parameters": {"work_mem": "4MB", "max_connections": "50"}}})
    current = {**(updated_dynamic_config({}, before) or {}), "failsafe_mode": True}
    current["postgresql"] = {**current["postgresql"], "pg_hba": ["host all all 0.0.0.0/0 md5"]}
    after = make({"postgres": {"instances": 3, "synchronousMode": False,
                               "parameters": {"work_mem": "8MB"}}})
    updated = updated_dynamic_config(current, after)
    assert updated is not None
    assert updated["synchronous_mode"] is False
    assert updated["failsafe_mode"] is True  # an admin's key stays
    assert updated["postgresql"]["pg_hba"] == ["host all all 0.0.0.0/0 md5"]
    # Parameters are the spec's as a whole: max_connections was removed from the spec.
    assert updated["postgresql"]["parameters"]["work_mem"] == "8MB"
    assert "max_connections" not in updated["postgresql"]["parameters"]
