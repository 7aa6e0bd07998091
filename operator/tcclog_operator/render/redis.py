"""Redis (1 master + replicas) watched by Redis Sentinel: ConfigMap, headless Services,
the Sentinel client Service, two StatefulSets and their PDBs. Pure.

Failover is Sentinel's. The configuration is rendered here as plain text; per-pod facts
(its own DNS name, the current master, the password) are added by the small start
scripts in the same ConfigMap. Both scripts first ask the Sentinels who the master is,
so a restarted pod rejoins the current topology instead of the initial one.
"""

from __future__ import annotations

from typing import Any

from ..models import TccLog
from .credentials import REDIS_PASSWORD_KEY, SecretValues
from .exporters import REDIS_EXPORTER_PORT, metrics_service_port, redis_exporter_container
from .meta import (
    CONFIG_HASH_ANNOTATION,
    REDIS_MASTER_SET,
    REDIS_PORT,
    SENTINEL_PORT,
    RenderSettings,
    content_hash,
    labels,
    names,
    namespace_of,
    object_meta,
    selector_labels,
)
from .quantity import canonical_resources
from .security import pod_security_context, restricted_container_security_context

REDIS = "redis"
SENTINEL = "sentinel"
#: UID/GID of the `redis` user in the official Redis image.
REDIS_UID = 999
#: Sentinel declares the master down after this long without a valid reply.
DOWN_AFTER_MS = 5000
FAILOVER_TIMEOUT_MS = 60000
CONFIG_MOUNT = "/etc/redis"
DATA_DIR = "/data"


def quorum(tcclog: TccLog) -> int:
    """Sentinels that must agree the master is down: a majority."""
    return tcclog.spec.redis.sentinels // 2 + 1


def redis_conf() -> str:
    """redis.conf shared by every Redis pod. A cache: no persistence, bounded memory."""
    return "\n".join([
        f"port {REDIS_PORT}",
        "bind * -::*",
        "protected-mode no",
        f"dir {DATA_DIR}",
        'save ""',
        "appendonly no",
        "maxmemory-policy allkeys-lru",
        "replica-read-only yes",
        "repl-diskless-sync yes",
        "",
    ])


def sentinel_conf() -> str:
    """sentinel.conf before the `sentinel monitor` line the start script appends."""
    return "\n".join([
        f"port {SENTINEL_PORT}",
        "bind * -::*",
        "protected-mode no",
        f"dir {DATA_DIR}",
        # Pods are addressed by their stable DNS names, not by IPs that change on restart.
        "sentinel resolve-hostnames yes",
        "sentinel announce-hostnames yes",
        "",
    ])


def sentinel_monitor_conf(tcclog: TccLog, master_host: str, master_port: int) -> str:
    """The monitor block for the master set; the start script fills in the current master."""
    name = REDIS_MASTER_SET
    return "\n".join([
        f"sentinel monitor {name} {master_host} {master_port} {quorum(tcclog)}",
        f"sentinel down-after-milliseconds {name} {DOWN_AFTER_MS}",
        f"sentinel failover-timeout {name} {FAILOVER_TIMEOUT_MS}",
        f"sentinel parallel-syncs {name} 1",
        "",
    ])


def _domain(tcclog: TccLog, service: str) -> str:
    return f"{service}.{namespace_of(tcclog)}.svc"


def _find_master_sh(tcclog: TccLog) -> str:
    """Shell: set $master to what any Sentinel reports, else to pod 0 (a fresh install)."""
    child = names(tcclog)
    sentinels = " ".join(
        f"{child.sentinel}-{i}.{_domain(tcclog, child.sentinel_headless)}"
        for i in range(tcclog.spec.redis.sentinels)
    )
    return f"""master=""
for s in {sentinels}; do
  master=$(timeout 3 redis-cli -h "$s" -p {SENTINEL_PORT} --raw \\
    sentinel get-master-addr-by-name {REDIS_MASTER_SET} 2>/dev/null | head -n 1) || true
  [ -n "$master" ] && break
done
[ -n "$master" ] || master="{child.redis}-0.{_domain(tcclog, child.redis_headless)}"
"""


def redis_start_sh(tcclog: TccLog) -> str:
    child = names(tcclog)
    return f"""#!/bin/sh
set -eu
me="$(hostname).{_domain(tcclog, child.redis_headless)}"
cp {CONFIG_MOUNT}/redis.conf {DATA_DIR}/redis.conf
{_find_master_sh(tcclog)}{{
  echo "requirepass $REDIS_PASSWORD"
  echo "masterauth $REDIS_PASSWORD"
  echo "replica-announce-ip $me"
  [ "$master" = "$me" ] || echo "replicaof $master {REDIS_PORT}"
}} >> {DATA_DIR}/redis.conf
exec redis-server {DATA_DIR}/redis.conf
"""


def sentinel_start_sh(tcclog: TccLog) -> str:
    child = names(tcclog)
    return f"""#!/bin/sh
set -eu
cp {CONFIG_MOUNT}/sentinel.conf {DATA_DIR}/sentinel.conf
{_find_master_sh(tcclog)}{{
  echo "sentinel announce-ip $(hostname).{_domain(tcclog, child.sentinel_headless)}"
  sed "s/MASTER_HOST/$master/" {CONFIG_MOUNT}/sentinel-monitor.conf
  echo "sentinel auth-pass {REDIS_MASTER_SET} $REDIS_PASSWORD"
}} >> {DATA_DIR}/sentinel.conf
exec redis-sentinel {DATA_DIR}/sentinel.conf
"""


def config_map_data(tcclog: TccLog) -> dict[str, str]:
    return {
        "redis.conf": redis_conf(),
        "sentinel.conf": sentinel_conf(),
        "sentinel-monitor.conf": sentinel_monitor_conf(tcclog, "MASTER_HOST", REDIS_PORT),
        "redis-start.sh": redis_start_sh(tcclog),
        "sentinel-start.sh": sentinel_start_sh(tcclog),
    }


def render_redis(
    tcclog: TccLog, settings: RenderSettings, secret_values: SecretValues
) -> list[dict[str, Any]]:
    """All Redis and Sentinel objects, in apply order."""
    child = names(tcclog)
    spec = tcclog.spec.redis
    data = config_map_data(tcclog)
    config_hash = content_hash(data, dict(secret_values[child.redis_credentials]))
    objects = [
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": object_meta(tcclog, child.redis, REDIS), "data": data},
        _with_metrics_port(
            _service(tcclog, child.redis_headless, REDIS, REDIS_PORT, headless=True)),
        _service(tcclog, child.sentinel_headless, SENTINEL, SENTINEL_PORT, headless=True),
        # What clients use: any Sentinel answers where the master is.
        _service(tcclog, child.sentinel, SENTINEL, SENTINEL_PORT, headless=False),
        _stateful_set(tcclog, settings, REDIS, spec.replicas, config_hash),
        _stateful_set(tcclog, settings, SENTINEL, spec.sentinels, config_hash),
    ]
    budgets = [_budget(tcclog, REDIS, spec.replicas), _budget(tcclog, SENTINEL, spec.sentinels)]
    return objects + [b for b in budgets if b is not None]


def _with_metrics_port(service: dict[str, Any]) -> dict[str, Any]:
    service["spec"]["ports"].append(metrics_service_port(REDIS_EXPORTER_PORT))
    return service


def _service(
    tcclog: TccLog, name: str, component: str, port: int, *, headless: bool
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": selector_labels(tcclog, component),
        "ports": [{"name": component, "port": port, "targetPort": component, "protocol": "TCP"}],
    }
    if headless:
        spec = {"clusterIP": "None", "publishNotReadyAddresses": True, **spec}
    else:
        spec = {"type": "ClusterIP", **spec}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": object_meta(tcclog, name, component),
        "spec": spec,
    }


def _stateful_set(
    tcclog: TccLog, settings: RenderSettings, component: str, replicas: int, config_hash: str
) -> dict[str, Any]:
    child = names(tcclog)
    name = child.redis if component == REDIS else child.sentinel
    headless = child.redis_headless if component == REDIS else child.sentinel_headless
    port = REDIS_PORT if component == REDIS else SENTINEL_PORT
    ping = ["redis-cli", "-p", str(port), "ping"]
    if component == REDIS:
        # REDISCLI_AUTH keeps the password off the command line.
        ping = ["sh", "-c", f'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -p {port} ping']
    container = {
        "name": component,
        "image": settings.redis_image,
        "imagePullPolicy": settings.image_pull_policy,
        "command": ["sh", f"{CONFIG_MOUNT}/{component}-start.sh"],
        "env": [{"name": "REDIS_PASSWORD", "valueFrom": {"secretKeyRef": {
            "name": child.redis_credentials, "key": REDIS_PASSWORD_KEY}}}],
        "ports": [{"name": component, "containerPort": port, "protocol": "TCP"}],
        "readinessProbe": {"exec": {"command": ping}, "periodSeconds": 5, "timeoutSeconds": 3},
        "livenessProbe": {"exec": {"command": ping}, "periodSeconds": 10, "timeoutSeconds": 3,
                          "failureThreshold": 6},
        "resources": canonical_resources(tcclog.spec.redis.resources.to_wire()),
        "securityContext": restricted_container_security_context(),
        "volumeMounts": [
            {"name": "config", "mountPath": CONFIG_MOUNT, "readOnly": True},
            {"name": "data", "mountPath": DATA_DIR},
        ],
    }
    selector = selector_labels(tcclog, component)
    term = {"labelSelector": {"matchLabels": selector}, "topologyKey": "kubernetes.io/hostname"}
    pod = {
        "metadata": {
            "labels": labels(tcclog, component),
            "annotations": {CONFIG_HASH_ANNOTATION: config_hash},
        },
        "spec": {
            "automountServiceAccountToken": False,
            "securityContext": pod_security_context(REDIS_UID),
            # Only the Redis servers get an exporter: Sentinel state is read through them.
            "containers": [container, *([redis_exporter_container(tcclog, settings)]
                                        if component == REDIS else [])],
            "volumes": [
                {"name": "config", "configMap": {"name": child.redis}},
                # A cache: nothing to keep across restarts, so no PersistentVolume.
                {"name": "data", "emptyDir": {"sizeLimit": "256Mi"}},
            ],
            "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 100, "podAffinityTerm": term}]}},
        },
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": object_meta(tcclog, name, component),
        "spec": {
            "replicas": replicas,
            "serviceName": headless,
            "selector": {"matchLabels": selector},
            "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "RollingUpdate"},
            "template": pod,
        },
    }


def _budget(tcclog: TccLog, component: str, replicas: int) -> dict[str, Any] | None:
    if replicas < 2:
        return None  # a PDB on a single pod would block every node drain
    name = names(tcclog).redis if component == REDIS else names(tcclog).sentinel
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": object_meta(tcclog, name, component),
        "spec": {"selector": {"matchLabels": selector_labels(tcclog, component)},
                 "maxUnavailable": 1},
    }
