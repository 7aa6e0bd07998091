"""The operator's own Prometheus metrics (served by `tcclog-operator run`)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

RECONCILES = Counter(
    "tcclog_operator_reconciles_total", "Reconciles of TccLog objects, by trigger and outcome.",
    ["trigger", "outcome"],
)
RECONCILE_SECONDS = Histogram(
    "tcclog_operator_reconcile_duration_seconds", "Wall time of one reconcile.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
API_WRITES = Counter(
    "tcclog_operator_api_writes_total", "Write requests the operator sent to the API server.",
    ["verb", "kind"],
)
MANAGED_TCCLOGS = Gauge("tcclog_operator_managed_tcclogs", "TccLog objects currently known.")

# Per TccLog, from the status the operator computed: what the alert rules in
# render/monitoring.py watch even when no exporter runs (e.g. KWOK pods, exporter down).
_PER_TCCLOG = ["namespace", "tcclog"]
BACKUP_LAST_SUCCESS = Gauge(
    "tcclog_operator_backup_last_success_timestamp_seconds",
    "Unix time of the TccLog's last successful backup (status.lastSuccessfulBackup).",
    _PER_TCCLOG,
)
POSTGRES_PRIMARY_PRESENT = Gauge(
    "tcclog_operator_postgres_primary_present",
    "1 when Patroni has labelled a primary pod, else 0.", _PER_TCCLOG,
)
REDIS_MASTER_PRESENT = Gauge(
    "tcclog_operator_redis_master_present",
    "1 when Sentinel reports a Redis master, else 0.", _PER_TCCLOG,
)


RECONCILE_ERRORS = Counter(
    "tcclog_operator_reconcile_errors_total",
    "Reconciles of one TccLog that failed (apply refused, API errors). Series exist only "
    "for TccLogs that failed at least once.", _PER_TCCLOG,
)


def reconcile_failed(namespace: str, name: str, trigger: str) -> None:
    RECONCILES.labels(trigger=trigger, outcome="error").inc()
    RECONCILE_ERRORS.labels(namespace, name).inc()


def observe_status(namespace: str, name: str, status: Mapping[str, Any],
                   created: str | None = None) -> None:
    """Export the parts of a TccLog's status that alerts need."""
    if not status:
        return
    components = status.get("components") or {}
    POSTGRES_PRIMARY_PRESENT.labels(namespace, name).set(
        1 if (components.get("postgres") or {}).get("primary") else 0)
    REDIS_MASTER_PRESENT.labels(namespace, name).set(
        1 if (components.get("redis") or {}).get("master") else 0)
    # The error counter exists from the first reconcile at 0, so the alert's increase()
    # counts the very first failure too.
    RECONCILE_ERRORS.labels(namespace, name)
    if (status.get("components") or {}).get("backup") is None:
        return
    # Before any success, the clock starts at the TccLog's creation: backups that fail from
    # day one still make TccLogBackupTooOld fire once the allowed age has passed.
    last = status.get("lastSuccessfulBackup") or created
    if last:
        when = datetime.fromisoformat(last.replace("Z", "+00:00"))
        BACKUP_LAST_SUCCESS.labels(namespace, name).set(when.timestamp())


def forget(namespace: str, name: str) -> None:
    """A deleted TccLog leaves no stale series behind."""
    for gauge in (BACKUP_LAST_SUCCESS, POSTGRES_PRIMARY_PRESENT, REDIS_MASTER_PRESENT,
                  RECONCILE_ERRORS):
        with contextlib.suppress(KeyError):
            gauge.remove(namespace, name)
