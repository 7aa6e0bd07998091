"""Real PostgreSQL (primary + streaming replica), Redis (+ Sentinel) and moto S3 on loopback.

PostgreSQL refuses to run as root, so when the tests run as root (CI does) every Postgres
binary runs as the unprivileged system user `tcctest`, created on demand."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

PG_BIN = Path(os.environ.get("TCCLOG_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "tcctest"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port}")


def _ensure_pg_user() -> None:
    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        PG_USER], check=True)


def _as_pg_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    _ensure_pg_user()
    return ["setpriv", f"--reuid={PG_USER}", f"--regid={PG_USER}", "--init-groups",
            "--reset-env", "--", *cmd]


def _own(path: Path) -> None:
    if os.geteuid() == 0:
        _ensure_pg_user()
        shutil.chown(path, PG_USER, PG_USER)


def _run(cmd: list[str]) -> None:
    result = subprocess.run(_as_pg_user(cmd), capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed: {result.stdout}\n{result.stderr}")


@dataclass
class PgInstance:
    datadir: Path
    port: int
    running: bool = False

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> None:
        _run([str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-l",
              str(self.datadir / "server.log"), "-w", "-t", "60", "start"])
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        if self.running:
            _run([str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "stop"])
            self.running = False


@dataclass
class PgCluster:
    root: Path
    primary: PgInstance
    replicas: list[PgInstance] = field(default_factory=list)

    def add_replica(self, name: str, synchronous: bool = False) -> PgInstance:
        datadir = self.root / name
        replica = PgInstance(datadir, free_port())
        _run([str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.primary.port),
              "-U", "postgres", "-D", str(datadir), "-R", "-X", "stream", "-c", "fast"])
        with (datadir / "postgresql.auto.conf").open("a") as conf:
            conf.write(f"\nport = {replica.port}\nprimary_conninfo = 'host=127.0.0.1 "
                       f"port={self.primary.port} user=postgres application_name={name}'\n")
        replica.start()
        self.replicas.append(replica)
        if synchronous:
            # remote_apply: a commit returns only once the replica shows it, so a read that
            # follows a write in the next request sees it (as with a sync standby in prod).
            with psycopg.connect(self.primary.dsn(), autocommit=True) as conn:
                conn.execute(f"ALTER SYSTEM SET synchronous_standby_names = '{name}'")
                conn.execute("ALTER SYSTEM SET synchronous_commit = 'remote_apply'")
                conn.execute("SELECT pg_reload_conf()")
        return replica

    def stop_all(self) -> None:
        for instance in [*self.replicas, self.primary]:
            with contextlib.suppress(Exception):
                instance.stop("immediate")


def start_postgres() -> PgCluster:
    root = Path(tempfile.mkdtemp(prefix="tcclog-pg-"))
    root.chmod(0o755)
    _own(root)
    datadir = root / "primary"
    _run([str(PG_BIN / "initdb"), "-D", str(datadir), "-U", "postgres", "--auth=trust",
          "-E", "UTF8", "--locale=C.UTF-8"])
    port = free_port()
    with (datadir / "postgresql.conf").open("a") as conf:
        conf.write(f"\nport = {port}\nlisten_addresses = '127.0.0.1'\n"
                   f"unix_socket_directories = '{root}'\nfsync = off\n"
                   "synchronous_commit = off\nfull_page_writes = off\nwal_level = replica\n"
                   "max_wal_senders = 10\nmax_connections = 200\nshared_buffers = 64MB\n")
    with (datadir / "pg_hba.conf").open("a") as hba:
        hba.write("host replication postgres 127.0.0.1/32 trust\n")
    cluster = PgCluster(root, PgInstance(datadir, port))
    cluster.primary.start()
    return cluster


def cleanup_postgres(cluster: PgCluster) -> None:
    cluster.stop_all()
    shutil.rmtree(cluster.root, ignore_errors=True)


@dataclass
class Proc:
    process: subprocess.Popen[bytes]
    port: int
    workdir: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_redis(replica_of: int | None = None) -> Proc:
    workdir = Path(tempfile.mkdtemp(prefix="tcclog-redis-"))
    port = free_port()
    extra = ["--replicaof", "127.0.0.1", str(replica_of)] if replica_of else []
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(workdir), *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return Proc(process, port, workdir)


def start_sentinel(master_port: int, master_name: str = "mymaster",
                   down_after_ms: int = 5000) -> Proc:
    workdir = Path(tempfile.mkdtemp(prefix="tcclog-sentinel-"))
    port = free_port()
    conf = workdir / "sentinel.conf"
    conf.write_text(f"port {port}\nbind 127.0.0.1\ndir {workdir}\n"
                    f"sentinel monitor {master_name} 127.0.0.1 {master_port} 1\n"
                    f"sentinel down-after-milliseconds {master_name} {down_after_ms}\n"
                    f"sentinel failover-timeout {master_name} 5000\n")
    process = subprocess.Popen(["redis-sentinel", str(conf)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    wait_port(port)
    return Proc(process, port, workdir)
