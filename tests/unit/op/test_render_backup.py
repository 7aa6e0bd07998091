"""Pure render of backups: pgBackRest config, TLS Secret, CronJobs, Job specs, recovery."""

from __future__ import annotations

import base64
import configparser
import json
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from tcclog_operator.models import TccLog
from tcclog_operator.render import fill_secret_values, render
from tcclog_operator.render.backup import backup_job_spec
from tcclog_operator.render.credentials import (
    TLS_KEYS,
    new_pgbackrest_tls,
    pgbackrest_server_names,
    required_secrets,
)
from tcclog_operator.render.meta import RenderSettings
from tcclog_operator.render.patroni import patroni_config, post_bootstrap_script
from tcclog_operator.render.pgbackrest import (
    pgbackrest_config,
    pgbackrest_target_time,
    recovery_script,
)

from .conftest import by_kind, make, render_all
from .test_render import assert_restricted

S3 = {"bucket": "tcc-backups", "endpoint": "https://minio.example:9000", "path": "/tcc",
      "credentialsSecretRef": {"name": "s3-creds"}}


def with_backup(**backup: Any) -> TccLog:
    return make({"postgres": {"instances": 3}, "backup": {"s3": S3, **backup}})


def cron_jobs(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in by_kind(objects, "CronJob")}


def ini(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    return parser


def test_no_backup_objects_without_backup(minimal: TccLog) -> None:
    objects = render_all(minimal)
    assert not by_kind(objects, "CronJob")
    names = {o["metadata"]["name"] for o in objects}
    assert not names & {"demo-backup", "demo-pgbackrest", "demo-pgbackrest-tls"}
    params = patroni_config(minimal)["postgresql"]["parameters"]
    assert "archive_command" not in params and "archive_mode" not in params
    assert "recovery_conf" not in patroni_config(minimal)["postgresql"]


def test_no_backup_objects_when_disabled() -> None:
    tcclog = make({"backup": {"enabled": False, "s3": S3}})
    assert not by_kind(render_all(tcclog), "CronJob")
    assert "demo-pgbackrest-tls" not in required_secrets(tcclog)


def test_four_cron_jobs_with_their_schedules() -> None:
    jobs = cron_jobs(render_all(with_backup(schedule="0 2 * * *")))
    assert {name: job["spec"]["schedule"] for name, job in jobs.items()} == {
        "demo-backup-full": "0 2 * * *",
        "demo-backup-diff": "30 */6 * * *",
        "demo-backup-logical": "0 4 * * *",
        "demo-backup-verify": "0 5 * * 0",
    }
    for job in jobs.values():
        spec = job["spec"]
        assert spec["concurrencyPolicy"] == "Forbid"
        assert spec["successfulJobsHistoryLimit"] == 3 and spec["failedJobsHistoryLimit"] == 3
        assert spec["jobTemplate"]["spec"]["backoffLimit"] == 1
        assert job["metadata"]["ownerReferences"][0]["kind"] == "TccLog"
        assert job["metadata"]["labels"]["app.kubernetes.io/component"] == "backup"
        pod = spec["jobTemplate"]["spec"]["template"]["spec"]
        assert_restricted(pod)
        assert pod["restartPolicy"] == "Never" and pod["automountServiceAccountToken"] is False


def test_pgbackrest_job_commands_and_mounts() -> None:
    tcclog = with_backup()
    for method in ("full", "diff", "incr", "verify"):
        pod = backup_job_spec(tcclog, RenderSettings(), method)["template"]["spec"]
        container = pod["containers"][0]
        assert container["image"] == "ghcr.io/tcclog/tcclog-postgres:0.1.0"
        assert container["command"] == [
            "python3", "/etc/pgbackrest/backup-run.py", method, "demo",
            "s3://tcc-backups/tcc/pgbackrest"]
        env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]}
        assert env == {
            "PGBACKREST_REPO1_S3_KEY": {"name": "s3-creds", "key": "AWS_ACCESS_KEY_ID"},
            "PGBACKREST_REPO1_S3_KEY_SECRET": {"name": "s3-creds",
                                               "key": "AWS_SECRET_ACCESS_KEY"}}
        tls = next(v for v in pod["volumes"] if v["name"] == "tls")["secret"]
        assert tls["secretName"] == "demo-pgbackrest-tls"
        assert {i["key"] for i in tls["items"]} == {"ca.crt", "client.crt", "client.key"}
        assert tls["defaultMode"] == 0o440


def test_logical_job_uses_the_app_image_and_tcclog_backup() -> None:
    pod = backup_job_spec(with_backup(), RenderSettings(), "logical")["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == "ghcr.io/tcclog/tcclog:0.1.0"
    assert "key=$(tcclog backup)" in container["command"][2]
    assert "/dev/termination-log" in container["command"][2]
    env = {e["name"]: e for e in container["env"]}
    assert env["TCCLOG_DATABASE_URL"]["value"] == (
        "postgresql://tcclog:$(PGPASSWORD)@demo-postgres-rw.tcc.svc:5432/tcclog")
    assert list(env).index("PGPASSWORD") < list(env).index("TCCLOG_DATABASE_URL")
    assert container["envFrom"] == [{"configMapRef": {"name": "demo-backend"}}]


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown backup method"):
        backup_job_spec(with_backup(), RenderSettings(), "snapshot")  # type: ignore[arg-type]


def test_repo_config_retention_and_members() -> None:
    tcclog = with_backup(retention={"fullBackups": 4, "differentialBackups": 6})
    conf = ini(pgbackrest_config(tcclog, "repo"))
    g = conf["global"]
    assert g["repo1-type"] == "s3" and g["repo1-s3-bucket"] == "tcc-backups"
    assert g["repo1-path"] == "/tcc/pgbackrest"
    assert g["repo1-s3-endpoint"] == "minio.example" and g["repo1-storage-port"] == "9000"
    assert g["repo1-retention-full"] == "4" and g["repo1-retention-full-type"] == "count"
    assert g["repo1-retention-diff"] == "6"
    stanza = conf["demo"]
    assert [stanza[f"pg{i}-host"] for i in (1, 2, 3)] == [
        f"demo-postgres-{i}.demo-postgres-headless.tcc.svc" for i in range(3)]
    assert stanza["pg3-host-type"] == "tls" and stanza["pg3-host-port"] == "8432"
    assert stanza["pg1-host-cert-file"] == "/etc/pgbackrest-tls/client.crt"
    assert stanza["pg1-user"] == "postgres"


def test_pg_config_is_a_tls_server_for_the_backup_client_only() -> None:
    conf = ini(pgbackrest_config(with_backup(), "pg"))
    g = conf["global"]
    assert g["tls-server-auth"] == "tcclog-backup=demo"
    assert g["tls-server-port"] == "8432"
    assert "repo1-retention-full" not in g
    assert conf["demo"]["pg1-path"] == "/var/lib/postgresql/data/pgdata"


def test_patroni_archives_wal_through_pgbackrest() -> None:
    config = patroni_config(with_backup())
    for params in (config["postgresql"]["parameters"],
                   config["bootstrap"]["dcs"]["postgresql"]["parameters"]):
        assert params["archive_mode"] == "on"
        assert params["archive_command"] == "pgbackrest --stanza=demo archive-push %p"
    assert config["postgresql"]["recovery_conf"] == {
        "restore_command": 'pgbackrest --stanza=demo archive-get %f "%p"'}
    assert "pgbackrest --stanza=demo stanza-create ||" in post_bootstrap_script(with_backup())


def test_postgres_pods_get_the_sidecar_and_tls() -> None:
    objects = render_all(with_backup())
    sts = next(o for o in by_kind(objects, "StatefulSet")
               if o["metadata"]["name"] == "demo-postgres")
    pod = sts["spec"]["template"]["spec"]
    assert_restricted(pod)
    sidecar = next(c for c in pod["containers"] if c["name"] == "pgbackrest")
    assert sidecar["command"] == ["pgbackrest", "server"]
    assert sidecar["ports"][0]["containerPort"] == 8432
    assert "readinessProbe" not in sidecar
    assert {m["name"] for m in sidecar["volumeMounts"]} >= {"data", "socket", "pgbackrest",
                                                            "pgbackrest-tls"}
    postgres = pod["containers"][0]
    assert {"name": "pgbackrest", "mountPath": "/etc/pgbackrest", "readOnly": True} in (
        postgres["volumeMounts"])
    assert "PGBACKREST_REPO1_S3_KEY" in {e["name"] for e in postgres["env"]}


def test_no_secret_value_in_any_config_map() -> None:
    tcclog = with_backup()
    values = fill_secret_values(tcclog, {})
    objects = render(tcclog, secret_values=values)
    config_text = json.dumps([o for o in objects if o["kind"] == "ConfigMap"])
    for secret in values.values():
        for value in secret.values():
            for line in value.splitlines():
                if "PRIVATE KEY" not in line and "CERTIFICATE" not in line and len(line) > 8:
                    assert line not in config_text
    tls = next(o for o in objects if o["metadata"]["name"] == "demo-pgbackrest-tls")
    assert set(tls["data"]) == set(TLS_KEYS)


def test_tls_generated_once_and_kept() -> None:
    tcclog = with_backup()
    first = fill_secret_values(tcclog, {})["demo-pgbackrest-tls"]
    again = fill_secret_values(tcclog, {"demo-pgbackrest-tls": first})["demo-pgbackrest-tls"]
    assert again == first
    partial = {k: v for k, v in first.items() if k != "client.key"}
    regenerated = fill_secret_values(tcclog, {"demo-pgbackrest-tls": partial})
    assert regenerated["demo-pgbackrest-tls"]["ca.crt"] != first["ca.crt"]  # all or nothing


def test_certificates_chain_and_names() -> None:
    tcclog = with_backup()
    pems = new_pgbackrest_tls(tcclog)
    ca = x509.load_pem_x509_certificate(pems["ca.crt"].encode())
    server = x509.load_pem_x509_certificate(pems["server.crt"].encode())
    client = x509.load_pem_x509_certificate(pems["client.crt"].encode())
    for cert in (server, client):
        cert.verify_directly_issued_by(ca)
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == pgbackrest_server_names(tcclog)
    assert "demo-postgres-8.demo-postgres-headless.tcc.svc" in pgbackrest_server_names(tcclog)
    assert client.subject.rfc4514_string() == "CN=tcclog-backup"
    usage = client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in usage


def test_secret_is_base64_pem() -> None:
    tcclog = with_backup()
    objects = render(tcclog, secret_values=fill_secret_values(tcclog, {}))
    tls = next(o for o in objects if o["metadata"]["name"] == "demo-pgbackrest-tls")
    assert base64.b64decode(tls["data"]["ca.crt"]).startswith(b"-----BEGIN CERTIFICATE-----")


RECOVERY = {"recovery": {"targetTime": "2026-12-04T10:15:00+01:00", "source": {
    "stanza": "old", "s3": {"bucket": "old-backups", "endpoint": "https://minio:9000",
                            "credentialsSecretRef": {"name": "old-creds"}}}}}


def test_recovery_bootstrap_is_patroni_custom_bootstrap() -> None:
    tcclog = make({"bootstrap": RECOVERY})
    bootstrap = patroni_config(tcclog)["bootstrap"]
    assert bootstrap["method"] == "pgbackrest"
    method = bootstrap["pgbackrest"]
    assert method["command"] == "/bin/sh /etc/pgbackrest/recovery.sh"
    assert method["no_params"] is True
    assert method["keep_existing_recovery_conf"] is False
    conf = method["recovery_conf"]
    assert conf["recovery_target_time"] == "2026-12-04 09:15:00.000000+00"
    assert conf["recovery_target_action"] == "promote"
    assert "--config=/etc/pgbackrest/recovery.conf --stanza=old archive-get" in (
        conf["restore_command"])
    assert conf["restore_command"].startswith(
        'PGBACKREST_REPO1_S3_KEY="$TCCLOG_RECOVERY_S3_KEY"')
    script = recovery_script(tcclog)
    assert '--type=time --target="2026-12-04 09:15:00.000000+00"' in script
    assert "--stanza=old" in script and script.rstrip().endswith("restore")
    source = ini(pgbackrest_config(tcclog, "recovery"))
    assert source["global"]["repo1-s3-bucket"] == "old-backups"
    assert source["global"]["repo1-path"] == "/pgbackrest"


def test_recovery_pod_reads_the_source_keys_and_config() -> None:
    objects = render_all(make({"bootstrap": RECOVERY}))
    cm = next(o for o in objects if o["metadata"]["name"] == "demo-pgbackrest")
    assert set(cm["data"]) == {"recovery.conf", "recovery.sh"}
    sts = next(o for o in by_kind(objects, "StatefulSet")
               if o["metadata"]["name"] == "demo-postgres")
    env = {e["name"]: e for e in sts["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["TCCLOG_RECOVERY_S3_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "old-creds", "key": "AWS_ACCESS_KEY_ID"}
    patroni = yaml.safe_load(next(o for o in objects if o["metadata"]["name"] ==
                                  "demo-postgres-patroni")["data"]["patroni.yaml"])
    assert patroni["bootstrap"]["method"] == "pgbackrest"


def test_recovery_without_target_replays_everything() -> None:
    spec = {"recovery": {"source": RECOVERY["recovery"]["source"]}}  # type: ignore[index]
    tcclog = make({"bootstrap": spec})
    conf = patroni_config(tcclog)["bootstrap"]["pgbackrest"]["recovery_conf"]
    assert set(conf) == {"restore_command"}
    assert "--type=time" not in recovery_script(tcclog)


def test_target_time_forms() -> None:
    assert pgbackrest_target_time("2026-12-04T10:15:00Z") == "2026-12-04 10:15:00.000000+00"
    assert pgbackrest_target_time("2026-12-04t10:15:00.5-02:00") == (
        "2026-12-04 12:15:00.500000+00")


@pytest.mark.parametrize("works", [True, False])
def test_logical_command_writes_a_result_only_on_success(tmp_path: Any, works: bool) -> None:
    """The container's shell snippet, run for real with a stand-in `tcclog` on PATH."""
    import os
    import subprocess

    from tcclog_operator.render.backup import TERMINATION_LOG, logical_command

    fake = tmp_path / "tcclog"
    fake.write_text("#!/bin/sh\necho 'backups/20261204T030000Z.dump'\n" if works
                    else "#!/bin/sh\necho 'pg_dump exited 1' >&2\nexit 1\n")
    fake.chmod(0o755)
    result = tmp_path / "termination-log"
    command = [c.replace(TERMINATION_LOG, str(result)) for c in logical_command("bkt")]
    done = subprocess.run(command, env={**os.environ, "PATH": f"{tmp_path}:/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=10)
    if works:
        assert done.returncode == 0, done.stderr
        assert json.loads(result.read_text()) == {
            "method": "logical", "label": "20261204T030000Z.dump",
            "location": "s3://bkt/backups/20261204T030000Z.dump"}
    else:
        assert done.returncode != 0
        assert not result.exists()


def test_the_primary_creates_the_stanza_when_backups_are_switched_on_later() -> None:
    from tcclog_operator.render.patroni import patroni_config, role_change_script
    from tcclog_operator.render.postgres import config_map_data

    without = make({})
    assert "callbacks" not in patroni_config(without)["postgresql"]
    assert "on-role-change.sh" not in config_map_data(without)
    tcclog = make({"backup": {"s3": {"bucket": "tcc-backups",
                                     "credentialsSecretRef": {"name": "s3"}}}})
    callbacks = patroni_config(tcclog)["postgresql"]["callbacks"]
    assert callbacks == {"on_start": "/bin/sh /etc/patroni/on-role-change.sh",
                         "on_role_change": "/bin/sh /etc/patroni/on-role-change.sh"}
    script = config_map_data(tcclog)["on-role-change.sh"]
    assert script == role_change_script(tcclog)
    assert "primary|master) pgbackrest --stanza=demo stanza-create" in script
