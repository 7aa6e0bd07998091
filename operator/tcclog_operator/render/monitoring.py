"""Monitoring: a PrometheusRule, ServiceMonitor/PodMonitors and a Grafana dashboard. Pure.

The Prometheus Operator kinds exist only where its CRDs are installed, so the caller says
whether they are available; without them this returns [] (and status says why).

Scoping: every alert and dashboard query selects `namespace="<ns>", tcclog="<name>"`, so
two TccLogs in one namespace never mix. The monitors rendered here put the `tcclog` label
on every scraped series (from the pods' app.kubernetes.io/instance label); the operator's
own gauges carry `namespace` and `tcclog` themselves (its ServiceMonitor must honour them).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ..models import TccLog
from .exporters import METRICS_PORT_NAME
from .meta import (
    INSTANCE_LABEL,
    ROLE_LABEL,
    content_hash,
    labels,
    names,
    namespace_of,
    owner_reference,
    selector_labels,
)

COMPONENT = "monitoring"
MONITORING_API = "monitoring.coreos.com/v1"
#: Where each alert's runbook lives (docs/MONITORING.md, one section per alert).
RUNBOOK_BASE_URL = "https://github.com/tcclog/tcclog/blob/main/docs/MONITORING.md"
#: The Grafana sidecar loads every ConfigMap carrying this label as a dashboard.
GRAFANA_DASHBOARD_LABEL = "grafana_dashboard"
DASHBOARD_FILE = "tcclog.json"
SCRAPE_INTERVAL = "30s"
#: Routes left out of the HTTP error and latency alerts: probes, the scrape itself, and
#: the AI assistant (slow by nature, and it has its own alert).
EXCLUDED_ROUTES = "/api/v1/ai/.*|/metrics|/healthz|/readyz"


@dataclass(frozen=True)
class Alert:
    name: str
    severity: str  # critical: someone acts now; warning: within working hours
    expr: str
    for_: str
    summary: str
    description: str

    @property
    def anchor(self) -> str:
        """GitHub's anchor for the `### <name>` heading in docs/MONITORING.md."""
        return self.name.lower()


def _sel(tcclog: TccLog, extra: str = "") -> str:
    base = f'namespace="{namespace_of(tcclog)}", tcclog="{tcclog.metadata.name}"'
    return "{" + base + (f", {extra}" if extra else "") + "}"


def _by(expr: str) -> str:
    return f"sum by (namespace, tcclog) ({expr})"


def backup_interval_hours(schedule: str) -> int:
    """How often a cron schedule fires, roughly: hourly, daily, weekly or monthly."""
    macros = {"@hourly": 1, "@daily": 24, "@weekly": 168, "@monthly": 744,
              "@yearly": 8784, "@annually": 8784}
    if schedule in macros:
        return macros[schedule]
    _minute, hour, day_of_month, _month, day_of_week = schedule.split()
    if hour == "*" or hour.startswith("*/"):
        return int(hour[2:]) if hour.startswith("*/") and hour[2:].isdigit() else 1
    if day_of_week not in ("*", "?"):
        return 168
    if day_of_month not in ("*", "?"):
        return 744
    return 24


def backup_max_age_hours(schedule: str) -> int:
    """A missed run plus a margin: 31 h for a daily schedule."""
    interval = backup_interval_hours(schedule)
    return interval + max(1, interval // 4) + 1


def alerts(tcclog: TccLog) -> list[Alert]:
    every = _sel(tcclog)
    api = _sel(tcclog, f'route!~"{EXCLUDED_ROUTES}"')
    api_5xx = _sel(tcclog, f'route!~"{EXCLUDED_ROUTES}", status=~"5.."')
    waiting = _sel(tcclog, 'state="waiting"')
    available = _sel(tcclog, 'state="available"')
    ai_down = _sel(tcclog, 'reason=~"timeout|unreachable|upstream_error"')
    master = _sel(tcclog, 'role="master"')
    where = "TccLog {{ $labels.namespace }}/{{ $labels.tcclog }}"
    found = [
        Alert("TccLogHighErrorRate", "critical",
              f"{_by(f'rate(tcclog_http_requests_total{api_5xx}[5m])')}"
              f" / {_by(f'rate(tcclog_http_requests_total{api}[5m])')} > 0.05",
              "10m", "More than 5% of API requests fail",
              f"{{{{ $value | humanizePercentage }}}} of the API requests of {where} "
              "answered 5xx for 10 minutes."),
        Alert("TccLogHighLatency", "warning",
              "histogram_quantile(0.95, sum by (namespace, tcclog, le) ("
              f"rate(tcclog_http_request_duration_seconds_bucket{api}[5m]))) > 1",
              "15m", "API p95 latency above 1 s",
              f"The 95th percentile of API latency of {where} is "
              "{{ $value | humanizeDuration }}."),
        Alert("TccLogDatabasePoolExhausted", "critical",
              f"(tcclog_db_pool_connections{waiting} > 0)"
              f" and ignoring (state) (tcclog_db_pool_connections{available} == 0)",
              "5m", "Database connection pool exhausted",
              "Pool {{ $labels.pool }} of backend pod {{ $labels.pod }} has no free "
              "connection and {{ $value }} requests waiting."),
        Alert("TccLogAIServiceDown", "warning",
              f"{_by(f'rate(tcclog_ai_errors_total{ai_down}[10m])')}"
              f" / {_by(f'rate(tcclog_ai_request_duration_seconds_count{every}[10m])')} > 0.5",
              "10m", "The AI model server fails most requests",
              f"{{{{ $value | humanizePercentage }}}} of the AI requests of {where} failed "
              "(timeout, unreachable or upstream error)."),
        Alert("TccLogPostgresPrimaryMissing", "critical",
              f"(max by (namespace, tcclog) (tcclog_operator_postgres_primary_present{every}) == 0)"
              f" or (count by (namespace, tcclog) (pg_up{every} == 1)"
              f" unless count by (namespace, tcclog) (pg_replication_is_replica{every} == 0))",
              "2m", "PostgreSQL has no primary",
              f"No PostgreSQL member of {where} is primary: writes fail until Patroni "
              "elects one."),
        Alert("TccLogPostgresReplicationLag", "warning",
              f"max by (namespace, tcclog, pod) (pg_replication_lag_seconds{every}) > 60",
              "5m", "PostgreSQL replica lags behind",
              "Replica {{ $labels.pod }} is {{ $value | humanizeDuration }} behind the "
              "primary: reads from -ro are stale and it will not be promoted."),
        Alert("TccLogRedisMasterMissing", "warning",
              f"(max by (namespace, tcclog) (tcclog_operator_redis_master_present{every}) == 0)"
              f" or (count by (namespace, tcclog) (redis_up{every} == 1)"
              f" unless count by (namespace, tcclog) (redis_instance_info{master}))",
              "2m", "Redis has no master",
              f"No Redis server of {where} is master: the cache is off (requests are "
              "served, slower) until Sentinel promotes one."),
        Alert("TccLogOperatorReconcileErrors", "warning",
              f"{_by(f'increase(tcclog_operator_reconcile_errors_total{every}[15m])')} > 3",
              "15m", "The operator keeps failing to reconcile this TccLog",
              f"{{{{ $value | humanize }}}} failed reconciles of {where} in 15 minutes: "
              "see its Events and the operator log."),
    ]
    backup = tcclog.spec.backup
    if backup is not None and backup.enabled:
        max_age = backup_max_age_hours(backup.schedule)
        found += [
            Alert("TccLogWalArchivingFailing", "critical",
                  f"increase(pg_stat_archiver_failed_count{every}[15m]) > 0"
                  f" unless increase(pg_stat_archiver_archived_count{every}[15m]) > 0",
                  "5m", "WAL archiving to S3 fails",
                  "archive_command on {{ $labels.pod }} keeps failing: point-in-time recovery "
                  "stops at the last archived segment and WAL piles up on the volume."),
            Alert("TccLogBackupTooOld", "critical",
                  "time() - max by (namespace, tcclog) "
                  f"(tcclog_operator_backup_last_success_timestamp_seconds{every})"
                  f" > {max_age * 3600}",
                  "10m", f"No successful backup in {max_age} hours",
                  f"The last successful scheduled backup of {where} is "
                  "{{ $value | humanizeDuration }} old "
                  f'(schedule "{backup.schedule}").'),
        ]
    return found


def alert_rules(tcclog: TccLog) -> dict[str, Any]:
    """The PrometheusRule `spec`: {"groups": [...]} (also what `promtool check rules` reads)."""
    rules = [
        {
            "alert": a.name,
            "expr": a.expr,
            "for": a.for_,
            "labels": {"severity": a.severity},
            "annotations": {
                "summary": a.summary,
                "description": a.description,
                "runbook_url": f"{RUNBOOK_BASE_URL}#{a.anchor}",
            },
        }
        for a in alerts(tcclog)
    ]
    return {"groups": [{"name": f"tcclog.{namespace_of(tcclog)}.{tcclog.metadata.name}",
                        "rules": rules}]}


def _meta(tcclog: TccLog, name: str, extra_labels: dict[str, str] | None = None) -> dict[str, Any]:
    # The user's labels (to match a Prometheus selector) never replace the standard ones.
    meta: dict[str, Any] = {
        "name": name,
        "namespace": namespace_of(tcclog),
        "labels": {**tcclog.spec.monitoring.labels, **(extra_labels or {}),
                   **labels(tcclog, COMPONENT)},
    }
    owner = owner_reference(tcclog)
    if owner:
        meta["ownerReferences"] = [owner]
    return meta


def _relabelings(*pod_labels: tuple[str, str]) -> list[dict[str, Any]]:
    """Copy pod labels onto every scraped series (Prometheus adds namespace and pod)."""
    def source(label: str) -> str:
        return "__meta_kubernetes_pod_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", label)

    pairs = [(INSTANCE_LABEL, "tcclog"), *pod_labels]
    return [{"action": "replace", "sourceLabels": [source(label)], "targetLabel": target}
            for label, target in pairs]


def prometheus_rule(tcclog: TccLog) -> dict[str, Any]:
    return {"apiVersion": MONITORING_API, "kind": "PrometheusRule",
            "metadata": _meta(tcclog, names(tcclog).instance), "spec": alert_rules(tcclog)}


def backend_service_monitor(tcclog: TccLog) -> dict[str, Any]:
    """The app's /metrics on the backend Service's `http` port (render/backend.py)."""
    return {
        "apiVersion": MONITORING_API,
        "kind": "ServiceMonitor",
        "metadata": _meta(tcclog, names(tcclog).backend),
        "spec": {
            "selector": {"matchLabels": selector_labels(tcclog, "backend")},
            "endpoints": [{"port": "http", "path": "/metrics", "interval": SCRAPE_INTERVAL,
                           "relabelings": _relabelings()}],
        },
    }


def pod_monitor(tcclog: TccLog, component: str, name: str) -> dict[str, Any]:
    """An exporter sidecar's `metrics` port on every pod of a data-tier component."""
    extra = ((ROLE_LABEL, "role"),) if component == "postgres" else ()
    return {
        "apiVersion": MONITORING_API,
        "kind": "PodMonitor",
        "metadata": _meta(tcclog, name),
        "spec": {
            "selector": {"matchLabels": selector_labels(tcclog, component)},
            "podMetricsEndpoints": [{"port": METRICS_PORT_NAME, "path": "/metrics",
                                     "interval": SCRAPE_INTERVAL,
                                     "relabelings": _relabelings(*extra)}],
        },
    }


@cache
def _dashboard_template() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("dashboards", DASHBOARD_FILE).read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def dashboard(tcclog: TccLog) -> dict[str, Any]:
    """The Grafana dashboard for one TccLog: only uid, title and the two scope variables
    (`namespace`, `tcclog`, hidden constants every query uses) differ per TccLog."""
    namespace, name = namespace_of(tcclog), tcclog.metadata.name
    board = copy.deepcopy(_dashboard_template())
    board["uid"] = f"tcclog-{content_hash(namespace, name)}"
    board["title"] = f"TCC Log / {namespace} / {name}"
    for variable in board["templating"]["list"]:
        value = {"namespace": namespace, "tcclog": name}.get(variable["name"])
        if value is not None:
            variable["query"] = value
            variable["current"] = {"text": value, "value": value}
            variable["options"] = [{"text": value, "value": value, "selected": True}]
    return board


def dashboard_config_map(tcclog: TccLog) -> dict[str, Any]:
    name = f"{names(tcclog).instance}-dashboard"
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(tcclog, name, {GRAFANA_DASHBOARD_LABEL: "1"}),
        "data": {f"{name}.json": json.dumps(dashboard(tcclog), indent=1, sort_keys=True)},
    }


def render_monitoring(tcclog: TccLog, *, prometheus_crds_present: bool) -> list[dict[str, Any]]:
    """PrometheusRule, monitors and the dashboard; [] without the Prometheus Operator CRDs."""
    spec = tcclog.spec.monitoring
    if not prometheus_crds_present or not (spec.prometheus_rule or spec.service_monitor):
        return []
    child = names(tcclog)
    objects: list[dict[str, Any]] = []
    if spec.prometheus_rule:
        objects.append(prometheus_rule(tcclog))
    if spec.service_monitor:
        objects += [
            backend_service_monitor(tcclog),
            pod_monitor(tcclog, "postgres", child.postgres),
            pod_monitor(tcclog, "redis", child.redis),
        ]
    objects.append(dashboard_config_map(tcclog))
    return objects
