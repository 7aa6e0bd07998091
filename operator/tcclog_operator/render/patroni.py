"""The Patroni configuration of a TccLog's PostgreSQL cluster and the RBAC Patroni needs:
pure data, no I/O.

`patroni_config(tcclog)` is the one source of patroni.yaml. The StatefulSet mounts it
from a ConfigMap; the integration tests read that ConfigMap back from the API server and
run real Patroni processes with it, substituting only addresses, ports and paths
(`POD_PATHS` names every path, so a test knows exactly what it may replace).

What differs per pod or is secret never appears here; Patroni reads it from the
environment the StatefulSet sets (PATRONI_NAME, PATRONI_KUBERNETES_NAMESPACE,
PATRONI_*_CONNECT_ADDRESS, PATRONI_SUPERUSER_PASSWORD, PATRONI_REPLICATION_PASSWORD).
"""

from __future__ import annotations

from typing import Any

from ..models import TccLog
from .meta import (
    DATABASE_NAME,
    DATABASE_USER,
    PATRONI_PORT,
    POSTGRES_PORT,
    READONLY_USER,
    REPLICATION_USER,
    ROLE_LABEL,
    ROLE_PRIMARY,
    ROLE_REPLICA,
    SCOPE_LABEL,
    SUPERUSER,
    names,
    namespace_of,
    object_meta,
    selector_labels,
)

COMPONENT = "postgres"
#: PostgreSQL major version of the `postgres` image (Dockerfile PG_MAJOR).
PG_MAJOR = 17
CONFIG_MOUNT = "/etc/patroni"
CONFIG_FILE = "patroni.yaml"
POST_BOOTSTRAP_FILE = "post-bootstrap.sh"
ROLE_CHANGE_FILE = "on-role-change.sh"
DATA_MOUNT = "/var/lib/postgresql/data"
SOCKET_DIR = "/var/run/postgresql"


class POD_PATHS:
    """Filesystem paths inside the postgres container."""

    data_dir = f"{DATA_MOUNT}/pgdata"  # a subdirectory: a volume root may hold lost+found
    bin_dir = f"/usr/lib/postgresql/{PG_MAJOR}/bin"
    pgpass = "/tmp/pgpass"
    socket_dir = SOCKET_DIR
    post_bootstrap = f"{CONFIG_MOUNT}/{POST_BOOTSTRAP_FILE}"
    on_role_change = f"{CONFIG_MOUNT}/{ROLE_CHANGE_FILE}"


# Patroni's DCS timing: a crashed leader's lock expires after `ttl` seconds (20 is the
# least Patroni accepts); members look every `loop_wait`. A clean shutdown (pod deletion,
# drain, rolling update) releases the lock at once, so only a hard crash waits for the
# ttl. Patroni requires loop_wait + 2 * retry_timeout <= ttl.
DCS_TTL = 20
DCS_LOOP_WAIT = 2
DCS_RETRY_TIMEOUT = 5
#: A replica further behind than this (bytes) is never promoted.
MAXIMUM_LAG_ON_FAILOVER = 1024 * 1024


def patroni_labels(tcclog: TccLog) -> dict[str, str]:
    """Labels Patroni selects its member pods by and puts on the ConfigMaps it creates.

    Without app.kubernetes.io/managed-by: the operator's watches then never see Patroni's
    own ConfigMaps (leader lock, dynamic config), which change every few seconds.
    """
    return selector_labels(tcclog, COMPONENT)


def pod_labels_for_patroni(tcclog: TccLog) -> dict[str, str]:
    """What the member pods must carry for Patroni to find them (labels + scope label)."""
    return {**patroni_labels(tcclog), SCOPE_LABEL: names(tcclog).patroni_scope}


def _hba() -> list[str]:
    return [
        # The socket directory is an emptyDir mounted only into the postgres container:
        # Patroni's own local connections, never the network.
        "local all all trust",
        f"host replication {REPLICATION_USER} 0.0.0.0/0 scram-sha-256",
        f"host replication {REPLICATION_USER} ::0/0 scram-sha-256",
        "host all all 0.0.0.0/0 scram-sha-256",
        "host all all ::0/0 scram-sha-256",
    ]


def patroni_config(tcclog: TccLog) -> dict[str, Any]:
    """patroni.yaml as a dict (see the module docstring for what comes from the env)."""
    spec = tcclog.spec.postgres
    user_parameters = dict(sorted(spec.parameters.items()))
    archive = archive_parameters(tcclog)
    config: dict[str, Any] = {
        "scope": names(tcclog).patroni_scope,
        "log": {"level": "INFO"},
        "restapi": {"listen": f"0.0.0.0:{PATRONI_PORT}"},
        "kubernetes": {
            # Leader lock and config in ConfigMaps; the Services select pods by role label.
            "use_endpoints": False,
            "bypass_api_service": False,
            "labels": patroni_labels(tcclog),
            "scope_label": SCOPE_LABEL,
            "role_label": ROLE_LABEL,
            "leader_label_value": ROLE_PRIMARY,
            "follower_label_value": ROLE_REPLICA,
            "standby_leader_label_value": ROLE_PRIMARY,
        },
        "bootstrap": {
            # Written to the DCS once, when the cluster is first initialised.
            "dcs": {
                "ttl": DCS_TTL,
                "loop_wait": DCS_LOOP_WAIT,
                "retry_timeout": DCS_RETRY_TIMEOUT,
                "maximum_lag_on_failover": MAXIMUM_LAG_ON_FAILOVER,
                "synchronous_mode": spec.synchronous_mode,
                "synchronous_mode_strict": False,
                "postgresql": {
                    "use_pg_rewind": True,
                    "use_slots": True,
                    # Cluster-wide parameters (max_connections, ...) are read from the DCS only.
                    "parameters": {"wal_keep_size": "128MB", **user_parameters, **archive},
                },
            },
            "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}, "data-checksums"],
            "post_bootstrap": f"/bin/sh {POD_PATHS.post_bootstrap}",
        },
        "postgresql": {
            "listen": f"0.0.0.0:{POSTGRES_PORT}",
            "data_dir": POD_PATHS.data_dir,
            "bin_dir": POD_PATHS.bin_dir,
            "pgpass": POD_PATHS.pgpass,
            # A new replica clones the primary with pg_basebackup. Its default "spread"
            # checkpoint paces itself over 0.9 * checkpoint_timeout (minutes) even when
            # nothing is dirty; "fast" starts cloning at once.
            "create_replica_methods": ["basebackup"],
            "basebackup": [{"checkpoint": "fast"}],
            "use_unix_socket": True,
            "use_unix_socket_repl": False,
            "authentication": {
                "superuser": {"username": SUPERUSER},
                "replication": {"username": REPLICATION_USER},
            },
            # Local parameters: applied on every restart, so spec changes reach running pods.
            "parameters": {"unix_socket_directories": POD_PATHS.socket_dir, **user_parameters,
                           **archive},
            "pg_hba": _hba(),
        },
        "watchdog": {"mode": "off"},
    }
    if archive:
        from .pgbackrest import restore_command

        # A replica too far behind to stream fetches WAL from the repository.
        config["postgresql"]["recovery_conf"] = {"restore_command": restore_command(tcclog)}
    config["bootstrap"].update(recovery_bootstrap(tcclog))
    if archive:
        # Backups switched on for a running cluster: its primary creates the stanza as
        # soon as it (re)starts with the new configuration, not at the next backup job.
        callback = f"/bin/sh {POD_PATHS.on_role_change}"
        config["postgresql"]["callbacks"] = {"on_start": callback, "on_role_change": callback}
    return config


def role_change_script(tcclog: TccLog) -> str:
    """Patroni callback ($1 action, $2 role, $3 scope): on the primary, make sure the
    pgBackRest stanza exists so WAL archiving works (idempotent; harmless when it does)."""
    from .pgbackrest import archive_command

    create = archive_command(tcclog).replace("archive-push %p", "stanza-create")
    return f"""#!/bin/sh
case "$2" in
  primary|master) {create} || echo "on-role-change: stanza-create failed" >&2 ;;
esac
"""


def post_bootstrap_script(tcclog: TccLog | None = None) -> str:
    """Runs once, on the first primary, right after initdb or a recovery: the app's roles
    and database, created when missing (a recovered database has them already) and given
    this cluster's passwords either way. With backups, the pgBackRest stanza too, so WAL
    archiving works from the start (best effort: the backup jobs create it as well).

    Passwords come from the environment through psql's \\getenv, so they never appear in
    a command line, a file or the ConfigMap. The app role may create roles because the
    app's migrations create its NOLOGIN AI role.
    """
    stanza = ""
    if tcclog is not None and _backup_enabled(tcclog):
        from .pgbackrest import archive_command

        create = archive_command(tcclog).replace("archive-push %p", "stanza-create")
        stanza = (f'{create} || echo "post-bootstrap: stanza-create failed; the first '
                  'backup job retries it" >&2\n')
    return f"""#!/bin/sh
# Patroni post_bootstrap: $1 is a connection string for the new primary.
set -eu
psql -v ON_ERROR_STOP=1 -d "$1" <<'SQL'
\\getenv app_password TCCLOG_APP_PASSWORD
\\getenv readonly_password TCCLOG_READONLY_PASSWORD
SELECT format('CREATE ROLE {DATABASE_USER} LOGIN CREATEROLE PASSWORD %L', :'app_password')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{DATABASE_USER}') \\gexec
SELECT 'CREATE DATABASE {DATABASE_NAME} OWNER {DATABASE_USER}'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{DATABASE_NAME}') \\gexec
SELECT format('CREATE ROLE {READONLY_USER} LOGIN PASSWORD %L', :'readonly_password')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{READONLY_USER}') \\gexec
ALTER ROLE {DATABASE_USER} PASSWORD :'app_password';
ALTER ROLE {READONLY_USER} PASSWORD :'readonly_password';
GRANT pg_read_all_data TO {READONLY_USER};
SQL
{stanza}"""


def _backup_enabled(tcclog: TccLog) -> bool:
    backup = tcclog.spec.backup
    return bool(backup and backup.enabled and backup.s3)


def archive_parameters(tcclog: TccLog) -> dict[str, str]:
    """WAL archiving to the pgBackRest repository; only while backups are enabled."""
    if not _backup_enabled(tcclog):
        return {}
    from .pgbackrest import archive_command

    # archive_timeout bounds the data an idle cluster can lose (RPO) to 5 minutes.
    return {"archive_mode": "on", "archive_command": archive_command(tcclog),
            "archive_timeout": "300s"}


def recovery_bootstrap(tcclog: TccLog) -> dict[str, Any]:
    """Patroni's custom bootstrap from spec.bootstrap.recovery ({} without one).

    keep_existing_recovery_conf is false on purpose: pgBackRest writes a restore_command
    into postgresql.auto.conf that would read the source repository with *this* cluster's
    S3 keys; Patroni drops it and writes recovery_conf below instead, whose
    restore_command maps the source's keys.
    """
    recovery = tcclog.spec.bootstrap.recovery if tcclog.spec.bootstrap else None
    if recovery is None:
        return {}
    from .pgbackrest import (
        CONFIG_MOUNT as PGBACKREST_MOUNT,
    )
    from .pgbackrest import (
        RECOVERY_SCRIPT_FILE,
        pgbackrest_target_time,
        recovery_restore_command,
    )

    recovery_conf: dict[str, Any] = {"restore_command": recovery_restore_command(tcclog)}
    if recovery.target_time:
        recovery_conf.update(recovery_target_time=pgbackrest_target_time(recovery.target_time),
                             recovery_target_action="promote")
    return {
        "method": "pgbackrest",
        "pgbackrest": {
            "command": f"/bin/sh {PGBACKREST_MOUNT}/{RECOVERY_SCRIPT_FILE}",
            "no_params": True,
            "keep_existing_recovery_conf": False,
            "recovery_conf": recovery_conf,
        },
    }


def role(tcclog: TccLog) -> dict[str, Any]:
    """Exactly what Patroni's Kubernetes DCS uses with use_endpoints: false."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": object_meta(tcclog, names(tcclog).postgres, COMPONENT),
        "rules": [
            # Leader lock, dynamic config, sync state; delete only for `patronictl remove`.
            {
                "apiGroups": [""],
                "resources": ["configmaps"],
                "verbs": ["create", "get", "list", "patch", "update", "watch", "delete"],
            },
            # Members are pods: Patroni labels its own pod with its role and status.
            {
                "apiGroups": [""],
                "resources": ["pods"],
                "verbs": ["get", "list", "patch", "update", "watch"],
            },
        ],
    }


def role_binding(tcclog: TccLog) -> dict[str, Any]:
    child = names(tcclog)
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": object_meta(tcclog, child.postgres, COMPONENT),
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": child.postgres,
        },
        "subjects": [
            {"kind": "ServiceAccount", "name": child.postgres, "namespace": namespace_of(tcclog)}
        ],
    }
