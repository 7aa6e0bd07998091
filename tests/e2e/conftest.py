"""The e2e suite runs against whichever cluster it is given; tests never care which.

TCCLOG_E2E_CLUSTER selects it:
  local     (default) the local control plane from tests/cluster (etcd, kube-apiserver,
            kube-controller-manager, kube-scheduler, KWOK), started for this session
  kind      a kind cluster created from tests/e2e/kind-config.yaml (needs Docker)
  existing  whatever the current KUBECONFIG points at
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from kubernetes import client, config

from tests.cluster import running_cluster

from .operator import OperatorProcess, install, service_account_kubeconfig

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Cluster:
    backend: str
    kubeconfig: Path
    bin_dir: Path | None = None
    log_dir: Path | None = None
    audit_log: Path | None = None
    """Every write request the API server received (local control plane only)."""
    env: dict[str, str] = field(default_factory=dict)

    def kubectl(self, *args: str, input: str | None = None, check: bool = True
                ) -> subprocess.CompletedProcess[str]:
        """Run kubectl against this cluster (the one built with it, when local)."""
        binary = str(self.bin_dir / "kubectl") if self.bin_dir else "kubectl"
        return subprocess.run(
            [binary, f"--kubeconfig={self.kubeconfig}", *args],
            input=input, capture_output=True, text=True, check=check, timeout=120,
        )


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    backend = os.environ.get("TCCLOG_E2E_CLUSTER", "local")
    if backend == "local":
        with running_cluster(tmp_path_factory.mktemp("cluster")) as local:
            yield Cluster("local", local.kubeconfig, local.bin_dir, local.log_dir,
                          local.audit_log, local.env())
    elif backend == "kind":
        yield from _kind_cluster(tmp_path_factory.mktemp("kind"))
    elif backend == "existing":
        kubeconfig = Path(os.environ.get("KUBECONFIG", Path.home() / ".kube/config"))
        yield Cluster("existing", kubeconfig, env={"KUBECONFIG": str(kubeconfig)})
    else:
        raise pytest.UsageError(f"TCCLOG_E2E_CLUSTER={backend!r}: use local, kind or existing")


def _kind_cluster(workdir: Path) -> Iterator[Cluster]:
    if shutil.which("kind") is None:
        pytest.fail("TCCLOG_E2E_CLUSTER=kind but the `kind` command is not installed")
    name = os.environ.get("TCCLOG_KIND_NAME", "tcclog-e2e")
    kubeconfig = workdir / "kubeconfig"
    subprocess.run(["kind", "create", "cluster", "--name", name, "--wait", "120s",
                    "--config", str(HERE / "kind-config.yaml"),
                    "--kubeconfig", str(kubeconfig)], check=True)
    try:
        yield Cluster("kind", kubeconfig, env={"KUBECONFIG": str(kubeconfig)})
    finally:
        if not os.environ.get("TCCLOG_KIND_KEEP"):
            subprocess.run(["kind", "delete", "cluster", "--name", name], check=False)


@pytest.fixture(scope="session")
def api(cluster: Cluster) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(cluster.kubeconfig))


@pytest.fixture
def namespace(api: client.ApiClient, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace per test (Pod Security "restricted" enforced), deleted afterwards."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:40].strip("-")
    name = f"t-{slug}-{uuid.uuid4().hex[:6]}"
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(
        name=name, labels={"pod-security.kubernetes.io/enforce": "restricted"})))
    yield name
    core.delete_namespace(name)


@pytest.fixture(scope="session")
def operator(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[OperatorProcess]:
    """The operator installed from deploy/ and running with its ServiceAccount's rights."""
    install(cluster)
    workdir = tmp_path_factory.mktemp("operator")
    process = OperatorProcess(service_account_kubeconfig(cluster, workdir / "kubeconfig"),
                              workdir / "operator.log")
    process.start()
    yield process
    process.stop()
