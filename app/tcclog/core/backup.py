"""Logical backups: `pg_dump -Fc` streamed to S3 (multipart) under a temporary key, published
by a server-side copy only after pg_dump exited 0; restore streams the object into pg_restore."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import threading
from typing import IO

import structlog

from tcclog.core.config import Settings
from tcclog.core.storage import Storage

log = structlog.get_logger(__name__)


class BackupError(RuntimeError):
    pass


_PG_ENV = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD",
           "dbname": "PGDATABASE", "sslmode": "PGSSLMODE", "connect_timeout": "PGCONNECT_TIMEOUT"}


def pg_env(dsn: str) -> dict[str, str]:
    """Connection settings as libpq environment variables, so the password never appears
    on a command line (visible in `ps`)."""
    from psycopg.conninfo import conninfo_to_dict

    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for key, value in conninfo_to_dict(dsn).items():
        if key in _PG_ENV and value is not None:
            env[_PG_ENV[key]] = str(value)
    return env


def _drain(stream: IO[bytes], sink: list[bytes]) -> None:
    sink.append(stream.read()[-4000:])


def backup(settings: Settings, storage: Storage, name: str | None = None) -> str:
    """Returns the published key. On any failure nothing is published and the temp key is gone."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = f"{settings.backup_prefix}{name or stamp}.dump"
    temp = f"{settings.backup_prefix}tmp/{stamp}.dump.partial"
    proc = subprocess.Popen(["pg_dump", "-Fc", "--no-owner"], env=pg_env(settings.database_url),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    errors: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(proc.stderr, errors), daemon=True)
    reader.start()
    try:
        size = storage.upload_stream(temp, proc.stdout)
        code = proc.wait()
        reader.join()
        if code != 0:
            message = b"".join(errors).decode(errors="replace").strip()
            # libpq may echo the DSN in errors; never log it with its password.
            raise BackupError(f"pg_dump exited {code}: {_scrub(message, settings)}")
        storage.copy(temp, final)
    except BaseException:
        proc.kill()
        proc.wait()
        storage.delete(temp)
        raise
    storage.delete(temp)
    log.info("backup_published", key=final, bytes=size)
    return final


def latest_backup(settings: Settings, storage: Storage) -> str | None:
    objects = [o for o in storage.list_keys(settings.backup_prefix)
               if o["Key"].endswith(".dump") and "/tmp/" not in o["Key"]]
    if not objects:
        return None
    return max(objects, key=lambda o: (o["LastModified"], o["Key"]))["Key"]


def restore(settings: Settings, storage: Storage, key: str | None = None) -> str:
    key = key or latest_backup(settings, storage)
    if key is None:
        raise BackupError(f"no backup found under {settings.backup_prefix!r}")
    env = pg_env(settings.database_url)
    proc = subprocess.Popen(["pg_restore", "--clean", "--if-exists", "--no-owner",
                             "--exit-on-error", "--single-transaction",
                             "-d", env.get("PGDATABASE", "postgres")], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stderr is not None
    errors: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(proc.stderr, errors), daemon=True)
    reader.start()
    try:
        for chunk in storage.iter_object(key, 1024 * 1024):
            proc.stdin.write(chunk)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    code = proc.wait()
    reader.join()
    if code != 0:
        message = b"".join(errors).decode(errors="replace").strip()
        raise BackupError(f"pg_restore exited {code}: {_scrub(message, settings)}")
    log.info("backup_restored", key=key)
    return key


def _scrub(message: str, settings: Settings) -> str:
    return message.replace(settings.database_url, "<database_url>")
