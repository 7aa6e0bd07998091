"""pgBackRest configuration of a TccLog: pure data, no I/O.

Topology (TLS server mode): every PostgreSQL pod archives its WAL straight to the S3
repository (`archive_command = pgbackrest archive-push`) and runs `pgbackrest server` as a
sidecar on port 8432. The backup Job is the repository host: it reaches each member over
mutual TLS (pg1-host..pgN-host through the headless Service), pgBackRest picks the
primary itself, and backups, `expire` and `verify` run there. No SSH, no shared volume.

`pgbackrest_config(tcclog, role)` is the one source of pgbackrest.conf:
- "pg": the database pods (repo1 = S3 for archive-push/archive-get, the TLS server);
- "repo": the backup Jobs (repo1 = S3 with retention, the members as TLS pg hosts);
- "recovery": the bootstrap of a new cluster from another cluster's repository.
Nothing secret is in it: pgBackRest reads the S3 keys from PGBACKREST_REPO1_S3_KEY and
PGBACKREST_REPO1_S3_KEY_SECRET (Secret refs), and the TLS files from a Secret volume.
The integration tests run pgBackRest with this text, replacing only paths, hosts and ports.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from ..models import S3, Recovery, TccLog
from .credentials import (
    MAX_POSTGRES_INSTANCES,
    TLS_CA_KEY,
    TLS_CLIENT_CERT_KEY,
    TLS_CLIENT_KEY_KEY,
    TLS_SERVER_CERT_KEY,
    TLS_SERVER_KEY_KEY,
    backup_enabled,
)
from .meta import (
    PGBACKREST_CLIENT_CN,
    PGBACKREST_PORT,
    POSTGRES_PORT,
    SUPERUSER,
    RenderSettings,
    names,
    namespace_of,
    object_meta,
)
from .patroni import POD_PATHS
from .security import restricted_container_security_context

Role = Literal["pg", "repo", "recovery"]

#: The default place pgBackRest looks for its configuration, so `kubectl exec ... pgbackrest
#: info` works without --config. A ConfigMap is mounted here.
CONFIG_MOUNT = "/etc/pgbackrest"
CONFIG_FILE = "pgbackrest.conf"
RECOVERY_CONFIG_FILE = "recovery.conf"
RECOVERY_SCRIPT_FILE = "recovery.sh"
BACKUP_SCRIPT_FILE = "backup-run.py"
#: The TLS Secret's files (not under CONFIG_MOUNT: no volume nested in another).
TLS_MOUNT = "/etc/pgbackrest-tls"
#: /tmp is an emptyDir in every pod that runs pgBackRest (read-only root filesystem).
LOCK_PATH = "/tmp/pgbackrest"
SPOOL_PATH = "/tmp/pgbackrest-spool"
S3_KEY_ENV = "PGBACKREST_REPO1_S3_KEY"
S3_KEY_SECRET_ENV = "PGBACKREST_REPO1_S3_KEY_SECRET"
#: The recovery source's keys, mapped onto the PGBACKREST_ names only for recovery commands.
RECOVERY_S3_KEY_ENV = "TCCLOG_RECOVERY_S3_KEY"
RECOVERY_S3_KEY_SECRET_ENV = "TCCLOG_RECOVERY_S3_KEY_SECRET"
#: Parallel processes of a backup, and the compression (lz4: fast, see docs/BACKUP.md).
PROCESS_MAX = 2
COMPRESS_TYPE = "lz4"


def _recovery(tcclog: TccLog) -> Recovery | None:
    return tcclog.spec.bootstrap.recovery if tcclog.spec.bootstrap else None


def _required_recovery(tcclog: TccLog) -> Recovery:
    recovery = _recovery(tcclog)
    if recovery is None:
        raise ValueError("spec.bootstrap.recovery is required here")
    return recovery


def repo_path(s3: S3) -> str:
    """Where pgBackRest keeps its repository inside the bucket: `<s3.path>/pgbackrest`
    (the logical dumps live beside it, in `<s3.path>/logical/`)."""
    return s3.path.rstrip("/") + "/pgbackrest"


def repo_location(s3: S3) -> str:
    """s3://bucket/<path>/pgbackrest"""
    return f"s3://{s3.bucket}{repo_path(s3)}"


def _repo_options(s3: S3) -> dict[str, str]:
    # pgBackRest speaks HTTPS only; an endpoint is split into host and port.
    endpoint = urlsplit(s3.endpoint) if s3.endpoint else None
    options = {
        "repo1-type": "s3",
        "repo1-path": repo_path(s3),
        "repo1-s3-bucket": s3.bucket or "",
        "repo1-s3-endpoint": (endpoint.hostname if endpoint and endpoint.hostname
                              else f"s3.{s3.region}.amazonaws.com"),
        "repo1-s3-region": s3.region,
        "repo1-s3-uri-style": "path" if s3.force_path_style else "host",
        "repo1-storage-verify-tls": "y" if s3.verify_tls else "n",
    }
    if endpoint and endpoint.port:
        options["repo1-storage-port"] = str(endpoint.port)
    return options


def _common() -> dict[str, str]:
    return {
        "log-level-console": "info",
        "log-level-file": "off",  # logs go to the container's stdout only
        "lock-path": LOCK_PATH,
        "spool-path": SPOOL_PATH,  # the default /var/spool is on the read-only root
        "compress-type": COMPRESS_TYPE,
    }


def _local_pg(index: int = 1) -> dict[str, str]:
    return {
        f"pg{index}-path": POD_PATHS.data_dir,
        f"pg{index}-port": str(POSTGRES_PORT),
        f"pg{index}-socket-path": POD_PATHS.socket_dir,
        # The superuser over the pod-local socket (trust); never libpq's OS-user default.
        f"pg{index}-user": SUPERUSER,
    }


def member_hosts(tcclog: TccLog) -> list[str]:
    """Every member's stable DNS name (the StatefulSet's pods behind the headless Service)."""
    child = names(tcclog)
    domain = f"{child.postgres_headless}.{namespace_of(tcclog)}.svc"
    count = min(tcclog.spec.postgres.instances, MAX_POSTGRES_INSTANCES)
    return [f"{child.postgres}-{i}.{domain}" for i in range(count)]


def config_sections(tcclog: TccLog, role: Role) -> dict[str, dict[str, str]]:
    """pgbackrest.conf as section -> option -> value (see `render_ini`)."""
    child = names(tcclog)
    if role == "recovery":
        recovery = _required_recovery(tcclog)
        return {
            "global": {**_common(), **_repo_options(recovery.source.s3)},
            recovery.source.stanza: _local_pg(),
        }
    backup = tcclog.spec.backup
    if backup is None or backup.s3 is None:
        raise ValueError(f"role {role!r} needs spec.backup.s3")
    options = {**_common(), **_repo_options(backup.s3)}
    if role == "pg":
        options.update({
            "tls-server-address": "*",
            "tls-server-port": str(PGBACKREST_PORT),
            "tls-server-ca-file": f"{TLS_MOUNT}/{TLS_CA_KEY}",
            "tls-server-cert-file": f"{TLS_MOUNT}/{TLS_SERVER_CERT_KEY}",
            "tls-server-key-file": f"{TLS_MOUNT}/{TLS_SERVER_KEY_KEY}",
            # Only the backup jobs' certificate, and only for this cluster's stanza.
            "tls-server-auth": f"{PGBACKREST_CLIENT_CN}={child.stanza}",
        })
        return {"global": options, child.stanza: _local_pg()}
    options.update({
        "repo1-retention-full-type": "count",
        "repo1-retention-full": str(backup.retention.full_backups),
        "repo1-retention-diff": str(backup.retention.differential_backups),
        "start-fast": "y",  # checkpoint at once instead of waiting for the next one
        # Small files bundled into larger objects: far fewer S3 requests (docs/BACKUP.md).
        "repo1-bundle": "y",
        "process-max": str(PROCESS_MAX),
    })
    stanza: dict[str, str] = {}
    for index, host in enumerate(member_hosts(tcclog), start=1):
        stanza.update({
            f"pg{index}-host": host,
            f"pg{index}-host-type": "tls",
            f"pg{index}-host-port": str(PGBACKREST_PORT),
            f"pg{index}-host-ca-file": f"{TLS_MOUNT}/{TLS_CA_KEY}",
            f"pg{index}-host-cert-file": f"{TLS_MOUNT}/{TLS_CLIENT_CERT_KEY}",
            f"pg{index}-host-key-file": f"{TLS_MOUNT}/{TLS_CLIENT_KEY_KEY}",
            **_local_pg(index),
        })
    return {"global": options, child.stanza: stanza}


def render_ini(sections: dict[str, dict[str, str]]) -> str:
    lines: list[str] = []
    for section, options in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{key}={value}" for key, value in options.items()]
        lines.append("")
    return "\n".join(lines)


def pgbackrest_config(tcclog: TccLog, role: Role) -> str:
    """pgbackrest.conf for the database pods ("pg"), the backup Jobs ("repo") or the
    recovery bootstrap ("recovery")."""
    return render_ini(config_sections(tcclog, role))


def archive_command(tcclog: TccLog) -> str:
    return f"pgbackrest --stanza={names(tcclog).stanza} archive-push %p"


def restore_command(tcclog: TccLog) -> str:
    return f'pgbackrest --stanza={names(tcclog).stanza} archive-get %f "%p"'


def _recovery_env_prefix() -> str:
    return (f'{S3_KEY_ENV}="${RECOVERY_S3_KEY_ENV}" '
            f'{S3_KEY_SECRET_ENV}="${RECOVERY_S3_KEY_SECRET_ENV}"')


def recovery_restore_command(tcclog: TccLog) -> str:
    """restore_command while recovering from the source repository (run by a shell)."""
    recovery = _required_recovery(tcclog)
    return (f"{_recovery_env_prefix()} pgbackrest "
            f"--config={CONFIG_MOUNT}/{RECOVERY_CONFIG_FILE} "
            f'--stanza={recovery.source.stanza} archive-get %f "%p"')


def pgbackrest_target_time(rfc3339: str) -> str:
    """2026-12-04T10:15:00Z -> 2026-12-04 10:15:00+00:00 (the form pgBackRest parses to pick
    the backup set; PostgreSQL accepts it too)."""
    import datetime as dt

    moment = dt.datetime.fromisoformat(rfc3339.replace("z", "Z").replace("t", "T"))
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")


def recovery_script(tcclog: TccLog) -> str:
    """Patroni's custom bootstrap command: restore the newest backup that fits the target
    from the source repository into the (empty) data directory. Patroni then writes the
    recovery settings itself (recovery_conf) and promotes at the target."""
    recovery = _required_recovery(tcclog)
    target = ""
    if recovery.target_time:
        target = (f' --type=time --target="{pgbackrest_target_time(recovery.target_time)}"'
                  " --target-action=promote")
    return f"""#!/bin/sh
# Patroni custom bootstrap (no_params): restore from the recovery source's repository.
set -eu
export {S3_KEY_ENV}="${RECOVERY_S3_KEY_ENV}"
export {S3_KEY_SECRET_ENV}="${RECOVERY_S3_KEY_SECRET_ENV}"
exec pgbackrest --config={CONFIG_MOUNT}/{RECOVERY_CONFIG_FILE} \\
  --stanza={recovery.source.stanza} --pg1-path={POD_PATHS.data_dir}{target} restore
"""


def _archiving(tcclog: TccLog) -> bool:
    return backup_enabled(tcclog) and bool(tcclog.spec.backup and tcclog.spec.backup.s3)


def pg_config_map_data(tcclog: TccLog) -> dict[str, str]:
    """What the database pods mount at CONFIG_MOUNT ({} when they need no pgBackRest)."""
    data: dict[str, str] = {}
    if _archiving(tcclog):
        data[CONFIG_FILE] = pgbackrest_config(tcclog, "pg")
    if _recovery(tcclog):
        data[RECOVERY_CONFIG_FILE] = pgbackrest_config(tcclog, "recovery")
        data[RECOVERY_SCRIPT_FILE] = recovery_script(tcclog)
    return data


def pg_config_map(tcclog: TccLog) -> dict[str, Any] | None:
    data = pg_config_map_data(tcclog)
    if not data:
        return None
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": object_meta(tcclog, names(tcclog).pgbackrest_config, "postgres"),
        "data": data,
    }


def _secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def postgres_env(tcclog: TccLog) -> list[dict[str, Any]]:
    """S3 keys for archive-push/-get (and the recovery source's, for the bootstrap)."""
    env = []
    if _archiving(tcclog):
        assert tcclog.spec.backup and tcclog.spec.backup.s3
        creds = tcclog.spec.backup.s3.credentials_secret_ref
        if creds is None:
            raise ValueError("spec.backup.s3.credentialsSecretRef is required")
        env += [_secret_env(S3_KEY_ENV, creds.name, creds.access_key_id_key),
                _secret_env(S3_KEY_SECRET_ENV, creds.name, creds.secret_access_key_key)]
    recovery = _recovery(tcclog)
    if recovery:
        creds = recovery.source.s3.credentials_secret_ref
        env += [_secret_env(RECOVERY_S3_KEY_ENV, creds.name, creds.access_key_id_key),
                _secret_env(RECOVERY_S3_KEY_SECRET_ENV, creds.name, creds.secret_access_key_key)]
    return env


def postgres_mounts(tcclog: TccLog) -> list[dict[str, Any]]:
    if not pg_config_map_data(tcclog):
        return []
    return [{"name": "pgbackrest", "mountPath": CONFIG_MOUNT, "readOnly": True}]


def pod_volumes(tcclog: TccLog) -> list[dict[str, Any]]:
    volumes = []
    if pg_config_map_data(tcclog):
        volumes.append({"name": "pgbackrest",
                        "configMap": {"name": names(tcclog).pgbackrest_config}})
    if _archiving(tcclog):
        items = [{"key": k, "path": k}
                 for k in (TLS_CA_KEY, TLS_SERVER_CERT_KEY, TLS_SERVER_KEY_KEY)]
        # 0440, root-owned with the pod's fsGroup: pgBackRest refuses keys others can read.
        volumes.append({"name": "pgbackrest-tls", "secret": {
            "secretName": names(tcclog).pgbackrest_tls, "items": items, "defaultMode": 0o440}})
    return volumes


def server_container(tcclog: TccLog, settings: RenderSettings,
                     mounts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The `pgbackrest server` sidecar (TLS, port 8432) the backup Jobs drive; `mounts` are
    the postgres container's data and socket mounts. No readiness probe: the pod's
    readiness (and so the -rw/-ro Services) must not depend on it."""
    if not _archiving(tcclog):
        return None
    return {
        "name": "pgbackrest",
        "image": f"{settings.postgres_image_repository}:{tcclog.spec.version}",
        "imagePullPolicy": settings.image_pull_policy,
        "command": ["pgbackrest", "server"],
        "env": postgres_env(tcclog),
        "ports": [{"name": "pgbackrest", "containerPort": PGBACKREST_PORT, "protocol": "TCP"}],
        "livenessProbe": {"tcpSocket": {"port": "pgbackrest"}, "periodSeconds": 30,
                          "failureThreshold": 3},
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"},
                      "limits": {"memory": "512Mi"}},
        "securityContext": restricted_container_security_context(),
        "volumeMounts": [
            *mounts,
            {"name": "pgbackrest", "mountPath": CONFIG_MOUNT, "readOnly": True},
            {"name": "pgbackrest-tls", "mountPath": TLS_MOUNT, "readOnly": True},
        ],
    }

