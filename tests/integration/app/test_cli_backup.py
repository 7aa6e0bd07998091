"""`tcclog migrate | openapi | backup | restore` as real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from typing import Any

import psycopg
import pytest

from tests.integration import _services as svc

CHECKSUM_SQL = """SELECT md5(string_agg(t, '|' ORDER BY t)) FROM (
  SELECT format('%s/%s/%s/%s', id, user_id, title, content) AS t FROM entries
  UNION ALL SELECT format('tag %s/%s', id, name) FROM tags
  UNION ALL SELECT format('et %s/%s', entry_id, tag_id) FROM entry_tags
  UNION ALL SELECT format('u %s/%s/%s', id, email, password_hash) FROM users) rows"""


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tcclog", *args], env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def scratch_db(pg: svc.PgCluster, base_settings: dict[str, Any]) -> Any:
    name = f"scratch_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg.primary.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    env = {**os.environ, "TCCLOG_ENVIRONMENT": "test",
           "TCCLOG_DATABASE_URL": pg.primary.dsn(name),
           "TCCLOG_JWT_SECRET": base_settings["jwt_secret"],
           "TCCLOG_S3_ENDPOINT_URL": base_settings["s3_endpoint_url"],
           "TCCLOG_S3_BUCKET": f"bk-{uuid.uuid4().hex[:8]}",
           "TCCLOG_S3_ACCESS_KEY_ID": "testing", "TCCLOG_S3_SECRET_ACCESS_KEY": "testing"}
    try:
        yield name, env
    finally:
        with psycopg.connect(pg.primary.dsn(), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _storage(env: dict[str, str]) -> Any:
    from tcclog.core.config import Settings
    from tcclog.core.storage import Storage

    settings = Settings(**{k.removeprefix("TCCLOG_").lower(): v for k, v in env.items()
                           if k.startswith("TCCLOG_")})
    storage = Storage(settings)
    storage.ensure_bucket()
    return storage


def test_migrate_is_idempotent_and_openapi_prints(scratch_db: Any) -> None:
    _, env = scratch_db
    first, second = _run(env, "migrate"), _run(env, "migrate")
    assert first.returncode == 0 and second.returncode == 0, first.stderr
    assert '"applied": [1, 2, 3]' in first.stderr and '"applied": []' in second.stderr
    doc = _run(env, "openapi")
    assert doc.returncode == 0
    assert "/api/v1/entries/search" in json.loads(doc.stdout)["paths"]


def test_backup_drop_restore_gives_identical_data(pg: svc.PgCluster, scratch_db: Any) -> None:
    name, env = scratch_db
    assert _run(env, "migrate").returncode == 0
    dsn = pg.primary.dsn(name)
    with psycopg.connect(dsn) as conn:
        conn.execute("INSERT INTO users (email, password_hash) VALUES ('b@x.io', 'h')")
        conn.execute("INSERT INTO tags (user_id, name) SELECT id, 'tag' FROM users")
        conn.execute("INSERT INTO entries (user_id, title, content) SELECT u.id, 'entry ' || g,"
                     " repeat('lorem ipsum ', g) FROM users u, generate_series(1, 500) g")
        conn.execute("INSERT INTO entry_tags SELECT e.user_id, e.id, t.id FROM entries e"
                     " JOIN tags t USING (user_id) WHERE e.id % 3 = 0")
        before = conn.execute(CHECKSUM_SQL).fetchone()

    first = _run(env, "backup")
    assert first.returncode == 0, first.stderr
    latest = _run(env, "backup", "--name", "zz-latest")
    assert latest.returncode == 0, latest.stderr
    storage = _storage(env)
    keys = sorted(o["Key"] for o in storage.list_keys("backups/"))
    assert keys == sorted([first.stdout.strip(), "backups/zz-latest.dump"])  # no temp leftovers

    with psycopg.connect(pg.primary.dsn(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    restored = _run(env, "restore")
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.strip() == "backups/zz-latest.dump"
    with psycopg.connect(dsn) as conn:
        assert conn.execute(CHECKSUM_SQL).fetchone() == before
        search = conn.execute("SELECT count(*) FROM entries WHERE search @@"
                              " websearch_to_tsquery('english', 'lorem')").fetchone()
        assert search == (500,)
        policies = conn.execute("SELECT count(*) FROM pg_policies").fetchone()
        assert policies is not None and policies[0] == 8
    again = _run(env, "restore", "--key", first.stdout.strip())
    assert again.returncode == 0, again.stderr


def test_failed_pg_dump_publishes_nothing(scratch_db: Any) -> None:
    _, env = scratch_db
    broken = {**env, "TCCLOG_DATABASE_URL": env["TCCLOG_DATABASE_URL"] + "_missing"}
    result = _run(broken, "backup")
    assert result.returncode == 1
    assert "pg_dump exited" in result.stderr
    assert _storage(env).list_keys("backups/") == []
    missing = _run(env, "restore")
    assert missing.returncode == 1 and "no backup found" in missing.stderr


def test_serve_runs_uvicorn_with_health_endpoints(base_settings: dict[str, Any]) -> None:
    import httpx

    port = svc.free_port()
    env = {**os.environ, "TCCLOG_ENVIRONMENT": "test",
           "TCCLOG_DATABASE_URL": base_settings["database_url"],
           "TCCLOG_JWT_SECRET": base_settings["jwt_secret"],
           "TCCLOG_S3_ENDPOINT_URL": base_settings["s3_endpoint_url"],
           "TCCLOG_S3_ACCESS_KEY_ID": "testing", "TCCLOG_S3_SECRET_ACCESS_KEY": "testing"}
    proc = subprocess.Popen([sys.executable, "-m", "tcclog", "serve", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        svc.wait_port(port, timeout=60)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok"}
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz").json()
        assert ready["database"] == "ok" and ready["cache"] == "degraded"  # no Redis set
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/me").status_code == 401
    finally:
        proc.terminate()
        output = proc.communicate(timeout=20)[0].decode()
    lines = [line for line in output.splitlines() if line.startswith("{")]
    assert any('"event": "startup"' in line for line in lines)  # structured JSON logs
    assert base_settings["jwt_secret"] not in output
