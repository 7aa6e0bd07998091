"""Real Patroni members on loopback, configured from the patroni.yaml the operator rendered.

`member_config` is the whole difference between a pod and a test process: it replaces
only addresses, ports and paths (POD_PATHS) and names the kubeconfig context. Identity
and passwords reach Patroni through the same environment variables the StatefulSet sets.
PostgreSQL refuses to run as root, so members run as the unprivileged test user of
tests/integration/_services.py. Used by the tests and by bench/failover_postgres.py.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.integration import _services as svc


def patroni_command() -> list[str]:
    """How to run this environment's Patroni as the unprivileged user.

    Patroni starts PostgreSQL through a multiprocessing "spawn" child, which re-executes
    the interpreter. A virtualenv's interpreter may link into a directory that user cannot
    enter (e.g. /root/.pyenv), so the system interpreter of the same version runs it with
    this environment's site-packages when there is one.
    """
    system = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    return [str(system if system.exists() else sys.executable), "-m", "patroni"]


def site_packages() -> str:
    import site

    return os.pathsep.join(site.getsitepackages())


def member_config(rendered: Mapping[str, Any], root: Path, pg_port: int, api_port: int,
                  kube_context: str) -> dict[str, Any]:
    """The rendered config with this process's addresses, ports and paths."""
    config = copy.deepcopy(dict(rendered))
    api = f"127.0.0.1:{api_port}"
    config["restapi"].update(listen=api, connect_address=api)
    pg = config["postgresql"]
    address = f"127.0.0.1:{pg_port}"
    pg.update(listen=address, connect_address=address, data_dir=str(root / "data"),
              bin_dir=str(svc.PG_BIN), pgpass=str(root / "pgpass"))
    pg["parameters"]["unix_socket_directories"] = str(root / "socket")
    config["bootstrap"]["post_bootstrap"] = f"/bin/sh {root / 'post-bootstrap.sh'}"
    # The stanza callback (backups on) drives pgBackRest with the pod's paths; the
    # backup tests run pgBackRest themselves.
    pg.pop("callbacks", None)
    # Outside a pod Patroni reads KUBECONFIG; its default context name is kind's.
    config["kubernetes"]["context"] = kube_context
    return config


@dataclass
class Member:
    """One Patroni process (and the PostgreSQL it runs), named after its pod."""

    name: str
    root: Path
    pg_port: int = field(default_factory=svc.free_port)
    api_port: int = field(default_factory=svc.free_port)
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    def write_files(self, rendered: Mapping[str, Any], post_bootstrap: str, kubeconfig: str,
                    kube_context: str, env: Mapping[str, str]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "socket").mkdir(exist_ok=True)
        config = member_config(rendered, self.root, self.pg_port, self.api_port, kube_context)
        files = {
            "patroni.yaml": yaml.safe_dump(config),
            "post-bootstrap.sh": post_bootstrap,
            "kubeconfig": kubeconfig,
        }
        for name, text in files.items():
            path = self.root / name
            path.write_text(text)
            path.chmod(0o600)
        self.root.chmod(0o700)
        for path in [self.root, *self.root.iterdir()]:
            svc._own(path)
        # As in the pod: identity and secrets in the environment, never on a command line.
        self.env = {**env, "KUBECONFIG": str(self.root / "kubeconfig"), "HOME": str(self.root),
                    "PATH": f"{svc.PG_BIN}:/usr/bin:/bin", "LANG": "C.UTF-8",
                    "PYTHONPATH": site_packages()}

    def start(self) -> None:
        command = [*patroni_command(), str(self.root / "patroni.yaml")]
        if os.geteuid() == 0:  # PostgreSQL refuses root: run as the tests' system user
            svc._ensure_pg_user()
            command = ["setpriv", f"--reuid={svc.PG_USER}", f"--regid={svc.PG_USER}",
                       "--init-groups", "--", *command]
        with (self.root / "patroni.log").open("ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env, cwd=self.root, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)

    def postmaster_pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.root / "data" / "postmaster.pid").read_text().splitlines()[0])
        return None

    def kill(self) -> None:
        """A crash (node or container lost): Patroni and PostgreSQL die at once, no cleanup."""
        postmaster = self.postmaster_pid()
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        if postmaster:  # Patroni runs the postmaster in its own session
            with contextlib.suppress(ProcessLookupError):
                os.kill(postmaster, signal.SIGKILL)

    def stop(self, timeout: float = 30) -> None:
        """A pod deletion: SIGTERM, Patroni stops PostgreSQL and releases the leader lock."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        postmaster = self.postmaster_pid()
        if postmaster:
            with contextlib.suppress(ProcessLookupError):
                os.kill(postmaster, signal.SIGKILL)

    def api(self, path: str) -> tuple[int, dict[str, Any]]:
        """Patroni's REST API: (HTTP status, JSON body); (0, {}) when it does not answer."""
        url = f"http://127.0.0.1:{self.api_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")
        except (OSError, ValueError):
            return 0, {}

    def log_tail(self, size: int = 4000) -> str:
        """The start and the end of Patroni's log (where failures show)."""
        with contextlib.suppress(OSError):
            text = (self.root / "patroni.log").read_text(errors="replace")
            return text if len(text) <= 2 * size else f"{text[:size]}\n...\n{text[-size:]}"
        return ""


def rw_dsn(members: list[Member], user: str, password: str, dbname: str) -> str:
    """What the -rw Service is for a client on loopback: libpq tries every member and
    keeps the one that accepts writes."""
    hosts = ",".join("127.0.0.1" for _ in members)
    ports = ",".join(str(m.pg_port) for m in members)
    return (f"host={hosts} port={ports} user={user} password={password} dbname={dbname} "
            "target_session_attrs=read-write connect_timeout=2")


def wait_until(probe: Any, timeout: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
            if last:
                return last
        except Exception as exc:
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}; last: {last!r}")


@dataclass
class PatroniCluster:
    """Members started from what the operator applied for TccLog `tcclog` in `namespace`."""

    namespace: str
    tcclog: str
    members: list[Member]
    passwords: dict[str, str]
    root: Path

    @classmethod
    def start(cls, core: Any, kubectl: Any, admin_kubeconfig: Path, namespace: str,
              tcclog: str, instances: int) -> PatroniCluster:
        """`core`: a CoreV1Api; `kubectl(*args)`: runs kubectl against the cluster."""
        prefix = f"{tcclog}-postgres"
        rendered = core.read_namespaced_config_map(f"{prefix}-patroni", namespace).data
        secret = core.read_namespaced_secret(f"{prefix}-credentials", namespace).data
        passwords = {k: base64.b64decode(v).decode() for k, v in secret.items()}
        # Patroni acts with the ServiceAccount the operator rendered: its Role must suffice.
        token = kubectl("create", "token", prefix, "-n", namespace, "--duration=2h").strip()
        admin = yaml.safe_load(admin_kubeconfig.read_text())
        server = admin["clusters"][0]["cluster"]
        kubeconfig = yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "patroni",
            "clusters": [{"name": "local", "cluster": server}],
            "users": [{"name": prefix, "user": {"token": token}}],
            "contexts": [{"name": "patroni", "context": {"cluster": "local", "user": prefix}}],
        })
        root = Path(tempfile.mkdtemp(prefix="tcclog-patroni-"))
        root.chmod(0o755)
        members = [Member(f"{prefix}-{i}", root / f"member-{i}") for i in range(instances)]
        for member in members:
            member.write_files(yaml.safe_load(rendered["patroni.yaml"]),
                               rendered["post-bootstrap.sh"], kubeconfig, "patroni", {
                                   "PATRONI_NAME": member.name,
                                   "PATRONI_KUBERNETES_NAMESPACE": namespace,
                                   "PATRONI_SUPERUSER_PASSWORD": passwords["superuser-password"],
                                   "PATRONI_REPLICATION_PASSWORD":
                                       passwords["replication-password"],
                                   "TCCLOG_APP_PASSWORD": passwords["app-password"],
                                   "TCCLOG_READONLY_PASSWORD": passwords["readonly-password"],
                               })
        started = cls(namespace, tcclog, members, passwords, root)
        for member in members:
            member.start()
        return started

    def topology(self) -> dict[str, dict[str, Any]]:
        """name -> {role, state, lag, ...} as any live member's /cluster reports it."""
        for member in self.members:
            status, body = member.api("/cluster")
            if status == 200:
                return {m["name"]: m for m in body.get("members", [])}
        return {}

    def healthy(self, expected: int | None = None) -> str | None:
        """The leader's name once there is one leader, every other member streams and (with
        2+ members) one of them is the synchronous standby. In synchronous mode Patroni
        promotes only that standby: a leader lost before one was chosen is not replaced,
        since writes it acknowledged exist nowhere else."""
        members = self.topology()
        leaders = [n for n, m in members.items() if m["role"] == "leader"
                   and m["state"] == "running"]
        streaming = [n for n, m in members.items() if m["state"] == "streaming"]
        sync = [n for n, m in members.items() if m["role"] == "sync_standby"]
        want = expected if expected is not None else len(self.members)
        if len(leaders) == 1 and len(streaming) == want - 1 and (want < 2 or len(sync) == 1):
            return leaders[0]
        return None

    def member(self, name: str) -> Member:
        return next(m for m in self.members if m.name == name)

    def app_dsn(self) -> str:
        return rw_dsn(self.members, "tcclog", self.passwords["app-password"], "tcclog")

    def superuser_dsn(self) -> str:
        return rw_dsn(self.members, "postgres", self.passwords["superuser-password"], "postgres")

    def diagnose(self) -> str:
        """Failure context: Patroni's topology, what sessions wait for, the members' logs."""
        import psycopg

        parts = [f"topology: {self.topology()}"]
        for member in self.members:
            dsn = (f"host=127.0.0.1 port={member.pg_port} user=postgres dbname=postgres "
                   f"password={self.passwords['superuser-password']} connect_timeout=2")
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    rows = conn.execute(
                        "SELECT current_setting('synchronous_standby_names'), "
                        "pg_is_in_recovery(), array_agg(wait_event) FILTER "
                        "(WHERE backend_type = 'client backend') FROM pg_stat_activity"
                    ).fetchall()
                parts.append(f"{member.name}: {rows}")
            except Exception as exc:
                parts.append(f"{member.name}: {exc!r}")
        parts.extend(f"--- {m.name}\n{m.log_tail(3000)}" for m in self.members)
        return "\n".join(parts)

    def stop(self) -> None:
        for member in self.members:
            member.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class WriteLog:
    """What a writer saw: ids the server acknowledged (committed) and attempts that failed."""

    acknowledged: list[tuple[int, float]] = field(default_factory=list)
    failed: list[tuple[int, float]] = field(default_factory=list)

    def first_ack_after(self, moment: float) -> float | None:
        return next((t for _, t in self.acknowledged if t > moment), None)

    def outage_start(self, killed_at: float) -> float | None:
        """The first failed attempt after the kill. A clean stop keeps serving for a moment
        (Patroni checkpoints before stopping), so the outage may start after the kill."""
        return next((t for _, t in self.failed if t >= killed_at), None)

    def writable_again(self, killed_at: float) -> float | None:
        """When a write succeeded again after the outage the kill caused (None until then)."""
        outage = self.outage_start(killed_at)
        return self.first_ack_after(outage) if outage is not None else None


def run_writer(dsn: str, stop: Any, log: WriteLog, *, max_writes: int = 20000,
               max_seconds: float = 90) -> None:
    """Insert increasing ids through the read-write address until `stop` is set, the count
    or the time runs out. A failed attempt reconnects (libpq finds the new primary)."""
    import psycopg

    deadline = time.monotonic() + max_seconds
    conn: Any = None
    for write_id in range(1, max_writes + 1):
        if stop.is_set() or time.monotonic() > deadline:
            break
        try:
            if conn is None:
                conn = psycopg.connect(dsn, autocommit=True)
            conn.execute("INSERT INTO failover_probe (id) VALUES (%s)", (write_id,))
            log.acknowledged.append((write_id, time.monotonic()))
        except psycopg.Error:
            log.failed.append((write_id, time.monotonic()))
            with contextlib.suppress(Exception):
                conn.close()
            conn = None
            time.sleep(0.05)
    if conn is not None:
        conn.close()
