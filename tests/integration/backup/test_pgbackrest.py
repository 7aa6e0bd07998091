"""Physical backups and PITR with the commands the backup CronJobs run (see harness.py)."""

from __future__ import annotations

import json
import time

import pytest

from tcclog_operator.render.patroni import patroni_config
from tcclog_operator.render.pgbackrest import RECOVERY_CONFIG_FILE, recovery_script
from tests.integration import _services as svc

from .harness import BUCKET, STANZA, Node, S3Endpoint, as_pg_user, own_tree, tcclog

pytestmark = pytest.mark.integration


def ids(node: Node, port: int | None = None) -> list[int]:
    return [row[0] for row in node.sql("SELECT id FROM t ORDER BY id", port)]


def insert(node: Node, first: int, last: int) -> None:
    node.sql(f"INSERT INTO t SELECT g, md5(g::text) FROM generate_series({first}, {last}) g")


def test_full_diff_and_point_in_time_recovery(node: Node, s3: S3Endpoint) -> None:
    node.sql("CREATE TABLE t (id int PRIMARY KEY, payload text)")
    insert(node, 1, 100)

    full = node.backup("full", node.root / "full.json")
    assert full.returncode == 0, full.stderr
    result = json.loads((node.root / "full.json").read_text())
    assert result["method"] == "full" and result["label"].endswith("F")
    assert result["sizeBytes"] > 0
    assert result["location"] == f"s3://{BUCKET}/tcc/pgbackrest/backup/{STANZA}/{result['label']}"

    insert(node, 101, 200)
    diff = node.backup("diff", node.root / "diff.json")
    assert diff.returncode == 0, diff.stderr
    diff_result = json.loads((node.root / "diff.json").read_text())
    assert diff_result["label"].startswith(result["label"]) and diff_result["label"].endswith("D")
    assert [b["type"] for b in node.info()] == ["full", "diff"]

    insert(node, 201, 300)
    time.sleep(1.1)
    target = node.sql("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
                      "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")[0][0]
    time.sleep(1.1)
    insert(node, 301, 400)
    node.wait_archived()

    # A new TccLog recovering from this one's repository at `target`: run its rendered
    # bootstrap (recovery.sh) and recovery settings exactly as Patroni would.
    restored = tcclog(s3.port, bootstrap={"recovery": {
        "targetTime": target,
        "source": {"stanza": STANZA, "s3": {
            "bucket": BUCKET, "endpoint": f"https://127.0.0.1:{s3.port}", "path": "/tcc",
            "verifyTls": False, "credentialsSecretRef": {"name": "s3-creds"}}}}})
    datadir = node.root / "restored"
    node.write_configs(restored, recovery_path=datadir)
    conf = str(node.root / "conf")
    script = recovery_script(restored).replace("/etc/pgbackrest", conf).replace(
        "/var/lib/postgresql/data/pgdata", str(datadir))
    (node.root / "recovery.sh").write_text(script)
    own_tree(node.root)
    env = {**node.env("recovery"), "TCCLOG_RECOVERY_S3_KEY": "testing",
           "TCCLOG_RECOVERY_S3_KEY_SECRET": "testing"}
    for key in ("PGBACKREST_REPO1_S3_KEY", "PGBACKREST_REPO1_S3_KEY_SECRET"):
        env.pop(key)  # the script maps the recovery source's keys itself
    node.run(["/bin/sh", str(node.root / "recovery.sh")], env)

    # What Patroni does with keep_existing_recovery_conf: false: pgBackRest's recovery
    # settings out of postgresql.auto.conf, the rendered recovery_conf in.
    bootstrap = patroni_config(restored)["bootstrap"]["pgbackrest"]
    recovery_conf = dict(bootstrap["recovery_conf"])
    recovery_conf["restore_command"] = recovery_conf["restore_command"].replace(
        f"/etc/pgbackrest/{RECOVERY_CONFIG_FILE}", f"{conf}/{RECOVERY_CONFIG_FILE}")
    auto = datadir / "postgresql.auto.conf"
    kept = [line for line in auto.read_text().splitlines()
            if not line.startswith(("restore_command", "recovery_target"))]
    port = svc.free_port()
    socket = node.root / "socket2"
    socket.mkdir()
    auto.write_text("\n".join([
        *kept, *(f"{k} = '{v}'" for k, v in recovery_conf.items()),
        f"port = {port}", f"unix_socket_directories = '{socket}'", "archive_mode = off", ""]))
    assert (datadir / "recovery.signal").exists()
    own_tree(node.root)
    node.start_pg(datadir, env)
    try:
        deadline = time.monotonic() + 60
        while node.sql("SELECT pg_is_in_recovery()", port)[0][0]:
            assert time.monotonic() < deadline, "recovery did not promote"
            time.sleep(0.2)
        assert ids(node, port) == list(range(1, 301))  # exactly the rows before the target
    finally:
        node.stop_pg(datadir)
    assert ids(node) == list(range(1, 401))  # the source is untouched


def test_s3_unreachable_during_a_backup_fails_clearly_and_records_nothing(
        node: Node, s3: S3Endpoint) -> None:
    """The TLS proxy stops once the backup has started copying files. pgBackRest's
    io-timeout is lowered from 60 s to 5 s here only to keep the test short (it retries a
    refused connection until the timeout, per request)."""
    node.sql("CREATE TABLE IF NOT EXISTS bulk AS "
             "SELECT g AS id, repeat(md5(g::text), 30) AS pad FROM generate_series(1, 150000) g")
    before = [b["label"] for b in node.info()]
    result = node.root / "outage.json"
    process = node.backup_process("full", result, PGBACKREST_IO_TIMEOUT="5")
    assert process.stdout is not None
    output: list[str] = []
    try:
        for line in process.stdout:  # bounded: the process ends, with or without S3
            output.append(line)
            if "backup start archive" in line:
                s3.stop_proxy()
        code = process.wait(300)
    finally:
        s3.start_proxy()
    text = "".join(output)
    assert any("backup start archive" in line for line in output), text
    assert code != 0, text
    assert "backup failed: `pgbackrest --stanza=demo --type=full backup` exited" in text
    assert "unable to connect" in text or "HostConnectError" in text, text
    assert not result.exists()
    assert [b["label"] for b in node.info()] == before  # no new backup is listed
    # ... and the next run, with S3 back, succeeds (the half-written backup is resumed or
    # cleaned up by pgBackRest itself).
    again = node.backup("full", node.root / "again.json")
    assert again.returncode == 0, again.stderr
    assert len(node.info()) == len(before) + 1


def test_backup_command_is_the_rendered_cronjob_command(node: Node) -> None:
    command = node.backup_command("full")
    assert command[0] == "python3" and command[2:4] == ["full", STANZA]
    assert as_pg_user(["true"], {})[-1] == "true"


def test_verify_job_checks_the_repository(node: Node) -> None:
    if not node.info():
        assert node.backup("full", node.root / "verify-full.json").returncode == 0
    done = node.backup("verify", node.root / "verify.json")
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads((node.root / "verify.json").read_text())
    assert result["method"] == "verify"
    assert result["label"] == node.info()[-1]["label"]
    assert result["location"] == f"s3://{BUCKET}/tcc/pgbackrest"
