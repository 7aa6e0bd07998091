"""Install the operator with `kubectl apply -k deploy/` and run it as a real process.

The process runs on the test host (no image is built here) but with exactly the
identity the Deployment's pods get: a token of the `tcclog-operator` ServiceAccount,
bound to the ClusterRole in deploy/. An RBAC gap therefore fails the e2e suite.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from tests.cluster.local import REPO, free_port

from .wait import wait_for

if TYPE_CHECKING:
    from .conftest import Cluster

OPERATOR_NAMESPACE = "tcclog-system"
OPERATOR_ACCOUNT = "tcclog-operator"
OPERATOR_USER = f"system:serviceaccount:{OPERATOR_NAMESPACE}:{OPERATOR_ACCOUNT}"


def install(cluster: Cluster) -> None:
    """CRDs, namespace, RBAC and the operator Deployment: the user's install command."""
    cluster.kubectl("apply", "--server-side", "-k", str(REPO / "deploy"))
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s",
                    "crd/tcclogs.tcclog.com")


def service_account_kubeconfig(cluster: Cluster, path: Path) -> Path:
    """A kubeconfig that authenticates as the operator's ServiceAccount."""
    token = cluster.kubectl("create", "token", OPERATOR_ACCOUNT, "-n", OPERATOR_NAMESPACE,
                            "--duration=4h").stdout.strip()
    admin = yaml.safe_load(cluster.kubeconfig.read_text())
    context = next(c for c in admin["contexts"] if c["name"] == admin["current-context"])
    server = next(c for c in admin["clusters"] if c["name"] == context["context"]["cluster"])
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "e2e", "cluster": server["cluster"]}],
        "users": [{"name": OPERATOR_ACCOUNT, "user": {"token": token}}],
        "contexts": [{"name": "e2e", "context": {"cluster": "e2e", "user": OPERATOR_ACCOUNT}}],
        "current-context": "e2e",
    }))
    path.chmod(0o600)
    return path


@dataclass
class OperatorProcess:
    kubeconfig: Path
    log_path: Path
    resync_seconds: float = 5
    metrics_port: int = field(default_factory=free_port)
    health_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    #: Settings on top of the defaults below (e.g. peering instead of standalone).
    extra_env: dict[str, str] = field(default_factory=dict)

    def start(self) -> None:
        env = {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "TCCLOG_OPERATOR_STANDALONE": "true",
            "TCCLOG_OPERATOR_METRICS_PORT": str(self.metrics_port),
            "TCCLOG_OPERATOR_HEALTH_PORT": str(self.health_port),
            "TCCLOG_OPERATOR_RESYNC_INTERVAL_SECONDS": str(self.resync_seconds),
            "TCCLOG_OPERATOR_DISCOVERY_INTERVAL_SECONDS": "2",
            "TCCLOG_OPERATOR_LOG_FORMAT": "plain",
            **self.extra_env,
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tcclog_operator", "run"], env=env, stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_for(self.healthy, timeout=60, what="the operator's liveness endpoint")

    def healthy(self) -> bool:
        assert self.process is not None and self.process.poll() is None, self.log_tail()
        with urllib.request.urlopen(f"http://127.0.0.1:{self.health_port}/healthz",
                                    timeout=2) as resp:
            return resp.status == 200

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def metric(self, name: str, **labels: str) -> float:
        """Sum of a Prometheus sample over series matching `labels`."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics",
                                    timeout=5) as resp:
            text = resp.read().decode()
        total = 0.0
        for line in text.splitlines():
            if not line.startswith(name + "{") and not line.startswith(name + " "):
                continue
            series, value = line.rsplit(" ", 1)
            if all(f'{key}="{val}"' in series for key, val in labels.items()):
                total += float(value)
        return total

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]
