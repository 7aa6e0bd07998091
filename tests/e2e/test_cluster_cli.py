"""`make cluster-up` / `make cluster-down`: the shell entry points to the local control plane."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cluster.local import REPO

pytestmark = pytest.mark.skipif(
    os.environ.get("TCCLOG_E2E_CLUSTER", "local") != "local",
    reason="exercises the local control plane's own CLI; kind and existing clusters have theirs",
)


def _cli(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tests.cluster", *args,
                           "--state-dir", str(state_dir)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)


def test_up_get_nodes_down_leaves_no_process(tmp_path: Path) -> None:
    state = tmp_path / "cli-cluster"
    up = _cli(state, "up", "--nodes", "3")
    try:
        assert up.returncode == 0, up.stderr
        pids = json.loads((state / "pids.json").read_text())["pids"]
        assert set(pids) == {"etcd", "kube-apiserver", "kube-controller-manager",
                             "kube-scheduler", "kwok"}

        env_lines = _cli(state, "env").stdout
        env = dict(os.environ)
        for line in env_lines.splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            env[key] = value.strip("'")
        nodes = subprocess.run(["kubectl", "get", "nodes", "--no-headers"], env=env,
                               capture_output=True, text=True, check=True, timeout=60).stdout
        rows = [line.split() for line in nodes.strip().splitlines()]
        assert len(rows) == 3 and all(row[1] == "Ready" for row in rows), nodes
        assert _cli(state, "status").stdout.strip() == "running"
    finally:
        down = _cli(state, "down")
    assert down.returncode == 0, down.stderr
    for name, pid in pids.items():
        assert not Path(f"/proc/{pid}").exists() or _zombie(pid), f"{name} ({pid}) still runs"
    assert _cli(state, "status").stdout.strip() == "stopped"


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
