"""Monitoring render: PrometheusRule, monitors, dashboard and exporter sidecars (pure)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.metrics import MetricWrapperBase

from tcclog.core.metrics import Metrics
from tcclog_operator import metrics as operator_metrics
from tcclog_operator.models import TccLog
from tcclog_operator.render.exporters import (
    POSTGRES_EXPORTER_METRICS,
    REDIS_EXPORTER_METRICS,
    postgres_exporter_container,
    redis_exporter_container,
)
from tcclog_operator.render.meta import RenderSettings
from tcclog_operator.render.monitoring import (
    GRAFANA_DASHBOARD_LABEL,
    RUNBOOK_BASE_URL,
    alert_rules,
    backup_max_age_hours,
    dashboard,
    render_monitoring,
)
from tests.unit.op.conftest import by_kind, make, one, render_all

pytestmark = pytest.mark.unit

DOCS = Path(__file__).resolve().parents[3] / "docs" / "MONITORING.md"
BACKUP = {"enabled": True, "schedule": "0 3 * * *",
          "s3": {"bucket": "tcc-backups", "credentialsSecretRef": {"name": "s3"}}}
#: Per-TccLog operator series (labels namespace, tcclog) the alerts read; names by agreement.
OPERATOR_GAUGES = {
    "tcclog_operator_reconcile_errors_total",
    "tcclog_operator_backup_last_success_timestamp_seconds",
    "tcclog_operator_postgres_primary_present",
    "tcclog_operator_redis_master_present",
}


def with_backup(**spec: Any) -> TccLog:
    return make({"backup": BACKUP, **spec})


def series_names(families: Any) -> set[str]:
    """Sample names a family exposes (a histogram without observations shows none yet)."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"),
                "gauge": ("",)}
    return {family.name + suffix for family in families for suffix in suffixes[family.type]}


def known_metrics() -> set[str]:
    """Every series name the app, the operator and the pinned exporters expose."""
    app = series_names(Metrics().registry.collect())
    operator = series_names(
        family
        for value in vars(operator_metrics).values() if isinstance(value, MetricWrapperBase)
        for family in value.describe()
    )
    return app | operator | OPERATOR_GAUGES | POSTGRES_EXPORTER_METRICS | REDIS_EXPORTER_METRICS


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression: every one of ours comes with a `{...}` selector."""
    return set(re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{", expr))


def all_rules(tcclog: TccLog) -> list[dict[str, Any]]:
    return [rule for group in alert_rules(tcclog)["groups"] for rule in group["rules"]]


# ---- what is rendered when


def test_nothing_without_the_prometheus_operator_crds() -> None:
    assert render_monitoring(with_backup(), prometheus_crds_present=False) == []
    kinds = {obj["kind"] for obj in render_all(with_backup())}
    assert not kinds & {"PrometheusRule", "ServiceMonitor", "PodMonitor"}


def test_everything_with_the_crds() -> None:
    objects = render_monitoring(with_backup(), prometheus_crds_present=True)
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("PrometheusRule", "demo"),
        ("ServiceMonitor", "demo-backend"),
        ("PodMonitor", "demo-postgres"),
        ("PodMonitor", "demo-redis"),
        ("ConfigMap", "demo-dashboard"),
    ]
    for obj in objects:
        meta = obj["metadata"]
        assert meta["namespace"] == "tcc"
        assert meta["labels"]["app.kubernetes.io/instance"] == "demo"
        assert meta["labels"]["app.kubernetes.io/managed-by"] == "tcclog-operator"
        assert meta["ownerReferences"][0]["uid"] == "0000-uid"
    # And through the public render, in the same order.
    everything = render_all(with_backup(), prometheus_crds_present=True)
    assert [o for o in everything if o["kind"] in {"PrometheusRule", "PodMonitor"}]


@pytest.mark.parametrize(
    ("flags", "kinds"),
    [
        ({"prometheusRule": False}, ["ServiceMonitor", "PodMonitor", "PodMonitor", "ConfigMap"]),
        ({"serviceMonitor": False}, ["PrometheusRule", "ConfigMap"]),
        ({"prometheusRule": False, "serviceMonitor": False}, []),
    ],
)
def test_spec_monitoring_flags(flags: dict[str, bool], kinds: list[str]) -> None:
    objects = render_monitoring(make({"monitoring": flags}), prometheus_crds_present=True)
    assert [o["kind"] for o in objects] == kinds


def test_extra_labels_on_every_monitoring_object_never_replace_the_standard_ones() -> None:
    tcclog = make({"monitoring": {"labels": {"release": "kube-prometheus",
                                             "app.kubernetes.io/instance": "evil"}}})
    for obj in render_monitoring(tcclog, prometheus_crds_present=True):
        assert obj["metadata"]["labels"]["release"] == "kube-prometheus"
        assert obj["metadata"]["labels"]["app.kubernetes.io/instance"] == "demo"


def test_monitors_select_only_this_tcclog_and_label_its_series() -> None:
    objects = render_monitoring(make({}), prometheus_crds_present=True)
    service_monitor = one(objects, "ServiceMonitor")["spec"]
    assert service_monitor["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "tcclog", "app.kubernetes.io/instance": "demo",
        "app.kubernetes.io/component": "backend"}
    # The backend Service exposes /metrics on its `http` port (render/backend.py).
    backend_service = next(o for o in render_all(make({}))
                           if o["kind"] == "Service" and o["metadata"]["name"] == "demo-backend")
    assert "http" in {p["name"] for p in backend_service["spec"]["ports"]}
    [endpoint] = service_monitor["endpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")
    for monitor in by_kind(objects, "PodMonitor"):
        [endpoint] = monitor["spec"]["podMetricsEndpoints"]
        assert endpoint["port"] == "metrics"
        assert monitor["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"] == "demo"
    pod_endpoints = [m["spec"]["podMetricsEndpoints"][0] for m in by_kind(objects, "PodMonitor")]
    for endpoint in [service_monitor["endpoints"][0], *pod_endpoints]:
        assert {"action": "replace", "targetLabel": "tcclog", "sourceLabels": [
            "__meta_kubernetes_pod_label_app_kubernetes_io_instance"]} in endpoint["relabelings"]


# ---- alerts


def test_every_alert_has_severity_summary_description_and_a_runbook_in_the_docs() -> None:
    doc = DOCS.read_text()
    anchors = {heading.strip().lower() for heading in re.findall(r"^### (\S+)\s*$", doc, re.M)}
    rules = all_rules(with_backup())
    assert len(rules) == 10
    for rule in rules:
        assert rule["labels"]["severity"] in {"critical", "warning"}
        annotations = rule["annotations"]
        assert annotations["summary"] and annotations["description"]
        base, anchor = annotations["runbook_url"].split("#")
        assert base == RUNBOOK_BASE_URL
        assert anchor in anchors, f"docs/MONITORING.md has no runbook `### {rule['alert']}`"
        assert f"| {rule['alert']} |" in doc or f"| `{rule['alert']}` |" in doc


def test_the_product_alerts_are_all_there() -> None:
    names = {rule["alert"] for rule in all_rules(with_backup())}
    assert names == {
        "TccLogHighErrorRate", "TccLogHighLatency", "TccLogDatabasePoolExhausted",
        "TccLogAIServiceDown", "TccLogPostgresPrimaryMissing", "TccLogPostgresReplicationLag",
        "TccLogWalArchivingFailing", "TccLogBackupTooOld", "TccLogRedisMasterMissing",
        "TccLogOperatorReconcileErrors",
    }
    without_backup = {rule["alert"] for rule in all_rules(make({}))}
    assert names - without_backup == {"TccLogWalArchivingFailing", "TccLogBackupTooOld"}


def test_every_selector_is_scoped_to_this_tcclog() -> None:
    for rule in all_rules(with_backup()):
        selectors = re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})", rule["expr"])
        assert selectors, rule["alert"]
        for selector in selectors:
            assert selector.startswith('{namespace="tcc", tcclog="demo"'), (rule, selector)


def test_two_tcclogs_in_one_namespace_get_distinct_rules_and_dashboards() -> None:
    first, second = make({}, name="one"), make({}, name="two")
    assert alert_rules(first) != alert_rules(second)
    assert 'tcclog="two"' not in json.dumps(alert_rules(first))
    assert dashboard(first)["uid"] != dashboard(second)["uid"]


def test_alerts_and_dashboard_name_only_metrics_that_exist() -> None:
    known = known_metrics()
    used = set()
    for rule in all_rules(with_backup()):
        used |= metric_names(rule["expr"])
    for panel in dashboard(with_backup())["panels"]:
        for target in panel.get("targets", []):
            used |= metric_names(target["expr"])
    assert used, "no metric found: the extraction is broken"
    assert used <= known, sorted(used - known)


@pytest.mark.parametrize(("schedule", "hours"),
                         [("0 3 * * *", 31), ("@daily", 31), ("0 * * * *", 3),
                          ("0 */6 * * *", 8), ("0 3 * * 0", 211), ("@weekly", 211)])
def test_backup_age_threshold_follows_the_schedule(schedule: str, hours: int) -> None:
    assert backup_max_age_hours(schedule) == hours


def test_backup_alert_threshold_in_the_rule() -> None:
    rule = next(r for r in all_rules(with_backup()) if r["alert"] == "TccLogBackupTooOld")
    assert rule["expr"].endswith(f"> {31 * 3600}")


# ---- dashboard


def test_dashboard_config_map_for_the_grafana_sidecar() -> None:
    config_map = one(render_monitoring(make({}), prometheus_crds_present=True), "ConfigMap")
    assert config_map["metadata"]["labels"][GRAFANA_DASHBOARD_LABEL] == "1"
    [(key, text)] = config_map["data"].items()
    assert key.endswith(".json")
    board = json.loads(text)
    assert board["title"] == "TCC Log / tcc / demo"
    scope = {v["name"]: v["query"] for v in board["templating"]["list"] if v["type"] == "constant"}
    assert scope == {"namespace": "tcc", "tcclog": "demo"}


def test_dashboard_is_valid_and_covers_every_area() -> None:
    board = dashboard(make({}))
    panels = board["panels"]
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids))
    for panel in panels:
        assert {"h", "w", "x", "y"} <= panel["gridPos"].keys()
        if panel["type"] == "row":
            continue
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            # Scoped through the two hidden constants the render fills in.
            assert 'namespace="$namespace", tcclog="$tcclog"' in target["expr"]
    text = json.dumps(board)
    for metric in ("tcclog_http_requests_total", "tcclog_http_request_duration_seconds_bucket",
                   "tcclog_db_pool_connections", "pg_replication_lag_seconds", "redis_up",
                   "tcclog_operator_backup_last_success_timestamp_seconds"):
        assert metric in text


# ---- exporter sidecars


def pod_specs(tcclog: TccLog) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj["spec"]["template"]["spec"]
            for obj in render_all(tcclog) if obj["kind"] == "StatefulSet"}


def test_exporter_sidecars_in_postgres_and_redis_pods_only() -> None:
    specs = pod_specs(make({}))
    names = {pod: [c["name"] for c in spec["containers"]] for pod, spec in specs.items()}
    assert names["demo-postgres"][-1] == "postgres-exporter"
    assert names["demo-redis"] == ["redis", "redis-exporter"]
    assert names["demo-sentinel"] == ["sentinel"]


def test_exporter_sidecars_are_restricted_small_and_use_generated_secrets() -> None:
    tcclog = make({})
    settings = RenderSettings()
    postgres = postgres_exporter_container(tcclog, settings)
    redis = redis_exporter_container(tcclog, settings)
    assert postgres["image"] == settings.postgres_exporter_image
    assert re.search(r":v\d+\.\d+\.\d+$", postgres["image"])
    assert re.search(r":v\d+\.\d+\.\d+$", redis["image"])
    for container in (postgres, redis):
        context = container["securityContext"]
        assert context["runAsNonRoot"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}
        assert context["readOnlyRootFilesystem"] is True
        assert container["resources"]["limits"]["memory"] == "64Mi"
        assert [p["name"] for p in container["ports"]] == ["metrics"]
        # A failing exporter must never make a database pod unready.
        assert "readinessProbe" not in container and "livenessProbe" not in container
        secret_refs = [e["valueFrom"]["secretKeyRef"] for e in container["env"]
                       if "valueFrom" in e]
        assert secret_refs and all("value" not in e for e in container["env"] if "valueFrom" in e)
    pg_env = {e["name"]: e for e in postgres["env"]}
    assert pg_env["DATA_SOURCE_USER"]["value"] == "tcclog_readonly"
    assert pg_env["DATA_SOURCE_PASS"]["valueFrom"]["secretKeyRef"] == {
        "name": "demo-postgres-credentials", "key": "readonly-password"}
    redis_env = {e["name"]: e for e in redis["env"]}
    assert redis_env["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "demo-redis-credentials", "key": "password"}


def test_headless_services_expose_the_metrics_port() -> None:
    services = {o["metadata"]["name"]: o for o in render_all(make({})) if o["kind"] == "Service"}
    for name, port in (("demo-postgres-headless", 9187), ("demo-redis-headless", 9121)):
        metrics = [p for p in services[name]["spec"]["ports"] if p["name"] == "metrics"]
        assert metrics == [{"name": "metrics", "port": port, "targetPort": "metrics",
                            "protocol": "TCP"}]
