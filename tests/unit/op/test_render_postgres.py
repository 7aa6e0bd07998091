"""Pure render of PostgreSQL (Patroni): every object, the Patroni config, RBAC, network."""

from __future__ import annotations

import json
from typing import Any

import yaml

from tcclog_operator.kube import CHILD_RESOURCES
from tcclog_operator.models import TccLog
from tcclog_operator.render import MANAGED_KINDS, fill_secret_values, render
from tcclog_operator.render.patroni import (
    DCS_LOOP_WAIT,
    DCS_RETRY_TIMEOUT,
    DCS_TTL,
    POD_PATHS,
    patroni_config,
    post_bootstrap_script,
)

from .conftest import make, render_all
from .test_render import assert_restricted

PG = "app.kubernetes.io/component"


def postgres(objects: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["kind"], o["metadata"]["name"]): o for o in objects
            if o["metadata"]["labels"][PG] == "postgres"}


def sts(tcclog: TccLog) -> dict[str, Any]:
    return postgres(render_all(tcclog))[("StatefulSet", f"{tcclog.metadata.name}-postgres")]


def test_production_renders_every_postgres_object_in_apply_order(production: TccLog) -> None:
    keys = list(postgres(render_all(production)))
    assert keys == [
        ("Secret", "tcc-postgres-credentials"),
        ("ServiceAccount", "tcc-postgres"),
        ("Role", "tcc-postgres"),
        ("RoleBinding", "tcc-postgres"),
        ("ConfigMap", "tcc-postgres-patroni"),
        ("ConfigMap", "tcc-pgbackrest"),
        ("Service", "tcc-postgres-headless"),
        ("Service", "tcc-postgres-rw"),
        ("Service", "tcc-postgres-ro"),
        ("StatefulSet", "tcc-postgres"),
        ("PodDisruptionBudget", "tcc-postgres"),
        ("NetworkPolicy", "tcc-postgres-ingress"),
    ]


def test_single_instance_has_no_pdb(minimal: TccLog) -> None:
    assert ("PodDisruptionBudget", "demo-postgres") not in postgres(render_all(minimal))


def test_every_rendered_kind_is_managed_and_watched(production: TccLog) -> None:
    kinds = {(o["apiVersion"], o["kind"]) for o in render_all(production)}
    assert kinds <= set(MANAGED_KINDS)
    assert {kind for _, kind in MANAGED_KINDS} <= {r.kind for r in CHILD_RESOURCES}


def test_statefulset_shape(production: TccLog) -> None:
    spec = sts(production)["spec"]
    assert spec["replicas"] == 3
    assert spec["serviceName"] == "tcc-postgres-headless"
    assert spec["podManagementPolicy"] == "Parallel"
    claim = spec["volumeClaimTemplates"][0]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"] == {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard",
                             "resources": {"requests": {"storage": "100Gi"}}}
    pod = spec["template"]["spec"]
    assert pod["serviceAccountName"] == "tcc-postgres"
    assert pod["automountServiceAccountToken"] is True  # Patroni talks to the API
    container = pod["containers"][0]
    assert container["image"] == "ghcr.io/tcclog/tcclog-postgres:0.1.0"
    assert container["command"] == ["patroni", "/etc/patroni/patroni.yaml"]
    assert container["resources"] == {"requests": {"cpu": "1", "memory": "2Gi"},
                                      "limits": {"memory": "4Gi"}}
    assert container["readinessProbe"]["httpGet"]["path"] == "/readiness"
    term = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term[0]["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"


def test_storage_class_is_left_to_the_cluster_default(minimal: TccLog) -> None:
    claim = sts(minimal)["spec"]["volumeClaimTemplates"][0]
    assert "storageClassName" not in claim["spec"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"


def test_postgres_pods_meet_restricted(production: TccLog) -> None:
    pod = sts(production)["spec"]["template"]["spec"]
    assert_restricted(pod)
    assert pod["securityContext"]["runAsUser"] == 999


def test_pod_labels_let_patroni_find_its_members(production: TccLog) -> None:
    config = patroni_config(production)["kubernetes"]
    pod_labels = sts(production)["spec"]["template"]["metadata"]["labels"]
    wanted = {**config["labels"], config["scope_label"]: "tcc-postgres"}
    assert wanted.items() <= pod_labels.items()
    # Patroni's own ConfigMaps carry these labels: without managed-by, the operator's
    # watches never see them.
    assert "app.kubernetes.io/managed-by" not in config["labels"]


def test_services_select_by_the_role_label_patroni_sets(production: TccLog) -> None:
    objects = postgres(render_all(production))
    config = patroni_config(production)["kubernetes"]
    rw = objects[("Service", "tcc-postgres-rw")]["spec"]["selector"]
    ro = objects[("Service", "tcc-postgres-ro")]["spec"]["selector"]
    assert rw[config["role_label"]] == config["leader_label_value"] == "primary"
    assert ro[config["role_label"]] == config["follower_label_value"] == "replica"
    headless = objects[("Service", "tcc-postgres-headless")]["spec"]
    assert headless["clusterIP"] == "None" and headless["publishNotReadyAddresses"] is True
    assert "role" not in headless["selector"]


def test_role_grants_exactly_what_patroni_uses(production: TccLog) -> None:
    objects = postgres(render_all(production))
    rules = {r["resources"][0]: set(r["verbs"]) for r in objects[("Role", "tcc-postgres")]["rules"]}
    assert rules == {
        "configmaps": {"create", "get", "list", "patch", "update", "watch", "delete"},
        "pods": {"get", "list", "patch", "update", "watch"},
    }
    binding = objects[("RoleBinding", "tcc-postgres")]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "tcc-postgres",
                                    "namespace": "tcc"}]
    assert binding["roleRef"]["name"] == "tcc-postgres"


def test_patroni_config_kubernetes_dcs_and_synchronous_mode(production: TccLog) -> None:
    config = patroni_config(production)
    assert config["scope"] == "tcc-postgres"
    assert config["kubernetes"]["use_endpoints"] is False
    dcs = config["bootstrap"]["dcs"]
    assert dcs["synchronous_mode"] is True
    assert dcs["loop_wait"] + 2 * dcs["retry_timeout"] <= dcs["ttl"]  # Patroni's rule
    assert (dcs["ttl"], dcs["loop_wait"], dcs["retry_timeout"]) == (
        DCS_TTL, DCS_LOOP_WAIT, DCS_RETRY_TIMEOUT)
    assert patroni_config(make({}))["bootstrap"]["dcs"]["synchronous_mode"] is False


def test_parameters_pass_through_to_dcs_and_local_config(production: TccLog) -> None:
    config = patroni_config(production)
    for parameters in (config["bootstrap"]["dcs"]["postgresql"]["parameters"],
                       config["postgresql"]["parameters"]):
        assert parameters["max_connections"] == "200"
        assert parameters["shared_buffers"] == "1GB"
    assert config["postgresql"]["parameters"]["unix_socket_directories"] == POD_PATHS.socket_dir


def test_patroni_config_has_no_secret_and_no_pod_identity(production: TccLog) -> None:
    config = patroni_config(production)
    auth = config["postgresql"]["authentication"]
    assert auth == {"superuser": {"username": "postgres"},
                    "replication": {"username": "replicator"}}
    assert "name" not in config and "connect_address" not in config["restapi"]
    values = fill_secret_values(production, {})
    text = json.dumps(render(production, secret_values=values)[3:])  # past the Secrets
    for secret in values.values():
        assert not any(value in text for value in secret.values())


def test_configmap_holds_the_same_config_as_yaml(production: TccLog) -> None:
    cm = postgres(render_all(production))[("ConfigMap", "tcc-postgres-patroni")]
    assert yaml.safe_load(cm["data"]["patroni.yaml"]) == patroni_config(production)
    assert cm["data"]["post-bootstrap.sh"] == post_bootstrap_script(production)


def test_post_bootstrap_creates_app_roles_without_passwords_in_argv() -> None:
    script = post_bootstrap_script()
    # Idempotent (a recovered database has the roles already), this cluster's passwords.
    assert "CREATE ROLE tcclog LOGIN CREATEROLE PASSWORD %L', :'app_password')" in script
    assert "WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tcclog')" in script
    assert "CREATE DATABASE tcclog OWNER tcclog" in script
    assert "ALTER ROLE tcclog PASSWORD :'app_password';" in script
    assert "\\getenv app_password TCCLOG_APP_PASSWORD" in script
    assert "stanza-create" not in script


def test_env_takes_identity_from_the_pod_and_passwords_from_the_secret(
        production: TccLog) -> None:
    container = sts(production)["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["PATRONI_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert env["PATRONI_POSTGRESQL_CONNECT_ADDRESS"]["value"] == (
        "$(PATRONI_KUBERNETES_POD_IP):5432")
    for var, key in [("PATRONI_SUPERUSER_PASSWORD", "superuser-password"),
                     ("PATRONI_REPLICATION_PASSWORD", "replication-password"),
                     ("TCCLOG_APP_PASSWORD", "app-password"),
                     ("TCCLOG_READONLY_PASSWORD", "readonly-password")]:
        assert env[var]["valueFrom"]["secretKeyRef"] == {"name": "tcc-postgres-credentials",
                                                         "key": key}
    names = list(env)
    assert names.index("PATRONI_KUBERNETES_POD_IP") < names.index(
        "PATRONI_POSTGRESQL_CONNECT_ADDRESS")  # $(VAR) refers only to earlier variables


def config_hash(tcclog: TccLog) -> str:
    return sts(tcclog)["spec"]["template"]["metadata"]["annotations"]["tcclog.com/config-hash"]


def test_parameter_change_rolls_pods_but_scaling_does_not() -> None:
    base = config_hash(make({"postgres": {"instances": 2}}))
    assert config_hash(make({"postgres": {"instances": 3}})) == base
    changed = make({"postgres": {"instances": 2, "parameters": {"work_mem": "8MB"}}})
    assert config_hash(changed) != base


def test_app_points_at_rw_ro_and_sentinels(production: TccLog) -> None:
    cm = next(o for o in render_all(production)
              if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "tcc-backend")
    data = cm["data"]
    assert "@tcc-postgres-rw.tcc.svc:5432/" in data["TCCLOG_DATABASE_URL"]
    assert "@tcc-postgres-ro.tcc.svc:5432/" in data["TCCLOG_DATABASE_RO_URL"]
    assert data["TCCLOG_REDIS_SENTINELS"].split(",")[0] == (
        "tcc-sentinel-0.tcc-sentinel-headless.tcc.svc:26379")
    assert data["TCCLOG_REDIS_MASTER_NAME"] == "tcclog"


def test_postgres_image_target_matches_the_render() -> None:
    """The Dockerfile `postgres` target ships the binaries and user the StatefulSet expects."""
    import re

    from tcclog_operator.render.patroni import PG_MAJOR
    from tcclog_operator.render.postgres import POSTGRES_UID

    from .conftest import REPO

    dockerfile = (REPO / "Dockerfile").read_text()
    assert re.search(rf"^ARG PG_MAJOR={PG_MAJOR}$", dockerfile, re.M)
    target = dockerfile.split(" AS postgres", 1)[1]
    assert f"USER {POSTGRES_UID}:{POSTGRES_UID}" in target
    assert 'CMD ["patroni", "/etc/patroni/patroni.yaml"]' in target
    assert "pgbackrest" in target and "patroni[psycopg3]" in target
