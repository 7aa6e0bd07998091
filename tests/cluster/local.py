"""A real Kubernetes control plane on loopback, without Docker.

etcd, kube-apiserver, kube-controller-manager, kube-scheduler and KWOK (fake nodes
that mark pods Running and Ready) run as plain processes built from the Go module
proxy by hack/k8s/build.sh. Every object is validated, admitted (Pod Security
included), scheduled and garbage-collected by the real Kubernetes code; only the
kubelet is missing, so containers never actually start.

State lives in one folder: pki/, etcd/, logs/<component>.log, kubeconfig, pids.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import pki

REPO = Path(__file__).resolve().parents[2]
KWOK_STAGES = Path(__file__).with_name("kwok-stages.yaml")
AUDIT_POLICY = Path(__file__).with_name("audit-policy.yaml")
FAKE_NODE_ANNOTATION = "kwok.x-k8s.io/node"
#: Default StorageClass of the pre-created PersistentVolume pool (static provisioning).
STORAGE_CLASS = "local-static"
_PR_SET_PDEATHSIG = 1


def build_binaries() -> Path:
    """Build (or find in the cache) the control-plane binaries; return their folder."""
    out = subprocess.run(
        [str(REPO / "hack/k8s/build.sh")], check=True, capture_output=True, text=True
    )
    return Path(out.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: if the test process dies (even by
    # SIGKILL), the kernel sends the component SIGTERM, so nothing is left behind.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class LocalCluster:
    state_dir: Path
    bin_dir: Path
    nodes: int = 2
    #: What each fake node offers the scheduler (benchmarks raise it for thousands of pods).
    node_capacity: dict[str, str] = field(
        default_factory=lambda: {"cpu": "32", "memory": "256Gi", "pods": "110"})
    #: Size of the PersistentVolume pool (each StatefulSet claim binds one, for good).
    volumes: int = 64
    tie_to_parent: bool = False
    """Kill the components when this Python process dies (tests); not for `cluster up`."""
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def kubeconfig(self) -> Path:
        return self.state_dir / "kubeconfig"

    @property
    def pki_dir(self) -> Path:
        return self.state_dir / "pki"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "pids.json"

    @property
    def audit_log(self) -> Path:
        """JSON lines, one per write request (see audit-policy.yaml)."""
        return self.log_dir / "audit.log"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.ports['apiserver']}"

    # ------------------------------------------------------------------ lifecycle

    def up(self, timeout: float = 120) -> None:
        if self.running():
            raise RuntimeError(f"a cluster is already running from {self.state_dir}")
        # Every start is a new cluster: a previous run's store and keys would clash.
        for stale in ("etcd", "pki", "apiserver-certs", "logs"):
            shutil.rmtree(self.state_dir / stale, ignore_errors=True)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(exist_ok=True)
        pki.create(self.pki_dir)
        self.ports = {name: free_port() for name in ("etcd", "etcd-peer", "apiserver",
                                                      "controller-manager", "scheduler", "kwok")}
        for identity in pki.CLIENTS:
            self._write_kubeconfig(identity)
        try:
            self._spawn("etcd", self._etcd_args())
            self._wait_http(f"http://127.0.0.1:{self.ports['etcd']}/health", timeout)
            self._spawn("kube-apiserver", self._apiserver_args())
            self._wait_http(f"{self.server}/readyz", timeout)
            self._spawn("kube-controller-manager", self._controller_manager_args())
            self._spawn("kube-scheduler", self._scheduler_args())
            self._spawn("kwok", self._kwok_args())
            self._create_nodes()
            self._create_storage()
            self._wait_nodes_ready(timeout)
        except BaseException:
            self.down()
            raise

    def down(self, grace: float = 10) -> None:
        """Stop every component, clients before servers; SIGKILL what ignores SIGTERM."""
        for pid in reversed(list(self._read_pids().values())):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            if not _wait_gone(pid, grace):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                _wait_gone(pid, grace)
        self.pid_file.unlink(missing_ok=True)

    def running(self) -> bool:
        pids = self._read_pids()
        return bool(pids) and all(_alive(pid) for pid in pids.values())

    def env(self) -> dict[str, str]:
        """Environment for a shell or subprocess that should talk to this cluster."""
        return {
            "KUBECONFIG": str(self.kubeconfig),
            "PATH": f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        }

    # ------------------------------------------------------------------ components

    def _spawn(self, name: str, args: list[str]) -> None:
        log = (self.log_dir / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [str(self.bin_dir / name), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.state_dir,
            start_new_session=True,  # Ctrl-C in a terminal reaches us, not the components
            preexec_fn=_die_with_parent if self.tie_to_parent else None,
        )
        log.close()
        pids = self._read_pids()
        pids[name] = proc.pid
        self.pid_file.write_text(json.dumps({"ports": self.ports, "pids": pids}))

    def _read_pids(self) -> dict[str, int]:
        if not self.pid_file.exists():
            return {}
        data = json.loads(self.pid_file.read_text())
        self.ports = self.ports or data["ports"]
        return dict(data["pids"])

    def _etcd_args(self) -> list[str]:
        client = f"http://127.0.0.1:{self.ports['etcd']}"
        peer = f"http://127.0.0.1:{self.ports['etcd-peer']}"
        return [
            "--name=local", f"--data-dir={self.state_dir / 'etcd'}",
            f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=local={peer}",
            # A throw-away test store: durability is not worth the fsync latency.
            "--unsafe-no-fsync", "--log-level=warn",
        ]

    def _apiserver_args(self) -> list[str]:
        p = self.pki_dir
        issuer = "https://kubernetes.default.svc.cluster.local"
        return [
            f"--etcd-servers=http://127.0.0.1:{self.ports['etcd']}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            f"--secure-port={self.ports['apiserver']}",
            # No kubelet-backed endpoints to maintain for the `kubernetes` Service.
            "--endpoint-reconciler-type=none",
            f"--tls-cert-file={p / 'apiserver.crt'}",
            f"--tls-private-key-file={p / 'apiserver.key'}",
            f"--client-ca-file={p / 'ca.crt'}",
            f"--service-account-issuer={issuer}", f"--api-audiences={issuer}",
            f"--service-account-key-file={p / 'sa.pub'}",
            f"--service-account-signing-key-file={p / 'sa.key'}",
            "--authorization-mode=RBAC",
            # PodSecurity is on by default; listed so nobody turns it off by accident.
            "--enable-admission-plugins=NamespaceLifecycle,ServiceAccount,PodSecurity,"
            "LimitRanger,ResourceQuota,DefaultStorageClass,StorageObjectInUseProtection",
            "--service-cluster-ip-range=10.96.0.0/16",
            # As on real clusters: Pod Security admission, not validation, refuses these.
            "--allow-privileged=true",
            f"--cert-dir={self.state_dir / 'apiserver-certs'}",
            f"--audit-policy-file={AUDIT_POLICY}", f"--audit-log-path={self.audit_log}",
            "--audit-log-format=json", "--audit-log-mode=blocking",
            # One file, never rotated (the default rotates at 100 MB and the bench and
            # tests count writes in this file).
            "--audit-log-maxsize=100000",
            "--profiling=false", "--v=1",
        ]

    def _controller_manager_args(self) -> list[str]:
        kubeconfig = self.state_dir / f"{pki.CONTROLLER_MANAGER.file_stem}.kubeconfig"
        return [
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}", f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1", f"--secure-port={self.ports['controller-manager']}",
            "--leader-elect=false",
            # Each controller acts with its own service account, as on kubeadm clusters.
            "--use-service-account-credentials=true",
            f"--service-account-private-key-file={self.pki_dir / 'sa.key'}",
            f"--root-ca-file={self.pki_dir / 'ca.crt'}",
            "--cluster-name=tcclog-local",
            "--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller",
            "--concurrent-gc-syncs=5", "--v=1",
        ]

    def _scheduler_args(self) -> list[str]:
        kubeconfig = self.state_dir / f"{pki.SCHEDULER.file_stem}.kubeconfig"
        return [
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}", f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1", f"--secure-port={self.ports['scheduler']}",
            "--leader-elect=false", "--v=1",
        ]

    def _kwok_args(self) -> list[str]:
        return [
            f"--kubeconfig={self.state_dir / f'{pki.KWOK.file_stem}.kubeconfig'}",
            f"--config={KWOK_STAGES}",
            "--manage-all-nodes=false",
            f"--manage-nodes-with-annotation-selector={FAKE_NODE_ANNOTATION}=fake",
            "--node-lease-duration-seconds=40",
            # Fake pod and node addresses: nothing is ever sent to them.
            "--cidr=10.244.0.0/16", "--node-ip=10.244.0.1",
            f"--server-address=127.0.0.1:{self.ports['kwok']}",
        ]

    def _write_kubeconfig(self, identity: pki.Identity) -> None:
        def b64(name: str) -> str:
            return base64.b64encode((self.pki_dir / name).read_bytes()).decode()

        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "tcclog-local", "cluster": {
                "server": self.server, "certificate-authority-data": b64("ca.crt")}}],
            "users": [{"name": identity.user, "user": {
                "client-certificate-data": b64(f"{identity.file_stem}.crt"),
                "client-key-data": b64(f"{identity.file_stem}.key")}}],
            "contexts": [{"name": "tcclog-local", "context": {
                "cluster": "tcclog-local", "user": identity.user}}],
            "current-context": "tcclog-local",
        }
        name = "kubeconfig" if identity is pki.ADMIN else f"{identity.file_stem}.kubeconfig"
        path = self.state_dir / name
        path.write_text(yaml.safe_dump(config))
        path.chmod(0o600)

    # ------------------------------------------------------------------ readiness

    def _ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.pki_dir / "ca.crt"))
        ctx.load_cert_chain(self.pki_dir / "admin.crt", self.pki_dir / "admin.key")
        return ctx

    def request(self, method: str, path: str, body: object | None = None) -> object:
        """A minimal admin API call, so the harness needs no client library."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.server}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, context=self._ssl_context(), timeout=10) as resp:
            return json.loads(resp.read() or b"null")

    def _wait_http(self, url: str, timeout: float) -> None:
        context = self._ssl_context() if url.startswith("https") else None
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            self._check_components_alive()
            try:
                with urllib.request.urlopen(url, context=context, timeout=5) as resp:
                    if resp.status == 200:
                        return
            except OSError as exc:
                last_error = exc
            time.sleep(0.2)
        raise TimeoutError(f"{url} not ready after {timeout} s: {last_error}; see {self.log_dir}")

    def _check_components_alive(self) -> None:
        for name, pid in self._read_pids().items():
            if not _alive(pid):
                tail = (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited during start-up; log tail:\n{tail}")

    def _create_nodes(self) -> None:
        for index in range(self.nodes):
            name = f"kwok-node-{index}"
            self.request("POST", "/api/v1/nodes", {
                "apiVersion": "v1", "kind": "Node",
                "metadata": {
                    "name": name,
                    "annotations": {FAKE_NODE_ANNOTATION: "fake"},
                    "labels": {"type": "kwok", "kubernetes.io/hostname": name,
                               "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                               "topology.kubernetes.io/zone": f"zone-{index % 3}"},
                },
                "status": {"allocatable": self.node_capacity, "capacity": self.node_capacity},
            })

    def _create_storage(self) -> None:
        """Static provisioning: a default StorageClass with no provisioner and a pool of
        PersistentVolumes, so StatefulSet claims bind through the real PV controller
        (nothing is ever mounted: there is no kubelet)."""
        self.request("POST", "/apis/storage.k8s.io/v1/storageclasses", {
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": STORAGE_CLASS, "annotations": {
                "storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "kubernetes.io/no-provisioner",
            "volumeBindingMode": "Immediate", "reclaimPolicy": "Retain",
            # As most real classes: claims may grow (tests/e2e grow the PostgreSQL volumes).
            "allowVolumeExpansion": True,
        })
        for index in range(self.volumes):
            self.request("POST", "/api/v1/persistentvolumes", {
                "apiVersion": "v1", "kind": "PersistentVolume",
                "metadata": {"name": f"pool-{index:03d}"},
                "spec": {"capacity": {"storage": "1Ti"}, "accessModes": ["ReadWriteOnce"],
                         "storageClassName": STORAGE_CLASS,
                         # Retain: a released volume is never reused by another test.
                         "persistentVolumeReclaimPolicy": "Retain",
                         "hostPath": {"path": f"/tmp/tcclog-pv/{index:03d}"}},
            })

    def _wait_nodes_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_components_alive()
            nodes = self.request("GET", "/api/v1/nodes")["items"]  # type: ignore[index]
            ready = [n for n in nodes if any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in n.get("status", {}).get("conditions", []))]
            if len(ready) >= self.nodes:
                return
            time.sleep(0.5)
        raise TimeoutError(f"KWOK nodes not Ready after {timeout} s; see {self.log_dir}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours still answers kill(0); check /proc for the state.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return False


def _wait_gone(pid: int, timeout: float) -> bool:
    """Wait until `pid` has exited (reaping it if it is our child); False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


@contextlib.contextmanager
def running_cluster(state_dir: Path, nodes: int = 2, **options: Any) -> Iterator[LocalCluster]:
    """Start a cluster for the duration of a block; always stops it."""
    cluster = LocalCluster(state_dir, build_binaries(), nodes=nodes, tie_to_parent=True, **options)
    cluster.up()
    try:
        yield cluster
    finally:
        cluster.down()
