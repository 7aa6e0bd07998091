"""`python -m tests.cluster up|down|env|status` — the local control plane from a shell.

    make cluster-up                       # start it (state in .cluster/)
    eval "$(make -s cluster-env)"         # point kubectl at it
    kubectl get nodes
    make cluster-down                     # stop it; no process is left behind
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

from .local import REPO, LocalCluster, build_binaries


def _cluster(state_dir: Path, nodes: int = 2) -> LocalCluster:
    return LocalCluster(state_dir, build_binaries(), nodes=nodes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.cluster", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "env", "status"])
    parser.add_argument("--state-dir", type=Path,
                        default=Path(os.environ.get("TCCLOG_CLUSTER_DIR", REPO / ".cluster")))
    parser.add_argument("--nodes", type=int, default=2, help="number of KWOK fake nodes")
    args = parser.parse_args(argv)
    cluster = _cluster(args.state_dir, args.nodes)
    out = sys.stdout.write

    if args.command == "up":
        if cluster.running():
            out(f"already running: {cluster.kubeconfig}\n")
            return 0
        started = time.monotonic()
        cluster.up()
        out(f"local control plane up in {time.monotonic() - started:.1f} s\n"
            f"  kubeconfig: {cluster.kubeconfig}\n  logs:       {cluster.log_dir}\n"
            f'  use it:     eval "$(make -s cluster-env)"\n')
    elif args.command == "down":
        cluster.down()
        out("local control plane stopped\n")
    elif args.command == "env":
        for key, value in cluster.env().items():
            out(f"export {key}={shlex.quote(value)}\n")
    else:
        out("running\n" if cluster.running() else "stopped\n")
        return 0 if cluster.running() else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
