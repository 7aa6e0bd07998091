"""Real redis-server and redis-sentinel processes from the configuration the operator renders.

`config_map_data(tcclog)` is what the pods mount; the start scripts add per-pod lines
(password, announced address, replicaof / sentinel monitor). Here the same lines are
added with loopback addresses: only addresses, ports and directories differ from a pod.
Used by the tests and by bench/failover_redis.py.
"""

from __future__ import annotations

import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tcclog_operator.models import TccLog
from tcclog_operator.render.meta import REDIS_MASTER_SET, REDIS_PORT, SENTINEL_PORT
from tcclog_operator.render.redis import config_map_data
from tests.integration import _services as svc


def localize(conf: str, port: int, workdir: Path) -> str:
    """A rendered config with a loopback address, a free port and a temporary directory."""
    lines = []
    for line in conf.splitlines():
        key = line.split(" ", 1)[0]
        if key == "port":
            line = f"port {port}"
        elif key == "bind":
            line = "bind 127.0.0.1"
        elif key == "dir":
            line = f"dir {workdir}"
        lines.append(line)
    return "\n".join(lines) + "\n"


@dataclass
class RedisSet:
    """1 master + replicas and the Sentinels watching them, all on 127.0.0.1."""

    tcclog: TccLog
    password: str
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="tcclog-redis-")))
    servers: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    sentinels: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    def _spawn(self, binary: str, conf: str, port: int) -> subprocess.Popen[bytes]:
        workdir = self.root / str(port)
        workdir.mkdir(exist_ok=True)
        path = workdir / "redis.conf"
        path.write_text(localize(conf, port, workdir) + self._extra[port])
        path.chmod(0o600)
        log = (workdir / "log").open("ab")
        process = subprocess.Popen([binary, str(path)], stdout=log, stderr=subprocess.STDOUT)
        svc.wait_port(port)
        return process

    def start(self) -> None:
        data = config_map_data(self.tcclog)
        self._extra: dict[int, str] = {}
        spec = self.tcclog.spec.redis
        ports = [svc.free_port() for _ in range(spec.replicas)]
        master = ports[0]
        for port in ports:  # what redis-start.sh appends
            self._extra[port] = (f"requirepass {self.password}\nmasterauth {self.password}\n"
                                 "replica-announce-ip 127.0.0.1\n"
                                 + (f"replicaof 127.0.0.1 {master}\n" if port != master else ""))
            self.servers[port] = self._spawn("redis-server", data["redis.conf"], port)
        monitor = data["sentinel-monitor.conf"].replace("MASTER_HOST", "127.0.0.1").replace(
            f" {REDIS_PORT} ", f" {master} ")
        for _ in range(spec.sentinels):  # what sentinel-start.sh appends
            port = svc.free_port()
            self._extra[port] = ("sentinel announce-ip 127.0.0.1\n" + monitor
                                 + f"sentinel auth-pass {REDIS_MASTER_SET} {self.password}\n")
            self.sentinels[port] = self._spawn("redis-sentinel", data["sentinel.conf"], port)

    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", port) for port in self.sentinels]

    def kill(self, port: int) -> None:
        """A crash: SIGKILL, no shutdown, no goodbye to the replicas."""
        self.servers[port].send_signal(signal.SIGKILL)
        self.servers[port].wait(10)

    def stop(self) -> None:
        for process in [*self.sentinels.values(), *self.servers.values()]:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


__all__ = ["SENTINEL_PORT", "RedisSet", "localize"]
