"""Patroni + PostgreSQL for real, configured by the operator, on the local control plane.

Three members run from the patroni.yaml the operator rendered into the API server, as the
ServiceAccount it created, labelling the pods its StatefulSet made. The operator keeps
running, so its Services and status react to what Patroni does.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
from kubernetes import client

from tests.e2e.test_operator import get, patch_spec
from tests.e2e.wait import wait_for

from .conftest import pod_labels
from .patroni_harness import PatroniCluster, WriteLog, run_writer


def endpoint_pods(api: client.ApiClient, namespace: str, service: str) -> set[str]:
    slices = client.DiscoveryV1Api(api).list_namespaced_endpoint_slice(
        namespace, label_selector=f"kubernetes.io/service-name={service}").items
    return {e.target_ref.name for s in slices for e in (s.endpoints or [])}


def test_one_leader_streaming_replicas_role_labels_and_services(
        api: client.ApiClient, patroni: PatroniCluster) -> None:
    leader = patroni.healthy()
    assert leader is not None
    replicas = {m.name for m in patroni.members} - {leader}
    labels = pod_labels(api, patroni.namespace)
    assert labels[leader]["role"] == "primary"
    assert {labels[n]["role"] for n in replicas} == {"replica"}
    wait_for(lambda: endpoint_pods(api, patroni.namespace, "demo-postgres-rw") == {leader},
             timeout=30, what="-rw to select the leader's pod")
    wait_for(lambda: endpoint_pods(api, patroni.namespace, "demo-postgres-ro") == replicas,
             timeout=30, what="-ro to select the replicas' pods")

    # The app's role and database come from the rendered post-bootstrap script; the
    # spec's parameters reached postgresql.conf; synchronous mode picked a sync standby.
    with psycopg.connect(patroni.app_dsn(), autocommit=True) as conn:
        assert conn.execute("SHOW max_connections").fetchone() == ("40",)
        conn.execute("CREATE TABLE IF NOT EXISTS failover_probe (id bigint PRIMARY KEY)")

    def replication() -> list[tuple[str, str, str]] | None:
        with psycopg.connect(patroni.superuser_dsn(), autocommit=True) as conn:
            rows = conn.execute("SELECT application_name, state, sync_state "
                                "FROM pg_stat_replication ORDER BY 1").fetchall()
        # synchronous_node_count 1: Patroni names one sync standby once replicas stream.
        return rows if [sync for _, _, sync in rows].count("sync") == 1 else None

    rows = wait_for(replication, timeout=30, what="one synchronous standby")
    assert {name for name, _, _ in rows} == replicas
    assert {state for _, state, _ in rows} == {"streaming"}

    def reported() -> dict[str, str] | None:
        postgres = get(api, patroni.namespace)["status"]["components"]["postgres"]
        return postgres if postgres.get("primary") == leader else None

    # The operator reads Patroni's view from the pods (role label, status annotation).
    wait_for(lambda: "2/2 replicas streaming" in (reported() or {}).get("message", ""),
             timeout=30, what="the TccLog status to name the primary and streaming replicas")


def test_leader_crash_fails_over_without_losing_an_acknowledged_write(
        api: client.ApiClient, patroni: PatroniCluster) -> None:
    old_leader = patroni.healthy()
    assert old_leader is not None
    with psycopg.connect(patroni.app_dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS failover_probe (id bigint PRIMARY KEY)")
        conn.execute("TRUNCATE failover_probe")
    log, stop = WriteLog(), threading.Event()
    writer = threading.Thread(target=run_writer, args=(patroni.app_dsn(), stop, log),
                              kwargs={"max_writes": 50_000, "max_seconds": 90})
    writer.start()
    try:
        wait_for(lambda: len(log.acknowledged) >= 50, timeout=30, what="writes before the crash")
        killed_at = time.monotonic()
        patroni.member(old_leader).kill()  # SIGKILL Patroni and PostgreSQL: a node crash
        wait_for(lambda: log.writable_again(killed_at), timeout=60, interval=0.2,
                 what="a write to succeed on a new primary")
        acked_before_stop = len(log.acknowledged)
        wait_for(lambda: len(log.acknowledged) >= acked_before_stop + 50, timeout=30,
                 what="writes after the failover")
    except BaseException:
        print(patroni.topology())  # noqa: T201 - failure context
        for member in patroni.members:
            print(f"--- {member.name}\n{member.log_tail(6000)}")  # noqa: T201
        raise
    finally:
        stop.set()
        writer.join(30)
    new_leader = wait_for(lambda: patroni.healthy(expected=2), timeout=30,
                          what="the survivors to settle")
    assert new_leader != old_leader
    with psycopg.connect(patroni.app_dsn(), autocommit=True) as conn:
        stored = {row[0] for row in conn.execute("SELECT id FROM failover_probe")}
    acknowledged = {write_id for write_id, _ in log.acknowledged}
    assert acknowledged - stored == set(), "acknowledged writes lost in the failover"
    assert log.failed, "the writer saw the outage"
    writable_after = log.writable_again(killed_at)
    assert writable_after is not None
    print(f"failover: writable again {writable_after - killed_at:.1f} s after the crash; "  # noqa: T201
          f"{len(acknowledged)} acknowledged, {len(log.failed)} failed attempts")

    # The kubelet restarts the crashed container (until then its failing readiness probe
    # keeps the pod out of the Services; KWOK has no probes, so the test restarts it at
    # once). Patroni rejoins it as a replica and relabels its pod: -rw then selects only
    # the new leader's pod, the status names it, and the operator posts an Event.
    patroni.member(old_leader).start()
    wait_for(lambda: patroni.healthy() == new_leader, timeout=90, interval=0.5,
             what="the crashed member to rejoin as a replica")
    wait_for(lambda: endpoint_pods(api, patroni.namespace, "demo-postgres-rw") == {new_leader},
             timeout=30, what="-rw to follow the new primary")
    wait_for(lambda: get(api, patroni.namespace)["status"]["components"]["postgres"]
             .get("primary") == new_leader, timeout=30, what="status to name the new primary")

    def failover_event() -> bool:
        events = client.CoreV1Api(api).list_namespaced_event(
            patroni.namespace, field_selector="reason=PostgresPrimaryChanged").items
        return any(f"to {new_leader}" in (e.message or "") for e in events)

    wait_for(failover_event, timeout=30, what="the PostgresPrimaryChanged Event")


def test_spec_changes_after_bootstrap_reach_patronis_dynamic_config(
        api: client.ApiClient, patroni: PatroniCluster) -> None:
    leader = wait_for(patroni.healthy, timeout=60, what="a healthy cluster")
    assert patroni.member(leader).api("/config")[1]["synchronous_mode"] is True
    patch_spec(api, patroni.namespace, {"postgres": {"synchronousMode": False, "parameters": {
        "max_connections": "40", "shared_buffers": "16MB", "work_mem": "8MB"}}})

    def applied() -> dict[str, Any] | None:
        code, config = patroni.member(leader).api("/config")
        return config if code == 200 and config.get("synchronous_mode") is False else None

    # bootstrap.dcs alone would never carry this: the operator writes the DCS config.
    config = wait_for(applied, timeout=60, what="synchronous_mode off in Patroni's config")
    assert config["postgresql"]["parameters"]["work_mem"] == "8MB"
    assert config["ttl"] == 20  # the operator's other settings stay

    def async_with_new_work_mem() -> bool:
        with psycopg.connect(patroni.superuser_dsn(), autocommit=True) as conn:
            work_mem = conn.execute("SHOW work_mem").fetchone()
            rows = conn.execute("SELECT count(*) FROM pg_stat_replication "
                                "WHERE sync_state = 'sync'").fetchone()
        return work_mem == ("8MB",) and rows == (0,)

    wait_for(async_with_new_work_mem, timeout=60,
             what="no sync standby and work_mem 8MB on the primary")
    events = client.CoreV1Api(api).list_namespaced_event(
        patroni.namespace, field_selector="reason=PatroniConfigUpdated").items
    assert events, "no PatroniConfigUpdated event"
