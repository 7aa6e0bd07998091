"""Pure render of Redis + Sentinel and of the NetworkPolicies that fence the data tier."""

from __future__ import annotations

from typing import Any

from tcclog_operator.models import TccLog
from tcclog_operator.render.redis import (
    quorum,
    redis_start_sh,
    sentinel_monitor_conf,
    sentinel_start_sh,
)

from .conftest import make, render_all
from .test_render import assert_restricted

COMPONENT = "app.kubernetes.io/component"


def index(objects: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def test_redis_and_sentinel_objects(production: TccLog) -> None:
    objects = [o for o in render_all(production)
               if o["metadata"]["labels"][COMPONENT] in ("redis", "sentinel")]
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("Secret", "tcc-redis-credentials"),
        ("ConfigMap", "tcc-redis"),
        ("Service", "tcc-redis-headless"),
        ("Service", "tcc-sentinel-headless"),
        ("Service", "tcc-sentinel"),
        ("StatefulSet", "tcc-redis"),
        ("StatefulSet", "tcc-sentinel"),
        ("PodDisruptionBudget", "tcc-redis"),
        ("PodDisruptionBudget", "tcc-sentinel"),
        ("NetworkPolicy", "tcc-redis-ingress"),
        ("NetworkPolicy", "tcc-sentinel-ingress"),
    ]
    found = index(objects)
    assert found[("StatefulSet", "tcc-redis")]["spec"]["replicas"] == 3
    assert found[("StatefulSet", "tcc-sentinel")]["spec"]["replicas"] == 3
    assert found[("StatefulSet", "tcc-sentinel")]["spec"]["serviceName"] == "tcc-sentinel-headless"


def test_single_redis_has_no_redis_pdb_but_sentinels_do(minimal: TccLog) -> None:
    found = index(render_all(minimal))
    assert ("PodDisruptionBudget", "demo-redis") not in found
    assert found[("PodDisruptionBudget", "demo-sentinel")]["spec"]["maxUnavailable"] == 1


def test_redis_pods_meet_restricted_and_read_the_password_from_the_secret(
        production: TccLog) -> None:
    found = index(render_all(production))
    for name in ("tcc-redis", "tcc-sentinel"):
        pod = found[("StatefulSet", name)]["spec"]["template"]["spec"]
        assert_restricted(pod)
        container = pod["containers"][0]
        assert container["image"] == "docker.io/library/redis:7.4"
        assert container["env"] == [{"name": "REDIS_PASSWORD", "valueFrom": {
            "secretKeyRef": {"name": "tcc-redis-credentials", "key": "password"}}}]
        assert pod["volumes"][1] == {"name": "data", "emptyDir": {"sizeLimit": "256Mi"}}


def test_quorum_is_a_majority() -> None:
    assert [quorum(make({"redis": {"sentinels": n}})) for n in (1, 3, 5, 7)] == [1, 2, 3, 4]


def test_sentinel_monitor_block(production: TccLog) -> None:
    conf = sentinel_monitor_conf(production, "10.0.0.1", 6379)
    assert conf.splitlines()[0] == "sentinel monitor tcclog 10.0.0.1 6379 2"
    assert "sentinel down-after-milliseconds tcclog 5000" in conf


def test_start_scripts_follow_the_current_master(production: TccLog) -> None:
    for script in (redis_start_sh(production), sentinel_start_sh(production)):
        assert "sentinel get-master-addr-by-name tcclog" in script
        # Every Sentinel is asked before falling back to pod 0.
        assert "tcc-sentinel-2.tcc-sentinel-headless.tcc.svc" in script
        assert 'master="tcc-redis-0.tcc-redis-headless.tcc.svc"' in script
    redis = redis_start_sh(production)
    assert 'echo "replicaof $master 6379"' in redis
    assert 'echo "requirepass $REDIS_PASSWORD"' in redis


def test_network_policies_admit_only_backend_backup_and_peers(production: TccLog) -> None:
    found = index(render_all(production))

    def sources(name: str) -> list[tuple[set[str], set[int]]]:
        spec = found[("NetworkPolicy", name)]["spec"]
        assert spec["policyTypes"] == ["Ingress"]
        return [({peer.get("podSelector", {"matchLabels": {COMPONENT: "any"}})["matchLabels"]
                  .get(COMPONENT, "operator") for peer in rule["from"]},
                 {port["port"] for port in rule["ports"]}) for rule in spec["ingress"]]

    assert sources("tcc-postgres-ingress") == [({"backend", "backup"}, {5432}),
                                               ({"backup"}, {8432}),
                                               ({"postgres"}, {5432, 8008}),
                                               ({"any"}, {9187})]  # exporter metrics only
    assert sources("tcc-redis-ingress") == [({"backend", "redis", "sentinel"}, {6379}),
                                            ({"any"}, {9121})]
    assert sources("tcc-sentinel-ingress") == [
        ({"backend", "sentinel", "redis", "operator"}, {26379})]
    operator = found[("NetworkPolicy", "tcc-sentinel-ingress")]["spec"]["ingress"][0]["from"][-1]
    assert operator == {  # the operator asks Sentinel for the master, from its own namespace
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "tcclog-system"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "tcclog-operator"}}}
    policy = found[("NetworkPolicy", "tcc-postgres-ingress")]["spec"]
    assert policy["podSelector"]["matchLabels"][COMPONENT] == "postgres"
    peer = policy["ingress"][0]["from"][0]["podSelector"]["matchLabels"]
    assert peer["app.kubernetes.io/instance"] == "tcc"  # never another TccLog's pods
