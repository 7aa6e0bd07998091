"""The data tier on a real API server: PostgreSQL (Patroni StatefulSet) and Redis + Sentinel.

KWOK keeps the pods Running/Ready but runs no container, so these tests check what the
cluster itself does with the rendered objects: admission (Pod Security restricted),
scheduling with bound claims, Services selecting the right pods, scaling, PDBs, the
NetworkPolicies' selectors against the real pods, and the status the operator reports.
Patroni's own behaviour runs for real in tests/integration/data/.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client

from .conftest import Cluster
from .operator import OperatorProcess
from .test_operator import create, get, minimal, patch_spec, wait_ready
from .wait import wait_for

COMPONENT = "app.kubernetes.io/component"


def data_tier(namespace: str, instances: int) -> dict[str, Any]:
    return minimal(namespace, postgres={"instances": instances, "synchronousMode": instances > 1},
                   redis={"replicas": 2, "sentinels": 3})


def pods(api: client.ApiClient, namespace: str, component: str) -> list[client.V1Pod]:
    return client.CoreV1Api(api).list_namespaced_pod(
        namespace, label_selector=f"{COMPONENT}={component}").items  # type: ignore[no-any-return]


def matches(selector: dict[str, str], labels: dict[str, str] | None) -> bool:
    return all((labels or {}).get(k) == v for k, v in selector.items())


def wait_instances(api: client.ApiClient, namespace: str, count: int) -> dict[str, Any]:
    apps = client.AppsV1Api(api)

    def settled() -> bool:
        sts = apps.read_namespaced_stateful_set("demo-postgres", namespace)
        running = [p for p in pods(api, namespace, "postgres") if not p.metadata.deletion_timestamp]
        return (sts.spec.replicas == count and (sts.status.ready_replicas or 0) == count
                and len(running) == count)

    wait_for(settled, timeout=90, what=f"{count} postgres instances")
    obj = wait_ready(api, namespace)
    assert obj["status"]["components"]["postgres"]["summary"] == f"{count}/{count}"
    return obj


def test_three_instances_and_redis_with_sentinel_become_ready(
        cluster: Cluster, api: client.ApiClient, operator: OperatorProcess,
        namespace: str) -> None:
    create(api, data_tier(namespace, 3))
    obj = wait_instances(api, namespace, 3)
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    policy = client.PolicyV1Api(api)

    assert obj["status"]["components"]["redis"]["summary"] == "2/2+3/3"
    services = {s.metadata.name: s for s in core.list_namespaced_service(namespace).items}
    assert {"demo-postgres-rw", "demo-postgres-ro", "demo-postgres-headless",
            "demo-redis-headless", "demo-sentinel", "demo-sentinel-headless"} <= set(services)
    assert services["demo-postgres-headless"].spec.cluster_ip == "None"
    for name in ("demo-redis", "demo-sentinel"):
        assert apps.read_namespaced_stateful_set(name, namespace).status.ready_replicas >= 2
    budgets = {b.metadata.name for b in policy.list_namespaced_pod_disruption_budget(
        namespace).items}
    assert {"demo-postgres", "demo-redis", "demo-sentinel", "demo-backend"} <= budgets

    # Every claim bound through the real PV controller; the pods were admitted as restricted.
    claims = core.list_namespaced_persistent_volume_claim(namespace).items
    assert sorted(c.metadata.name for c in claims) == [
        f"data-demo-postgres-{i}" for i in range(3)]
    assert all(c.status.phase == "Bound" for c in claims)
    rbac = client.RbacAuthorizationV1Api(api)
    role = rbac.read_namespaced_role("demo-postgres", namespace)
    assert {r.resources[0] for r in role.rules} == {"configmaps", "pods"}
    assert rbac.read_namespaced_role_binding("demo-postgres", namespace).subjects[0].name == (
        "demo-postgres")


def test_network_policies_admit_only_backend_backup_and_peers(
        api: client.ApiClient, operator: OperatorProcess, namespace: str) -> None:
    create(api, data_tier(namespace, 2))
    wait_instances(api, namespace, 2)
    net = client.NetworkingV1Api(api)
    policies = {p.metadata.name: p for p in net.list_namespaced_network_policy(namespace).items}
    everyone = client.CoreV1Api(api).list_namespaced_pod(namespace).items
    by_component: dict[str, list[str]] = {}
    for pod in everyone:
        by_component.setdefault(pod.metadata.labels[COMPONENT], []).append(pod.metadata.name)

    def selected(selector: dict[str, str]) -> set[str]:
        return {p.metadata.name for p in everyone if matches(selector, p.metadata.labels)}

    for component, allowed in [("postgres", {"backend", "postgres"}),
                               ("redis", {"backend", "redis", "sentinel"}),
                               ("sentinel", {"backend", "redis", "sentinel"})]:
        spec = policies[f"demo-{component}-ingress"].spec
        assert spec.policy_types == ["Ingress"]
        # The policy applies to exactly this component's pods ...
        assert selected(spec.pod_selector.match_labels) == set(by_component[component])
        # ... and, from its own namespace, admits exactly the pods of the allowed
        # components (backup has none yet).
        admitted = set().union(*(selected(peer.pod_selector.match_labels)
                                 for rule in spec.ingress for peer in rule._from
                                 if peer.namespace_selector is None))
        expected = set().union(*(by_component.get(c, []) for c in allowed))
        assert admitted == expected, component
        # From elsewhere: only exporter metrics (Prometheus) and, for Sentinel, the operator.
        remote_ports = {port.port for rule in spec.ingress
                        if any(peer.namespace_selector is not None for peer in rule._from)
                        for port in rule.ports}
        assert remote_ports == {"postgres": {9187}, "redis": {9121},
                                "sentinel": {26379}}[component], component
    postgres_sources = policies["demo-postgres-ingress"].spec.ingress[0]._from
    assert {p.pod_selector.match_labels[COMPONENT] for p in postgres_sources} == {
        "backend", "backup"}


def test_scaling_postgres_one_to_three_to_two(
        api: client.ApiClient, operator: OperatorProcess, namespace: str) -> None:
    create(api, data_tier(namespace, 1))
    wait_instances(api, namespace, 1)
    policy = client.PolicyV1Api(api)
    names = {b.metadata.name for b in policy.list_namespaced_pod_disruption_budget(namespace).items}
    assert "demo-postgres" not in names  # one instance: a PDB would block every drain

    patch_spec(api, namespace, {"postgres": {"instances": 3, "synchronousMode": True}})
    wait_instances(api, namespace, 3)
    budget = policy.read_namespaced_pod_disruption_budget("demo-postgres", namespace)
    assert budget.spec.max_unavailable == 1
    wait_for(lambda: policy.read_namespaced_pod_disruption_budget(
        "demo-postgres", namespace).status.expected_pods == 3, timeout=30, what="PDB sees 3")

    patch_spec(api, namespace, {"postgres": {"instances": 2}})
    wait_instances(api, namespace, 2)
    # The removed member's claim is kept (scale back up reuses its data).
    claims = client.CoreV1Api(api).list_namespaced_persistent_volume_claim(namespace).items
    assert len(claims) == 3


def test_services_follow_the_role_label_and_status_reports_the_primary(
        api: client.ApiClient, operator: OperatorProcess, namespace: str) -> None:
    """Patroni labels pods role=primary/replica; here the test plays Patroni's part."""
    create(api, data_tier(namespace, 2))
    wait_instances(api, namespace, 2)
    core = client.CoreV1Api(api)
    discovery = client.DiscoveryV1Api(api)

    def label(pod: str, role: str) -> None:
        core.patch_namespaced_pod(pod, namespace, {"metadata": {"labels": {"role": role}}})

    def endpoint_pods(service: str) -> set[str]:
        slices = discovery.list_namespaced_endpoint_slice(
            namespace, label_selector=f"kubernetes.io/service-name={service}").items
        return {e.target_ref.name for s in slices for e in (s.endpoints or [])}

    label("demo-postgres-0", "primary")
    label("demo-postgres-1", "replica")
    wait_for(lambda: endpoint_pods("demo-postgres-rw") == {"demo-postgres-0"}, timeout=30,
             what="-rw to select the primary")
    wait_for(lambda: endpoint_pods("demo-postgres-ro") == {"demo-postgres-1"}, timeout=30,
             what="-ro to select the replica")
    wait_for(lambda: get(api, namespace)["status"]["components"]["postgres"].get("primary")
             == "demo-postgres-0", timeout=30, what="status to report the primary")

    # A failover as Patroni performs it: the labels swap.
    label("demo-postgres-0", "replica")
    label("demo-postgres-1", "primary")
    wait_for(lambda: endpoint_pods("demo-postgres-rw") == {"demo-postgres-1"}, timeout=30,
             what="-rw to follow the new primary")
    wait_for(lambda: get(api, namespace)["status"]["components"]["postgres"].get("primary")
             == "demo-postgres-1", timeout=30, what="status to report the new primary")

    def failover_events() -> list[str]:
        return [e.message for e in core.list_namespaced_event(
            namespace, field_selector="reason=PostgresPrimaryChanged").items]

    wait_for(failover_events, timeout=30, what="the PostgresPrimaryChanged Event")
    assert failover_events() == [
        "PostgreSQL primary moved from demo-postgres-0 to demo-postgres-1"]


def test_growing_storage_resizes_the_claims_and_keeps_the_pods(
        cluster: Cluster, api: client.ApiClient, operator: OperatorProcess,
        namespace: str) -> None:
    create(api, minimal(namespace, postgres={"instances": 2, "storage": {"size": "1Gi"}}))
    wait_instances(api, namespace, 2)
    before = {p.metadata.name: p.metadata.uid for p in pods(api, namespace, "postgres")}
    patch_spec(api, namespace, {"postgres": {"storage": {"size": "2Gi"}}})
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)

    def grown() -> bool:
        sts = apps.read_namespaced_stateful_set("demo-postgres", namespace)
        claims = core.list_namespaced_persistent_volume_claim(
            namespace, label_selector=f"{COMPONENT}=postgres").items
        return (sts.spec.volume_claim_templates[0].spec.resources.requests["storage"] == "2Gi"
                and len(claims) == 2
                and all(c.spec.resources.requests["storage"] == "2Gi" for c in claims))

    wait_for(grown, timeout=90, what="claims and StatefulSet at 2Gi")
    obj = wait_instances(api, namespace, 2)
    # The StatefulSet was re-created around the running pods, which it adopted.
    assert {p.metadata.name: p.metadata.uid for p in pods(api, namespace, "postgres")} == before
    # Adoption (the controller re-adding its owner reference) follows asynchronously.
    wait_for(lambda: all((p.metadata.owner_references or [None])[0] is not None
                         and p.metadata.owner_references[0].kind == "StatefulSet"
                         for p in pods(api, namespace, "postgres")),
             timeout=60, what="the new StatefulSet to adopt the running pods")
    assert get(api, namespace)["status"]["observedGeneration"] == obj["metadata"]["generation"]
    events = core.list_namespaced_event(namespace, field_selector="reason=StorageGrown").items
    assert events and "demo-postgres" in events[0].message
