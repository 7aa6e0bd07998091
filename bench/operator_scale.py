"""Operator benchmarks on the local control plane (figures, not pass/fail).

    .venv/bin/python -m bench.operator_scale single          # one TccLog vs kubectl floor
    .venv/bin/python -m bench.operator_scale many --count 100
    .venv/bin/python -m bench.operator_scale many --count 1000 --idle 60
    .venv/bin/python -m bench.operator_scale floor --count 1000

`single`: time from creating one TccLog to all its children existing, against the
floor of `kubectl apply --server-side` of the same `tcclog-operator render` output.
`many`: N TccLogs created at once; time until every one is Ready for its generation,
the operator's peak RSS, the write requests it made (API server audit log), and the
writes per minute once idle.
`floor`: the same N TccLogs, but no operator: their rendered children are written by a
plain loop of server-side applies (8 threads) and the clock stops when every
Deployment and StatefulSet is ready. That is what the API server, etcd, the
controllers and KWOK cost on this machine, whoever writes the objects.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config
from tests.cluster import running_cluster
from tests.cluster.local import REPO, LocalCluster
from tests.e2e.operator import OPERATOR_USER, OperatorProcess, service_account_kubeconfig

from tcclog_operator import drift
from tcclog_operator.connection import Connection
from tcclog_operator.kube import Kube
from tcclog_operator.models import TccLog
from tcclog_operator.render import MANAGED_BY_SELECTOR, fill_secret_values, render

GROUP, VERSION, PLURAL = "tcclog.com", "v1alpha1", "tcclogs"
CHILD_KINDS = "serviceaccounts,secrets,configmaps,services,deployments,pdb"


class _Cluster:
    """Just enough of the e2e Cluster for the operator helpers."""

    def __init__(self, local: LocalCluster) -> None:
        self.kubeconfig = local.kubeconfig
        self.bin_dir = local.bin_dir
        self.audit_log = local.audit_log

    def kubectl(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.bin_dir / "kubectl"), f"--kubeconfig={self.kubeconfig}",
                               *args], input=input, capture_output=True, text=True, check=True,
                              timeout=600)


def _tcclog(namespace: str, name: str) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "TccLog",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"version": "0.1.0", "backend": {"replicas": 1}}}


def _setup(cluster: _Cluster, namespace: str) -> None:
    cluster.kubectl("apply", "--server-side", "-k", str(REPO / "deploy"))
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s",
                    "crd/tcclogs.tcclog.com")
    cluster.kubectl("create", "namespace", namespace)


def _rss_mib(pid: int, field: str = "VmHWM") -> float:
    """The process' peak (VmHWM) or current (VmRSS) resident memory."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _operator_writes(audit_log: Path) -> Counter[str]:
    writes: Counter[str] = Counter()
    for line in audit_log.read_text().splitlines():
        event = json.loads(line)
        if event["user"]["username"] == OPERATOR_USER:
            writes[f'{event["verb"]} {event["objectRef"].get("resource", "?")}'] += 1
    return writes


def single(cluster: _Cluster, workdir: Path, rounds: int) -> None:
    api = config.new_client_from_config(config_file=str(cluster.kubeconfig))
    kube = Kube(Connection.from_kubeconfig(str(cluster.kubeconfig)), field_manager="bench")
    _setup(cluster, "floor")  # CRDs and RBAC; each round applies into its own namespace
    operator = OperatorProcess(service_account_kubeconfig(cluster, workdir / "op.kubeconfig"),
                               workdir / "operator.log", resync_seconds=300)
    operator.start()
    expected = None
    floor_times, operator_times = [], []
    try:
        for index in range(rounds):
            # Floor: the same objects, applied by kubectl in one request batch.
            floor_namespace = f"floor{index}"
            cluster.kubectl("create", "namespace", floor_namespace)
            body = _tcclog(floor_namespace, "demo")
            rendered = subprocess.run(
                [sys.executable, "-m", "tcclog_operator", "render", "-f", "-", "--show-secrets"],
                input=json.dumps(body), capture_output=True, text=True, check=True).stdout
            started = time.perf_counter()
            cluster.kubectl("apply", "--server-side", "-f", "-", input=rendered)
            floor_times.append(time.perf_counter() - started)
            expected = rendered.count("\nkind: ")

            namespace = f"op{index}"
            cluster.kubectl("create", "namespace", namespace)
            wanted = [(doc["kind"], doc["metadata"]["name"])
                      for doc in yaml.safe_load_all(rendered) if doc]
            started = time.perf_counter()
            client.CustomObjectsApi(api).create_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURAL, _tcclog(namespace, "demo"))
            while any(kube.get(kind, namespace, name) is None for kind, name in wanted):
                time.sleep(0.01)
            operator_times.append(time.perf_counter() - started)
    finally:
        operator.stop()
    floor, ours = sorted(floor_times)[len(floor_times) // 2], sorted(operator_times)[
        len(operator_times) // 2]
    print(f"single TccLog, {expected} children, median of {rounds} rounds:")  # noqa: T201
    print(f"  floor  kubectl apply --server-side: {floor * 1000:.0f} ms")  # noqa: T201
    print(f"  operator create -> all children:    {ours * 1000:.0f} ms "  # noqa: T201
          f"({ours / floor:.2f}x the floor)")


def many(cluster: _Cluster, workdir: Path, count: int, idle_seconds: float,
         timeout: float) -> None:
    api = config.new_client_from_config(config_file=str(cluster.kubeconfig))
    objects = client.CustomObjectsApi(api)
    namespace = "bench"
    _setup(cluster, namespace)
    operator = OperatorProcess(service_account_kubeconfig(cluster, workdir / "op.kubeconfig"),
                               workdir / "operator.log", resync_seconds=300)
    operator.start()
    assert operator.process is not None
    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: objects.create_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURAL, _tcclog(namespace, f"t{i:04d}")),
                range(count)))
        created = time.perf_counter() - started
        # The operator's own part: every child of every TccLog applied at least once.
        children = count * _children_per_tcclog(namespace)
        ready, applied_at = 0, None
        while ready < count and time.perf_counter() - started < timeout:
            if applied_at is None and operator.metric(
                    "tcclog_operator_api_writes_total", verb="apply") >= children:
                applied_at = time.perf_counter() - started
            items = objects.list_namespaced_custom_object(GROUP, VERSION, namespace,
                                                          PLURAL)["items"]
            ready = sum(1 for item in items if _ready(item))
            time.sleep(1)
        converged = time.perf_counter() - started
        writes = _operator_writes(cluster.audit_log)
        rss = _rss_mib(operator.process.pid)
        before_idle = sum(_operator_writes(cluster.audit_log).values())
        time.sleep(idle_seconds)
        idle_writes = sum(_operator_writes(cluster.audit_log).values()) - before_idle
        rss = max(rss, _rss_mib(operator.process.pid))
        idle_rss = _rss_mib(operator.process.pid, "VmRSS")
    finally:
        operator.stop()
    print(f"{count} TccLogs created in {created:.1f} s; {ready}/{count} Ready "  # noqa: T201
          f"after {converged:.1f} s")
    print(f"  operator apply requests reached {children} (one per child) after "  # noqa: T201
          f"{applied_at:.1f} s" if applied_at is not None else "  fewer applies than children")
    print(f"  operator RSS: peak {rss:.0f} MiB, {idle_rss:.0f} MiB after the idle "  # noqa: T201
          "period")
    print(f"  operator write requests until converged: {sum(writes.values())} "  # noqa: T201
          f"({dict(writes.most_common(6))})")
    print(f"  idle: {idle_writes} writes in {idle_seconds:.0f} s "  # noqa: T201
          f"= {idle_writes * 60 / idle_seconds:.1f} writes/min")


def floor(cluster: _Cluster, count: int, timeout: float) -> None:
    api = config.new_client_from_config(config_file=str(cluster.kubeconfig))
    objects = client.CustomObjectsApi(api)
    kube = Kube(Connection.from_kubeconfig(str(cluster.kubeconfig)),
                field_manager="bench-floor", pool_size=8)
    namespace = "bench"
    _setup(cluster, namespace)

    def create_and_write(index: int) -> int:
        body = objects.create_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, _tcclog(namespace, f"t{index:04d}"))
        tcclog = TccLog.from_body(body)
        children = render(tcclog, secret_values=fill_secret_values(tcclog, {}))
        for child in children:
            kube.apply(drift.stamp(child))
        return len(children)

    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        written = sum(pool.map(create_and_write, range(count)))
    written_at = time.perf_counter() - started
    pending = count
    while pending and time.perf_counter() - started < timeout:
        pending = _unready_workloads(kube, namespace)
        time.sleep(1)
    converged = time.perf_counter() - started
    print(f"floor, {count} TccLogs: {written} children written in {written_at:.1f} s; "  # noqa: T201
          f"{'all' if not pending else f'{pending} not'} ready after {converged:.1f} s")


def _unready_workloads(kube: Kube, namespace: str) -> int:
    """Deployments not available and StatefulSets not ready, as the operator's status sees them."""
    unready = 0
    for item in kube.list("Deployment", namespace, MANAGED_BY_SELECTOR):
        status = item.get("status") or {}
        unready += status.get("availableReplicas", 0) < item["spec"].get("replicas", 1)
    for item in kube.list("StatefulSet", namespace, MANAGED_BY_SELECTOR):
        status = item.get("status") or {}
        unready += (status.get("readyReplicas", 0) < item["spec"].get("replicas", 1)
                    or status.get("observedGeneration", 0) < item["metadata"]["generation"])
    return unready


def _children_per_tcclog(namespace: str) -> int:
    tcclog = TccLog.from_body(_tcclog(namespace, "probe"))
    return len(render(tcclog, secret_values=fill_secret_values(tcclog, {})))


def _ready(item: dict[str, Any]) -> bool:
    status = item.get("status", {})
    return status.get("observedGeneration") == item["metadata"]["generation"] and any(
        c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", []))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["single", "many", "floor"])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--idle", type=float, default=60)
    parser.add_argument("--timeout", type=float, default=900, help="give up after (s)")
    args = parser.parse_args()
    # Room for every pod and claim: 1,000 TccLogs are ~6,000 pods and ~2,000 claims.
    capacity = {"cpu": "4000", "memory": "64Ti", "pods": str(max(110, args.count * 2))}
    with tempfile.TemporaryDirectory() as tmp, running_cluster(
            Path(tmp) / "cluster", nodes=4, node_capacity=capacity,
            volumes=max(64, args.count * 3)) as local:
        cluster = _Cluster(local)
        if args.mode == "single":
            single(cluster, Path(tmp), args.rounds)
        elif args.mode == "floor":
            floor(cluster, args.count, args.timeout)
        else:
            many(cluster, Path(tmp), args.count, args.idle, args.timeout)


if __name__ == "__main__":
    main()
