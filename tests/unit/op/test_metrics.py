"""Per-TccLog gauges the alert rules read (render/monitoring.py)."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from tcclog_operator import metrics

pytestmark = pytest.mark.unit


def value(name: str, namespace: str = "tcc", tcclog: str = "m") -> float | None:
    return REGISTRY.get_sample_value(name, {"namespace": namespace, "tcclog": tcclog})


def test_gauges_follow_status_and_go_with_the_tcclog() -> None:
    status = {"components": {"postgres": {"primary": "m-postgres-0"}, "redis": {},
                             "backup": {"summary": "ok"}},
              "lastSuccessfulBackup": "2026-12-04T03:00:00Z"}
    metrics.observe_status("tcc", "m", status, "2026-12-01T00:00:00Z")
    assert value("tcclog_operator_postgres_primary_present") == 1
    assert value("tcclog_operator_redis_master_present") == 0
    assert value("tcclog_operator_backup_last_success_timestamp_seconds") == 1796353200
    assert value("tcclog_operator_reconcile_errors_total") == 0  # exists before any failure
    metrics.reconcile_failed("tcc", "m", "resync")
    assert value("tcclog_operator_reconcile_errors_total") == 1
    metrics.forget("tcc", "m")
    assert value("tcclog_operator_postgres_primary_present") is None
    assert value("tcclog_operator_reconcile_errors_total") is None


def test_backup_age_counts_from_creation_until_a_first_success() -> None:
    status = {"components": {"backup": {"summary": "none yet"}}}
    metrics.observe_status("tcc", "fresh", status, "2026-12-04T00:00:00Z")
    assert value("tcclog_operator_backup_last_success_timestamp_seconds",
                 tcclog="fresh") == 1796342400
    metrics.observe_status("tcc", "nobackup", {"components": {}}, "2026-12-04T00:00:00Z")
    assert value("tcclog_operator_backup_last_success_timestamp_seconds",
                 tcclog="nobackup") is None
    metrics.forget("tcc", "fresh")
    metrics.forget("tcc", "nobackup")
