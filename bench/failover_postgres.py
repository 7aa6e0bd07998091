"""PostgreSQL failover with Patroni, configured by the operator (figures, not pass/fail).

    .venv/bin/python -m bench.failover_postgres --rounds 3

Starts the local control plane and the operator, creates a TccLog with 3 instances in
synchronous mode, runs 3 real Patroni members from the rendered configuration (as in
tests/integration/data), then per round and per mode:
  crash     SIGKILL of the leader's Patroni and PostgreSQL, which stay down (a node
            loss): the lock expires after Patroni's ttl (20 s, the least it accepts)
  restart   the same SIGKILL, then the member starts again 1 s later (a crashed
            container, which the kubelet restarts at once)
  shutdown  SIGTERM of the leader's Patroni (a pod deletion, drain or rolling update)
while a writer inserts ids through the read-write address (libpq, target_session_attrs=
read-write, as the -rw Service is for a pod). Prints how long writes failed (from the
first failed write after the kill to the next success; for a crash that is the kill
itself) and how many acknowledged writes are missing afterwards (must be 0).
The killed member is restarted and rejoins before the next round.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
from kubernetes import client, config
from tests.cluster import running_cluster
from tests.e2e.operator import OperatorProcess, install, service_account_kubeconfig
from tests.e2e.test_operator import create, minimal
from tests.e2e.wait import wait_for
from tests.integration.data.patroni_harness import PatroniCluster, WriteLog, run_writer

from .operator_scale import _Cluster


def stored_ids(patroni: PatroniCluster) -> set[int] | None:
    try:
        with psycopg.connect(patroni.app_dsn(), autocommit=True) as conn:
            return {row[0] for row in conn.execute("SELECT id FROM failover_probe")}
    except psycopg.OperationalError:
        return None  # between leaders for a moment


def one_round(patroni: PatroniCluster, mode: str) -> tuple[float, int, int, int]:
    """(seconds without writes, acknowledged, failed attempts, acknowledged but missing)."""
    leader = wait_for(patroni.healthy, timeout=120, what="a healthy cluster")
    with psycopg.connect(patroni.app_dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS failover_probe (id bigint PRIMARY KEY)")
        conn.execute("TRUNCATE failover_probe")
    log, stop = WriteLog(), threading.Event()
    writer = threading.Thread(target=run_writer, args=(patroni.app_dsn(), stop, log),
                              kwargs={"max_writes": 100_000, "max_seconds": 120})
    writer.start()
    wait_for(lambda: len(log.acknowledged) >= 100, timeout=30, what="writes before the kill")
    member = patroni.member(leader)
    killed_at = time.monotonic()
    if mode == "crash":
        member.kill()
    elif mode == "restart":
        member.kill()
        threading.Timer(1.0, member.start).start()
    else:
        threading.Thread(target=member.stop, daemon=True).start()
    try:
        wait_for(lambda: log.writable_again(killed_at), timeout=90, interval=0.1,
                 what="a write on the new primary")
    except AssertionError:
        sys.stderr.write(patroni.diagnose() + "\n")
        raise
    target = len(log.acknowledged) + 100
    wait_for(lambda: len(log.acknowledged) >= target, timeout=30, what="writes after")
    stop.set()
    writer.join(30)
    stored = wait_for(lambda: stored_ids(patroni), timeout=60, what="the primary to answer")
    acknowledged = {write_id for write_id, _ in log.acknowledged}
    # From the first failed write (the outage as clients see it) to the next success.
    writable = (log.writable_again(killed_at) or float("nan")) - (
        log.outage_start(killed_at) or float("nan"))
    if mode != "restart":
        member.stop()
        member.start()  # rejoins as a replica (pg_rewind if needed)
    return writable, len(acknowledged), len(log.failed), len(acknowledged - stored)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--modes", default="crash,restart,shutdown")
    args = parser.parse_args(argv)
    out = sys.stdout.write
    with tempfile.TemporaryDirectory() as tmp, running_cluster(Path(tmp) / "cluster") as local:
        cluster = _Cluster(local)
        install(cluster)  # type: ignore[arg-type]
        operator = OperatorProcess(service_account_kubeconfig(
            cluster, Path(tmp) / "operator.kubeconfig"), Path(tmp) / "operator.log")  # type: ignore[arg-type]
        operator.start()
        api = config.new_client_from_config(config_file=str(local.kubeconfig))
        core = client.CoreV1Api(api)
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="bench")))
        create(api, minimal("bench", postgres={"instances": 3, "synchronousMode": True}))
        wait_for(lambda: len([p for p in core.list_namespaced_pod(
            "bench", label_selector="app.kubernetes.io/component=postgres").items
            if p.status.phase == "Running"]) == 3, timeout=120, what="the pods")
        patroni = PatroniCluster.start(core, lambda *a: cluster.kubectl(*a).stdout,
                                       local.kubeconfig, "bench", "demo", 3)
        results: dict[str, list[float]] = {}
        try:
            for mode in args.modes.split(","):
                for round_no in range(1, args.rounds + 1):
                    writable, acked, failed, lost = one_round(patroni, mode)
                    results.setdefault(mode, []).append(writable)
                    out(f"{mode:8} round {round_no}: writes failed for {writable:5.1f} s; "
                        f"{acked} acknowledged, {failed} failed attempts, {lost} lost\n")
        finally:
            patroni.stop()
            operator.stop()
        for mode, times in results.items():
            out(f"{mode:8} median {statistics.median(times):.1f} s, max {max(times):.1f} s "
                f"over {len(times)} rounds\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
