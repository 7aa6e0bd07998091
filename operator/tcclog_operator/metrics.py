"""The operator's own Prometheus metrics (served by `tcclog-operator run`)."""

from __future__ import annotations

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
