"""Backups: the repository-host ConfigMap and four CronJobs. Pure.

- `<name>-backup-full` / `-diff` (spec.backup.schedule / differentialSchedule): the
  postgres image as pgBackRest repository host; `stanza-create` (idempotent), then
  `backup --type=full|diff` over TLS to the members (pgBackRest finds the primary);
  `expire` runs after every backup, by repo1-retention-full / -diff.
- `<name>-backup-logical` (logicalSchedule): the app image, `tcclog backup` (pg_dump -Fc
  to S3 under `<s3.path>/logical/`).
- `<name>-backup-verify` (verifySchedule): `pgbackrest verify` reads back every backup
  and WAL file in the repository and checks their checksums.

`backup_job_spec(tcclog, settings, method)` is the Job spec of each (also for on-demand
TccLogBackup Jobs). A successful run writes one JSON line to /dev/termination-log:
{"method", "label", "sizeBytes", "location"}; a failed one exits non-zero and writes nothing.
"""

from __future__ import annotations

from typing import Any, Literal

from ..models import TccLog
from .backend import secret_env
from .credentials import (
    TLS_CA_KEY,
    TLS_CLIENT_CERT_KEY,
    TLS_CLIENT_KEY_KEY,
    backup_enabled,
)
from .meta import (
    DATABASE_NAME,
    DATABASE_USER,
    POSTGRES_PORT,
    RenderSettings,
    labels,
    names,
    object_meta,
    service_host,
)
from .pgbackrest import (
    BACKUP_SCRIPT_FILE,
    CONFIG_FILE,
    CONFIG_MOUNT,
    S3_KEY_ENV,
    S3_KEY_SECRET_ENV,
    TLS_MOUNT,
    pgbackrest_config,
    repo_location,
)
from .postgres import POSTGRES_UID
from .security import APP_UID, pod_security_context, restricted_container_security_context

COMPONENT = "backup"
Method = Literal["full", "diff", "incr", "logical", "verify"]
METHODS: tuple[Method, ...] = ("full", "diff", "incr", "logical", "verify")
#: A failed backup is retried once by its Job; the next schedule tries again anyway.
BACKOFF_LIMIT = 1
#: Longest a backup Job may run before Kubernetes stops it (a hung S3 endpoint).
ACTIVE_DEADLINE_SECONDS = 6 * 3600
TERMINATION_LOG = "/dev/termination-log"


#: The backup Job's entry point (python3 is in the postgres image: Patroni needs it).
#: argv: method (full|diff|incr|verify), stanza, location (s3://bucket/path of the repo).
#: Success: one JSON line in the termination log (the operator reads it into status).
#: Failure: a message on stderr, a non-zero exit, and no result written.
BACKUP_SCRIPT = '''\
import json, os, subprocess, sys

method, stanza, location = sys.argv[1:4]
result_path = os.environ.get("TCCLOG_TERMINATION_LOG", "/dev/termination-log")


def pgbackrest(*args, capture=False):
    command = ["pgbackrest", f"--stanza={stanza}", *args]
    done = subprocess.run(command, stdout=subprocess.PIPE if capture else None, text=True)
    if done.returncode != 0:
        sys.stderr.write(f"backup failed: `{' '.join(command)}` exited {done.returncode}\\n")
        sys.exit(done.returncode)
    return done.stdout


def backups():
    info = json.loads(pgbackrest("--output=json", "info", capture=True) or "[]")
    return info[0].get("backup", []) if info else []


if method == "verify":
    pgbackrest("verify")
    kept = backups()
    result = {"method": "verify", "label": kept[-1]["label"] if kept else "",
              "sizeBytes": sum(b["info"]["repository"]["delta"] for b in kept),
              "location": location}
else:
    pgbackrest("stanza-create")  # idempotent: a no-op once the stanza exists
    before = {b["label"] for b in backups()}
    pgbackrest(f"--type={method}", "backup")
    new = [b for b in backups() if b["label"] not in before]
    if not new:
        sys.stderr.write("backup failed: pgbackrest exited 0 but lists no new backup\\n")
        sys.exit(1)
    label = new[-1]["label"]
    result = {"method": method, "label": label,
              "sizeBytes": new[-1]["info"]["repository"]["delta"],
              "location": f"{location}/backup/{stanza}/{label}"}
with open(result_path, "w") as out:
    out.write(json.dumps(result, separators=(",", ":")) + "\\n")
print(json.dumps(result))
'''


def logical_command(bucket: str) -> list[str]:
    """`tcclog backup` prints the published key; only then is a result written."""
    script = (
        "set -eu\n"
        "key=$(tcclog backup)\n"
        f"printf '{{\"method\":\"logical\",\"label\":\"%s\",\"location\":\"s3://{bucket}/%s\"}}\\n'"
        f' "${{key##*/}}" "$key" > {TERMINATION_LOG}\n'
    )
    return ["/bin/sh", "-c", script]


def _s3_env(tcclog: TccLog) -> list[dict[str, Any]]:
    assert tcclog.spec.backup and tcclog.spec.backup.s3
    creds = tcclog.spec.backup.s3.credentials_secret_ref
    if creds is None:
        raise ValueError("spec.backup.s3.credentialsSecretRef is required")
    return [
        {"name": S3_KEY_ENV,
         "valueFrom": {"secretKeyRef": {"name": creds.name, "key": creds.access_key_id_key}}},
        {"name": S3_KEY_SECRET_ENV,
         "valueFrom": {"secretKeyRef": {"name": creds.name, "key": creds.secret_access_key_key}}},
    ]


def _tls_volume(tcclog: TccLog, cert: str, key: str) -> dict[str, Any]:
    """The TLS Secret's CA and one key pair; 0440 (root-owned, fsGroup): pgBackRest refuses
    a key file other users can read."""
    items = [{"key": k, "path": k} for k in (TLS_CA_KEY, cert, key)]
    return {"name": "tls", "secret": {"secretName": names(tcclog).pgbackrest_tls,
                                      "items": items, "defaultMode": 0o440}}


def _pgbackrest_pod(tcclog: TccLog, settings: RenderSettings, method: Method) -> dict[str, Any]:
    assert tcclog.spec.backup and tcclog.spec.backup.s3
    child = names(tcclog)
    container = {
        "name": "pgbackrest",
        "image": f"{settings.postgres_image_repository}:{tcclog.spec.version}",
        "imagePullPolicy": settings.image_pull_policy,
        "command": ["python3", f"{CONFIG_MOUNT}/{BACKUP_SCRIPT_FILE}", method, child.stanza,
                    repo_location(tcclog.spec.backup.s3)],
        "env": _s3_env(tcclog),
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                      "limits": {"memory": "512Mi"}},
        "securityContext": restricted_container_security_context(),
        # On failure the log tail becomes the message (kubectl describe); never valid JSON.
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [
            {"name": "config", "mountPath": CONFIG_MOUNT, "readOnly": True},
            {"name": "tls", "mountPath": TLS_MOUNT, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    return {
        "securityContext": pod_security_context(POSTGRES_UID),
        "containers": [container],
        "volumes": [
            {"name": "config", "configMap": {"name": child.backup}},
            _tls_volume(tcclog, TLS_CLIENT_CERT_KEY, TLS_CLIENT_KEY_KEY),
            {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
        ],
    }


def _logical_pod(tcclog: TccLog, settings: RenderSettings) -> dict[str, Any]:
    assert tcclog.spec.backup and tcclog.spec.backup.s3
    child = names(tcclog)
    # pg_dump gets its password from the DSN (tcclog.core.backup passes the DSN's fields
    # to pg_dump as PG* variables and drops inherited ones, PGPASSWORD included). The
    # password is token_urlsafe, so it needs no escaping; $(PGPASSWORD) is from secret_env.
    dsn = {"name": "TCCLOG_DATABASE_URL", "value": (
        f"postgresql://{DATABASE_USER}:$(PGPASSWORD)@"
        f"{service_host(tcclog, child.postgres_rw)}:{POSTGRES_PORT}/{DATABASE_NAME}")}
    container = {
        "name": "logical",
        "image": f"{settings.app_image_repository}:{tcclog.spec.version}",
        "imagePullPolicy": settings.image_pull_policy,
        "command": logical_command(tcclog.spec.backup.s3.bucket or ""),
        "envFrom": [{"configMapRef": {"name": child.backend}}],
        "env": [*secret_env(tcclog), dsn],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                      "limits": {"memory": "512Mi"}},
        "securityContext": restricted_container_security_context(),
        # On failure the log tail becomes the message (kubectl describe); never valid JSON.
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    return {
        "securityContext": pod_security_context(APP_UID),
        "containers": [container],
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}],
    }


def backup_job_spec(tcclog: TccLog, settings: RenderSettings, method: Method) -> dict[str, Any]:
    """batch/v1 JobSpec of one backup run (the CronJobs' jobTemplate.spec)."""
    if method not in METHODS:
        raise ValueError(f"unknown backup method {method!r}; one of {', '.join(METHODS)}")
    if not backup_enabled(tcclog) or not (tcclog.spec.backup and tcclog.spec.backup.s3):
        raise ValueError("spec.backup with s3 is required for backups")
    pod = (_logical_pod(tcclog, settings) if method == "logical"
           else _pgbackrest_pod(tcclog, settings, method))
    pod.update({
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
    })
    return {
        "backoffLimit": BACKOFF_LIMIT,
        "activeDeadlineSeconds": ACTIVE_DEADLINE_SECONDS,
        "template": {
            "metadata": {"labels": {**labels(tcclog, COMPONENT),
                                    "tcclog.com/backup-method": method}},
            "spec": pod,
        },
    }


def config_map_data(tcclog: TccLog) -> dict[str, str]:
    return {CONFIG_FILE: pgbackrest_config(tcclog, "repo"), BACKUP_SCRIPT_FILE: BACKUP_SCRIPT}


def config_map(tcclog: TccLog) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": object_meta(tcclog, names(tcclog).backup, COMPONENT),
        "data": config_map_data(tcclog),
    }


def cron_job(tcclog: TccLog, settings: RenderSettings, method: Method,
             schedule: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": object_meta(tcclog, names(tcclog).backup_cronjob(method), COMPONENT),
        "spec": {
            "schedule": schedule,
            "timeZone": "Etc/UTC",
            # Never two backups of one kind at once; a missed run older than an hour is
            # skipped (the next schedule comes).
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 3600,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {"labels": labels(tcclog, COMPONENT)},
                "spec": backup_job_spec(tcclog, settings, method),
            },
        },
    }


def render_backup(tcclog: TccLog, settings: RenderSettings) -> list[dict[str, Any]]:
    """[] while spec.backup is absent or disabled."""
    backup = tcclog.spec.backup
    if not backup_enabled(tcclog) or backup is None or backup.s3 is None:
        return []
    return [
        config_map(tcclog),
        cron_job(tcclog, settings, "full", backup.schedule),
        cron_job(tcclog, settings, "diff", backup.differential_schedule),
        cron_job(tcclog, settings, "logical", backup.logical_schedule),
        cron_job(tcclog, settings, "verify", backup.verify_schedule),
    ]
