"""pgBackRest as the CronJobs run it, on loopback: moto S3 behind an nginx TLS proxy (pgBackRest
speaks HTTPS only), a PostgreSQL primary archiving WAL with the rendered archive_command, its
`pgbackrest server` sidecar with certificates from the operator's own generator, and the
backup script run as the repository host over TLS.

The pgbackrest.conf files are the rendered ones (`config_sections(tcclog, role)`) with only
paths, hosts and ports replaced (`localize`). PostgreSQL and pgBackRest run as the
unprivileged test user of tests/integration/_services.py. Used by the tests and the bench.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from tcclog_operator.models import TccLog
from tcclog_operator.render.backup import BACKUP_SCRIPT
from tcclog_operator.render.credentials import new_pgbackrest_tls
from tcclog_operator.render.patroni import POD_PATHS
from tcclog_operator.render.pgbackrest import (
    CONFIG_FILE,
    CONFIG_MOUNT,
    LOCK_PATH,
    RECOVERY_CONFIG_FILE,
    SPOOL_PATH,
    TLS_MOUNT,
    config_sections,
    render_ini,
)
from tests.integration import _services as svc

S3_KEYS = {"PGBACKREST_REPO1_S3_KEY": "testing", "PGBACKREST_REPO1_S3_KEY_SECRET": "testing"}
BUCKET = "tcc-backups"
STANZA = "demo"


def tcclog(nginx_port: int, **spec: Any) -> TccLog:
    """The TccLog the test renders from: backups to the local TLS endpoint."""
    s3 = {"bucket": BUCKET, "endpoint": f"https://127.0.0.1:{nginx_port}", "path": "/tcc",
          "verifyTls": False, "credentialsSecretRef": {"name": "s3-creds"}}
    return TccLog.from_body({
        "metadata": {"name": STANZA, "namespace": "tcc"},
        "spec": {"version": "0.1.0", "backup": {"s3": s3}, **spec}})


def as_pg_user(cmd: list[str], env: dict[str, str]) -> list[str]:
    base = ["env", "-i", *(f"{k}={v}" for k, v in env.items()), *cmd]
    if os.geteuid() != 0:
        return base
    svc._ensure_pg_user()
    return ["setpriv", f"--reuid={svc.PG_USER}", f"--regid={svc.PG_USER}", "--init-groups",
            "--", *base]


def own_tree(path: Path) -> None:
    for item in [path, *path.rglob("*")]:
        svc._own(item)


def self_signed(root: Path) -> tuple[Path, Path]:
    """A throwaway certificate for nginx (pgBackRest runs with repo1-storage-verify-tls=n)."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(root / "s3.key"),
                    "-out", str(root / "s3.crt")], check=True, capture_output=True)
    return root / "s3.crt", root / "s3.key"


@dataclass
class S3Endpoint:
    """moto (plain HTTP) and an nginx TLS proxy in front of it; nginx can stop and restart."""

    root: Path
    moto_port: int = field(default_factory=svc.free_port)
    port: int = field(default_factory=svc.free_port)
    moto: ThreadedMotoServer | None = None
    nginx: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.moto_port, verbose=False)
        self.moto.start()
        # moto's backends are per process, not per server: start from an empty store.
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(
            f"http://127.0.0.1:{self.moto_port}/moto-api/reset", method="POST"), timeout=10)
        boto3.client("s3", endpoint_url=f"http://127.0.0.1:{self.moto_port}",
                     aws_access_key_id="testing", aws_secret_access_key="testing",
                     region_name="us-east-1").create_bucket(Bucket=BUCKET)
        cert, key = self_signed(self.root)
        (self.root / "nginx.conf").write_text(f"""
daemon off;
pid {self.root}/nginx.pid;
error_log {self.root}/nginx-error.log warn;
worker_processes 1;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {self.root}/body;
  proxy_temp_path {self.root}/proxy;
  client_max_body_size 0;
  server {{
    listen 127.0.0.1:{self.port} ssl;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    location / {{
      proxy_pass http://127.0.0.1:{self.moto_port};
      proxy_set_header Host $http_host;
      proxy_http_version 1.1;
      proxy_request_buffering off;
      proxy_buffering off;
    }}
  }}
}}
""")
        self.start_proxy()

    def start_proxy(self) -> None:
        self.nginx = subprocess.Popen(["nginx", "-c", str(self.root / "nginx.conf")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        svc.wait_port(self.port)

    def stop_proxy(self) -> None:
        if self.nginx and self.nginx.poll() is None:
            self.nginx.terminate()
            self.nginx.wait(10)

    def stop(self) -> None:
        self.stop_proxy()
        if self.moto:
            self.moto.stop()


@dataclass
class Node:
    """A PostgreSQL primary with WAL archiving and its `pgbackrest server` sidecar."""

    root: Path
    tcclog: TccLog
    s3_port: int
    port: int = field(default_factory=svc.free_port)
    server_port: int = field(default_factory=svc.free_port)
    server: subprocess.Popen[bytes] | None = None

    @property
    def datadir(self) -> Path:
        return self.root / "pgdata"

    @property
    def socket(self) -> Path:
        return self.root / "socket"

    def localize(self, sections: dict[str, dict[str, str]],
                 pg_path: Path | None = None) -> dict[str, dict[str, str]]:
        """The rendered config with this machine's paths, hosts and ports (nothing else)."""
        # TLS_MOUNT first: CONFIG_MOUNT is a prefix of it.
        swaps = {TLS_MOUNT: str(self.root / "tls"), CONFIG_MOUNT: str(self.root / "conf"),
                 SPOOL_PATH: str(self.root / "spool"), LOCK_PATH: str(self.root / "lock"),
                 POD_PATHS.data_dir: str(pg_path or self.datadir),
                 POD_PATHS.socket_dir: str(self.socket)}
        out: dict[str, dict[str, str]] = {}
        for section, options in sections.items():
            out[section] = {}
            for key, value in options.items():
                for old, new in swaps.items():
                    value = value.replace(old, new)
                if key.endswith("-host"):
                    value = "localhost"  # the server certificate names localhost too
                elif key.endswith("-host-port") or key == "tls-server-port":
                    value = str(self.server_port)
                elif key.endswith("-port") and key.startswith("pg"):
                    value = str(self.port)
                elif key == "tls-server-address":
                    value = "127.0.0.1"
                out[section][key] = value
        return out

    def env(self, role: str, **extra: str) -> dict[str, str]:
        conf = RECOVERY_CONFIG_FILE if role == "recovery" else f"{role}-{CONFIG_FILE}"
        return {"PATH": f"{svc.PG_BIN}:/usr/bin:/bin", "HOME": str(self.root), "LANG": "C.UTF-8",
                "PGBACKREST_CONFIG": str(self.root / "conf" / conf), **S3_KEYS, **extra}

    def write_configs(self, recovery_tcclog: TccLog | None = None,
                      recovery_path: Path | None = None) -> None:
        conf = self.root / "conf"
        conf.mkdir(parents=True, exist_ok=True)
        for role in ("pg", "repo"):
            text = render_ini(self.localize(config_sections(self.tcclog, role)))  # type: ignore[arg-type]
            (conf / f"{role}-{CONFIG_FILE}").write_text(text)
        if recovery_tcclog is not None:
            text = render_ini(self.localize(config_sections(recovery_tcclog, "recovery"),
                                            pg_path=recovery_path))
            (conf / RECOVERY_CONFIG_FILE).write_text(text)
        (conf / "backup-run.py").write_text(BACKUP_SCRIPT)
        own_tree(self.root)

    def setup(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        for sub in ("socket", "lock", "spool", "tls"):
            (self.root / sub).mkdir(exist_ok=True)
        tls = self.root / "tls"
        for name, value in new_pgbackrest_tls(self.tcclog).items():
            (tls / name).write_text(value)
            (tls / name).chmod(0o600)
        self.write_configs()
        pg_env = self.env("pg")
        self.run(["initdb", "-D", str(self.datadir), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8"], pg_env)
        from tcclog_operator.render.patroni import archive_parameters

        archive = archive_parameters(self.tcclog)
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.socket}'\nwal_level = replica\n"
                       "max_wal_senders = 4\nshared_buffers = 64MB\n"
                       + "".join(f"{k} = '{v}'\n" for k, v in archive.items()))
        self.start_pg()
        self.start_server()

    def run(self, cmd: list[str], env: dict[str, str],
            timeout: float = 600) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(as_pg_user(cmd, env), capture_output=True, text=True,
                                timeout=timeout, cwd=self.root)
        if result.returncode != 0:
            raise RuntimeError(f"{cmd[:3]} exited {result.returncode}: {result.stdout}\n"
                               f"{result.stderr}")
        return result

    def start_pg(self, datadir: Path | None = None, env: dict[str, str] | None = None) -> None:
        datadir = datadir or self.datadir
        self.run(["pg_ctl", "-D", str(datadir), "-l", str(datadir / "server.log"), "-w",
                  "-t", "120", "start"], env or self.env("pg"))

    def stop_pg(self, datadir: Path | None = None) -> None:
        with contextlib.suppress(Exception):
            self.run(["pg_ctl", "-D", str(datadir or self.datadir), "-m", "fast", "-w", "stop"],
                     self.env("pg"))

    def start_server(self) -> None:
        log = (self.root / "server.log").open("ab")
        self.server = subprocess.Popen(as_pg_user(["pgbackrest", "server"], self.env("pg")),
                                       stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        svc.wait_port(self.server_port)

    def backup_command(self, method: str) -> list[str]:
        """The CronJob container's command, with the script's path localized."""
        from tcclog_operator.render.backup import backup_job_spec
        from tcclog_operator.render.meta import RenderSettings

        spec = backup_job_spec(self.tcclog, RenderSettings(), method)  # type: ignore[arg-type]
        command = list(spec["template"]["spec"]["containers"][0]["command"])
        return [c.replace(CONFIG_MOUNT, str(self.root / "conf")) for c in command]

    def backup_process(self, method: str, result_file: Path,
                       **env: str) -> subprocess.Popen[str]:
        """Start the backup job's command as the repository host (stderr into stdout)."""
        command = ["/usr/bin/python3", *self.backup_command(method)[1:]]
        environment = self.env("repo", TCCLOG_TERMINATION_LOG=str(result_file), **env)
        return subprocess.Popen(as_pg_user(command, environment), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, cwd=self.root)

    def backup(self, method: str, result_file: Path,
               timeout: float = 900) -> subprocess.CompletedProcess[str]:
        """Run the backup job's command as the repository host; returns the finished process."""
        command = ["/usr/bin/python3", *self.backup_command(method)[1:]]
        env = self.env("repo", TCCLOG_TERMINATION_LOG=str(result_file))
        return subprocess.run(as_pg_user(command, env), capture_output=True, text=True,
                              timeout=timeout, cwd=self.root)

    def info(self) -> list[dict[str, Any]]:
        out = self.run(["pgbackrest", f"--stanza={STANZA}", "--output=json", "info"],
                       self.env("repo")).stdout
        data = json.loads(out)
        return list(data[0].get("backup", [])) if data else []

    def sql(self, query: str, port: int | None = None) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port or self.port}/postgres",
                             autocommit=True) as conn:
            cur = conn.execute(query)
            return cur.fetchall() if cur.description else []

    def wait_archived(self, timeout: float = 60) -> None:
        """Switch WAL and wait (bounded) until that segment is in the repository."""
        segment = self.sql("SELECT pg_walfile_name(pg_switch_wal())")[0][0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            last = self.sql("SELECT last_archived_wal FROM pg_stat_archiver")[0][0]
            if last and last >= segment:
                return
            time.sleep(0.2)
        raise TimeoutError(f"WAL segment {segment} was not archived in {timeout}s")

    def stop(self) -> None:
        if self.server and self.server.poll() is None:
            os.killpg(self.server.pid, 15)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.server.wait(10)
        self.stop_pg()


def new_root(prefix: str) -> Path:
    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o755)
    return root


def utc_now_rfc3339(node: Node) -> str:
    """The database server's clock, as RFC 3339 (what a user would put in targetTime)."""
    moment: dt.datetime = node.sql("SELECT clock_timestamp()")[0][0]
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def cleanup(*paths: Path) -> None:
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)
