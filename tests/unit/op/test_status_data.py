"""Pure status of the data tier: StatefulSets plus what Patroni writes on its pods."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from tcclog_operator import status
from tcclog_operator.models import Components, Endpoints, TccLog, TccLogStatus
from tcclog_operator.sentinel import master_pod
from tcclog_operator.status_data import (
    EVENT_POSTGRES_FAILOVER,
    data_tier_health,
    leader_events,
    leaders_of,
    postgres_health,
    redis_health,
)

from .conftest import make

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def sts(replicas: int, ready: int, generation: int = 1, seen: int = 1) -> dict[str, Any]:
    return {"metadata": {"generation": generation}, "spec": {"replicas": replicas},
            "status": {"observedGeneration": seen, "replicas": replicas,
                       "readyReplicas": ready, "updatedReplicas": replicas}}


def pod(name: str, role: str | None, **patroni: Any) -> dict[str, Any]:
    labels = {"role": role} if role else {}
    annotations = {"status": json.dumps(patroni)} if patroni else {}
    return {"metadata": {"name": name, "labels": labels, "annotations": annotations}}


def cluster(tcclog: TccLog, ready: int, pods: list[dict[str, Any]]) -> dict[Any, Any]:
    n = tcclog.spec.postgres.instances
    children: dict[Any, Any] = {("StatefulSet", "demo-postgres"): sts(n, ready)}
    children.update({("Pod", p["metadata"]["name"]): p for p in pods})
    return children


THREE = make({"postgres": {"instances": 3}})


def test_primary_and_streaming_replicas_from_patroni_pods() -> None:
    pods = [pod("demo-postgres-0", "replica", xlog_location=100, replication_state="streaming"),
            pod("demo-postgres-1", "primary", xlog_location=100),
            pod("demo-postgres-2", "replica", xlog_location=90, replication_state="streaming")]
    health = postgres_health(THREE, cluster(THREE, 3, pods))
    assert health.state == "ready"
    assert health.status.primary == "demo-postgres-1"
    assert health.status.summary == "3/3"
    assert "2/2 replicas streaming" in health.status.message
    assert "lags" not in health.status.message


def test_a_replica_too_far_behind_is_named() -> None:
    behind = 100 + 5 * 1024 * 1024
    pods = [pod("demo-postgres-0", "primary", xlog_location=behind),
            pod("demo-postgres-1", "replica", xlog_location=100, replication_state="streaming")]
    message = postgres_health(THREE, cluster(THREE, 2, pods)).status.message
    assert "demo-postgres-1 lags 5 MiB (not promotable)" in message


def test_no_primary_yet_and_pods_not_ready() -> None:
    health = postgres_health(THREE, cluster(THREE, 1, [pod("demo-postgres-0", None)]))
    assert health.state == "progressing"
    assert health.status.primary is None
    assert "waiting for pods, 1/3 ready" in health.status.message
    assert "no primary elected" in health.status.message


def test_pods_of_other_statefulsets_are_ignored() -> None:
    pods = [pod("demo-postgres-0", "primary"), pod("demo-postgres-headless-x", "primary")]
    assert postgres_health(THREE, cluster(THREE, 3, pods)).status.primary == "demo-postgres-0"


def test_missing_statefulset_and_unseen_generation_are_progressing() -> None:
    assert postgres_health(THREE, {}).state == "progressing"
    children = {("StatefulSet", "demo-postgres"): sts(3, 3, generation=2, seen=1)}
    assert postgres_health(THREE, children).state == "progressing"


def test_redis_needs_servers_and_sentinels() -> None:
    tcclog = make({"redis": {"replicas": 2, "sentinels": 3}})
    children = {("StatefulSet", "demo-redis"): sts(2, 2),
                ("StatefulSet", "demo-sentinel"): sts(3, 2)}
    assert redis_health(tcclog, children).state == "progressing"
    children[("StatefulSet", "demo-sentinel")] = sts(3, 3)
    health = redis_health(tcclog, children)
    assert (health.state, health.status.summary) == ("ready", "2/2+3/3")


def full_status(tcclog: TccLog, children: dict[Any, Any]) -> Any:
    observed = status.ObservedChildren(extra=data_tier_health(tcclog, children))
    return status.compute_status(tcclog, observed, endpoints=Endpoints(), now=T0)


def test_change_of_primary_posts_one_event() -> None:
    first = full_status(THREE, cluster(THREE, 3, [pod("demo-postgres-0", "primary")]))
    second = full_status(THREE, cluster(THREE, 3, [pod("demo-postgres-1", "primary")]))
    assert first.components.postgres.primary == "demo-postgres-0"
    events, known = leader_events(leaders_of(first), second)
    assert events == [("Warning", EVENT_POSTGRES_FAILOVER,
                       "PostgreSQL primary moved from demo-postgres-0 to demo-postgres-1")]
    assert known["postgres"] == "demo-postgres-1"
    assert leader_events(known, second)[0] == []
    assert leader_events({}, second)[0] == []


def test_a_failover_through_a_moment_without_primary_still_posts_the_move() -> None:
    first = full_status(THREE, cluster(THREE, 3, [pod("demo-postgres-0", "primary")]))
    gap = full_status(THREE, cluster(THREE, 3, []))
    second = full_status(THREE, cluster(THREE, 3, [pod("demo-postgres-1", "primary")]))
    assert gap.components.postgres.primary is None
    events, known = leader_events(leaders_of(first), gap)
    assert events == [] and known == {"postgres": "demo-postgres-0"}
    events, known = leader_events(known, second)
    assert [message for _, _, message in events] == [
        "PostgreSQL primary moved from demo-postgres-0 to demo-postgres-1"]


def test_a_crashed_leader_still_labelled_primary_loses_to_the_promoted_one() -> None:
    """Its label stays until its container restarts; the new primary is on a newer timeline."""
    pods = [pod("demo-postgres-0", "primary", timeline=1, xlog_location=100),
            pod("demo-postgres-1", "primary", timeline=2, xlog_location=200),
            pod("demo-postgres-2", "replica", replication_state="streaming")]
    assert postgres_health(THREE, cluster(THREE, 3, pods)).status.primary == "demo-postgres-1"


def test_two_primaries_without_timelines_keep_the_previous_one() -> None:
    previous = full_status(THREE, cluster(THREE, 3, [pod("demo-postgres-1", "primary")]))
    both = cluster(THREE, 3, [pod("demo-postgres-0", "primary"), pod("demo-postgres-1", "primary")])
    known = THREE.model_copy(update={"status": previous})
    assert postgres_health(known, both).status.primary == "demo-postgres-1"
    assert postgres_health(THREE, both).status.primary is None


def test_redis_master_from_sentinel_is_reported_and_its_move_is_an_event() -> None:
    tcclog = make({"redis": {"replicas": 2}})
    announced = ("demo-redis-1.demo-redis-headless.tcc.svc", 6379)
    assert master_pod(tcclog, announced) == "demo-redis-1"
    assert master_pod(tcclog, ("10.0.0.7", 6379)) is None
    assert master_pod(tcclog, None) is None
    known = redis_health(tcclog, {}, "demo-redis-0")
    assert known.status.master == "demo-redis-0" and "master demo-redis-0" in known.status.message
    unknown = redis_health(tcclog, {}, None)
    assert unknown.status.master is None and "master unknown" in unknown.status.message
    before = TccLogStatus(components=Components(redis=known.status))
    after = TccLogStatus(components=Components(
        redis=redis_health(tcclog, {}, "demo-redis-1").status))
    assert leader_events(leaders_of(before), after)[0] == [
        ("Warning", "RedisMasterChanged", "Redis master moved from demo-redis-0 to demo-redis-1")]
    assert leader_events(leaders_of(before), before)[0] == []
