"""The rendered alert rules, checked and unit-tested by a real promtool.

For every alert a promtool test group feeds synthetic series of a broken TccLog and
expects exactly that alert, with its labels and its expanded annotations; a second group
feeds a healthy TccLog (next to a broken one of another TccLog in the same namespace,
which must not leak in) and expects nothing. promtool comes from hack/promtool/build.sh,
which CI runs; only a machine that never built it skips these tests.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tcclog_operator.models import TccLog
from tcclog_operator.render.monitoring import alert_rules
from tests.unit.op.conftest import make

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
NS = 'namespace="tcc"'
DEMO = f'{NS}, tcclog="demo"'
OTHER = f'{NS}, tcclog="other"'
BACKUP = {"enabled": True, "schedule": "0 3 * * *",
          "s3": {"bucket": "tcc-backups", "credentialsSecretRef": {"name": "s3"}}}


def promtool_version() -> str:
    """Prometheus 3.X.Y from the pinned module version v0.30X.Y (as build.sh does)."""
    text = (REPO / "hack" / "promtool" / "go.mod").read_text()
    match = re.search(r"github\.com/prometheus/prometheus v0\.(\d+)\.(\d+)", text)
    assert match, "hack/promtool/go.mod pins no Prometheus version"
    return f"3.{int(match[1]) - 300}.{match[2]}"


def find_promtool() -> str | None:
    if os.environ.get("PROMTOOL"):
        return os.environ["PROMTOOL"]
    cache = os.environ.get("K8S_CACHE") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tcclog")
    built = Path(cache) / f"promtool-{promtool_version()}" / "bin" / "promtool"
    if built.is_file():
        return str(built)
    return shutil.which("promtool")


@pytest.fixture(scope="module")
def promtool() -> str:
    found = find_promtool()
    if found is None:
        message = "promtool not built: run hack/promtool/build.sh (or make promtool)"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must build it (.ci/run)")
        pytest.skip(message)
    return found


def tcclog() -> TccLog:
    return make({"backup": BACKUP})


def rules_by_name() -> dict[str, dict[str, Any]]:
    return {rule["alert"]: rule for group in alert_rules(tcclog())["groups"]
            for rule in group["rules"]}


@dataclass
class Case:
    """One alert: series that break it, series that keep it healthy, what it says."""

    alert: str
    broken: dict[str, str]
    healthy: dict[str, str]
    eval_time: str
    labels: dict[str, str]
    value: str = ""  # how the description renders $value
    not_yet: str | None = None  # an eval time still inside `for`: pending, not firing
    variant: str = ""  # tells apart two cases of one alert


def bucket(selector: str, le: str) -> str:
    return f'tcclog_http_request_duration_seconds_bucket{{{selector}, le="{le}"}}'


API = 'method="GET", route="/api/v1/entries"'
PG0, PG1 = 'pod="demo-postgres-0"', 'pod="demo-postgres-1"'
R0, R1 = 'pod="demo-redis-0"', 'pod="demo-redis-1"'
SCOPE = {"namespace": "tcc", "tcclog": "demo"}

CASES = [
    Case("TccLogHighErrorRate",
         broken={f'tcclog_http_requests_total{{{DEMO}, {API}, status="200"}}': "0+60x40",
                 f'tcclog_http_requests_total{{{DEMO}, {API}, status="500"}}': "0+60x40"},
         healthy={f'tcclog_http_requests_total{{{DEMO}, {API}, status="200"}}': "0+60x40",
                  f'tcclog_http_requests_total{{{DEMO}, {API}, status="500"}}': "0x40",
                  # The AI routes have their own alert; probes do not count.
                  f'tcclog_http_requests_total{{{DEMO}, method="POST", '
                  f'route="/api/v1/ai/chat", status="503"}}': "0+600x40",
                  f'tcclog_http_requests_total{{{OTHER}, {API}, status="500"}}': "0+600x40"},
         eval_time="25m", labels={**SCOPE, "severity": "critical"}, value="50%",
         not_yet="8m"),
    Case("TccLogHighLatency",
         broken={bucket(f"{DEMO}, {API}", "0.5"): "0x40", bucket(f"{DEMO}, {API}", "1"): "0x40",
                 bucket(f"{DEMO}, {API}", "2.5"): "0+60x40",
                 bucket(f"{DEMO}, {API}", "+Inf"): "0+60x40"},
         healthy={bucket(f"{DEMO}, {API}", "0.5"): "0+60x40",
                  bucket(f"{DEMO}, {API}", "1"): "0+60x40",
                  bucket(f"{DEMO}, {API}", "2.5"): "0+60x40",
                  bucket(f"{DEMO}, {API}", "+Inf"): "0+60x40",
                  bucket(f"{OTHER}, {API}", "0.5"): "0x40",
                  bucket(f"{OTHER}, {API}", "+Inf"): "0+60x40"},
         # p95 inside the (1, 2.5] bucket: 1 + 1.5 * 0.95
         eval_time="30m", labels={**SCOPE, "severity": "warning"}, value="2.425s"),
    Case("TccLogDatabasePoolExhausted",
         broken={f'tcclog_db_pool_connections{{{DEMO}, pod="demo-backend-1", pool="rw", '
                 f'state="{state}"}}': values
                 for state, values in (("size", "10x20"), ("available", "0x20"),
                                       ("waiting", "3x20"))},
         healthy={f'tcclog_db_pool_connections{{{DEMO}, pod="demo-backend-1", pool="rw", '
                  f'state="{state}"}}': values
                  for state, values in (("size", "10x20"), ("available", "2x20"),
                                        ("waiting", "0x20"))},
         eval_time="10m", value="3",
         labels={**SCOPE, "pod": "demo-backend-1", "pool": "rw", "state": "waiting",
                 "severity": "critical"}),
    Case("TccLogAIServiceDown",
         broken={f'tcclog_ai_errors_total{{{DEMO}, reason="unreachable"}}': "0+60x40",
                 f"tcclog_ai_request_duration_seconds_count{{{DEMO}}}": "0+60x40"},
         healthy={f'tcclog_ai_errors_total{{{DEMO}, reason="no_answer"}}': "0+60x40",
                  f"tcclog_ai_request_duration_seconds_count{{{DEMO}}}": "0+60x40",
                  f'tcclog_ai_errors_total{{{OTHER}, reason="timeout"}}': "0+60x40",
                  f"tcclog_ai_request_duration_seconds_count{{{OTHER}}}": "0+60x40"},
         eval_time="25m", labels={**SCOPE, "severity": "warning"}, value="100%"),
    Case("TccLogPostgresPrimaryMissing", variant="operator",
         broken={f"tcclog_operator_postgres_primary_present{{{DEMO}}}": "0x10"},
         healthy={f"tcclog_operator_postgres_primary_present{{{DEMO}}}": "1x10",
                  f"tcclog_operator_postgres_primary_present{{{OTHER}}}": "0x10"},
         eval_time="5m", labels={**SCOPE, "severity": "critical"}, not_yet="1m"),
    # As the exporters see it: members up, every one a replica.
    Case("TccLogPostgresPrimaryMissing", variant="exporters",
         broken={f"pg_up{{{DEMO}, {PG0}}}": "1x10", f"pg_up{{{DEMO}, {PG1}}}": "1x10",
                 f"pg_replication_is_replica{{{DEMO}, {PG0}}}": "1x10",
                 f"pg_replication_is_replica{{{DEMO}, {PG1}}}": "1x10"},
         healthy={f"pg_up{{{DEMO}, {PG0}}}": "1x10", f"pg_up{{{DEMO}, {PG1}}}": "1x10",
                  f"pg_replication_is_replica{{{DEMO}, {PG0}}}": "0x10",
                  f"pg_replication_is_replica{{{DEMO}, {PG1}}}": "1x10",
                  f'pg_up{{{OTHER}, pod="other-postgres-0"}}': "1x10",
                  f'pg_replication_is_replica{{{OTHER}, pod="other-postgres-0"}}': "1x10"},
         eval_time="5m", labels={**SCOPE, "severity": "critical"}),
    Case("TccLogPostgresReplicationLag",
         broken={f"pg_replication_lag_seconds{{{DEMO}, {PG1}}}": "120x20",
                 f"pg_replication_lag_seconds{{{DEMO}, {PG0}}}": "0x20"},
         healthy={f"pg_replication_lag_seconds{{{DEMO}, {PG1}}}": "2x20",
                  f'pg_replication_lag_seconds{{{OTHER}, pod="other-postgres-1"}}': "600x20"},
         eval_time="10m", labels={**SCOPE, "pod": "demo-postgres-1", "severity": "warning"},
         value="2m 0s"),
    Case("TccLogWalArchivingFailing",
         broken={f"pg_stat_archiver_failed_count{{{DEMO}, {PG0}}}": "0+1x40",
                 f"pg_stat_archiver_archived_count{{{DEMO}, {PG0}}}": "100x40"},
         # A failure that a retry fixed: both counters move, nothing to do.
         healthy={f"pg_stat_archiver_failed_count{{{DEMO}, {PG0}}}": "0+1x40",
                  f"pg_stat_archiver_archived_count{{{DEMO}, {PG0}}}": "100+1x40",
                  f'pg_stat_archiver_failed_count{{{OTHER}, pod="other-postgres-0"}}': "0+1x40",
                  f'pg_stat_archiver_archived_count{{{OTHER}, pod="other-postgres-0"}}':
                      "100x40"},
         eval_time="25m", labels={**SCOPE, "pod": "demo-postgres-0", "severity": "critical"}),
    Case("TccLogBackupTooOld",
         # Unix time of the last success: 0 and never again; time() is 33 h at eval.
         broken={f"tcclog_operator_backup_last_success_timestamp_seconds{{{DEMO}}}": "0x2000"},
         healthy={f"tcclog_operator_backup_last_success_timestamp_seconds{{{DEMO}}}":
                      "0+60x2000",
                  f"tcclog_operator_backup_last_success_timestamp_seconds{{{OTHER}}}": "0x2000"},
         eval_time="33h", labels={**SCOPE, "severity": "critical"}, value="1d 9h 0m 0s",
         not_yet="31h5m"),
    Case("TccLogRedisMasterMissing", variant="operator",
         broken={f"tcclog_operator_redis_master_present{{{DEMO}}}": "0x10"},
         healthy={f"tcclog_operator_redis_master_present{{{DEMO}}}": "1x10",
                  f"tcclog_operator_redis_master_present{{{OTHER}}}": "0x10"},
         eval_time="5m", labels={**SCOPE, "severity": "warning"}),
    # As the exporters see it: servers up, none of them master.
    Case("TccLogRedisMasterMissing", variant="exporters",
         broken={f"redis_up{{{DEMO}, {R0}}}": "1x10", f"redis_up{{{DEMO}, {R1}}}": "1x10",
                 f'redis_instance_info{{{DEMO}, {R0}, role="slave"}}': "1x10",
                 f'redis_instance_info{{{DEMO}, {R1}, role="slave"}}': "1x10"},
         healthy={f"redis_up{{{DEMO}, {R0}}}": "1x10", f"redis_up{{{DEMO}, {R1}}}": "1x10",
                  f'redis_instance_info{{{DEMO}, {R0}, role="master"}}': "1x10",
                  f'redis_instance_info{{{DEMO}, {R1}, role="slave"}}': "1x10",
                  f'redis_up{{{OTHER}, pod="other-redis-0"}}': "1x10"},
         eval_time="5m", labels={**SCOPE, "severity": "warning"}),
    Case("TccLogOperatorReconcileErrors",
         broken={f"tcclog_operator_reconcile_errors_total{{{DEMO}}}": "0+6x40"},
         # One failure long ago (a conflict, retried) is no reason to page anyone.
         healthy={f"tcclog_operator_reconcile_errors_total{{{DEMO}}}": "0 1 2 2x40",
                  f"tcclog_operator_reconcile_errors_total{{{OTHER}}}": "0+6x40"},
         eval_time="35m", labels={**SCOPE, "severity": "warning"}, value="90"),
]


def expected_annotations(rule: dict[str, Any], labels: dict[str, str], value: str) -> dict[
        str, str]:
    """The rule's annotation templates expanded as Prometheus must expand them."""
    def expand(text: str) -> str:
        text = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m[1]], text)
        return re.sub(r"\{\{ \$value[^}]*\}\}", value, text)

    return {key: expand(text) for key, text in rule["annotations"].items()}


def series(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"series": name, "values": v} for name, v in values.items()]


def promtool_groups(case: Case) -> list[dict[str, Any]]:
    rule = rules_by_name()[case.alert]
    firing = {"exp_labels": case.labels,
              "exp_annotations": expected_annotations(rule, case.labels, case.value)}
    broken_checks = [{"eval_time": case.eval_time, "alertname": case.alert,
                      "exp_alerts": [firing]}]
    if case.not_yet:
        broken_checks.insert(0, {"eval_time": case.not_yet, "alertname": case.alert,
                                 "exp_alerts": []})
    return [
        {"name": f"{case.alert} fires", "interval": "1m",
         "input_series": series(case.broken), "alert_rule_test": broken_checks},
        {"name": f"{case.alert} stays quiet when healthy", "interval": "1m",
         "input_series": series(case.healthy),
         "alert_rule_test": [{"eval_time": case.eval_time, "alertname": case.alert,
                              "exp_alerts": []}]},
    ]


def write_rules(directory: Path) -> Path:
    path = directory / "rules.yaml"
    path.write_text(yaml.safe_dump(alert_rules(tcclog()), sort_keys=False))
    return path


def run(promtool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)


def test_promtool_checks_the_rendered_rules(promtool: str, tmp_path: Path) -> None:
    rules = write_rules(tmp_path)
    result = run(promtool, "check", "rules", str(rules), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules_by_name())} rules found" in result.stdout


def test_every_alert_has_a_promtool_case() -> None:
    assert {case.alert for case in CASES} == set(rules_by_name())


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(filter(None, (c.alert, c.variant))))
def test_alert_fires_when_broken_and_not_when_healthy(promtool: str, tmp_path: Path,
                                                      case: Case) -> None:
    write_rules(tmp_path)
    tests = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m",
             "tests": promtool_groups(case)}
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests, sort_keys=False, width=1000))
    result = run(promtool, "test", "rules", "tests.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
