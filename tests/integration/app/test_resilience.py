"""Degraded dependencies: Redis stopped mid-run, the replica stopped mid-run."""

from __future__ import annotations

import time
import uuid
from typing import Any

import psycopg
import pytest

from tests.integration import _services as svc
from tests.integration.conftest import make_client, new_user

API = "/api/v1"


@pytest.fixture
def own_redis() -> Any:
    proc = svc.start_redis()
    try:
        yield proc
    finally:
        proc.stop()


def _metric(client: Any, name: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def test_redis_stopped_mid_run_degrades_to_misses(base_settings: dict[str, Any],
                                                  own_redis: svc.Proc) -> None:
    settings = {**base_settings, "redis_sentinels": None,
                "redis_url": f"redis://127.0.0.1:{own_redis.port}/0", "rate_limit_per_minute": 8}
    with make_client(**settings) as client:
        headers = new_user(client)
        entry = client.post(f"{API}/entries", json={"title": "cached"}, headers=headers).json()
        for _ in range(3):
            assert client.get(f"{API}/entries/{entry['id']}", headers=headers).status_code == 200
        assert _metric(client, "tcclog_cache_hits_total") >= 2
        statuses = [client.get(f"{API}/entries", headers=headers).status_code for _ in range(6)]
        assert 429 in statuses  # the limiter works while Redis is up

        own_redis.stop()
        for _ in range(12):  # more than the limit: an unreachable limiter stays open
            response = client.get(f"{API}/entries/{entry['id']}", headers=headers)
            assert response.status_code == 200 and response.json()["title"] == "cached"
        patched = client.patch(f"{API}/entries/{entry['id']}", json={"title": "fresh"},
                               headers=headers)
        assert patched.status_code == 200
        fresh = client.get(f"{API}/entries/{entry['id']}", headers=headers).json()
        assert fresh["title"] == "fresh"
        assert client.get(f"{API}/entries/search", params={"q": "fresh"},
                          headers=headers).status_code == 200
        assert client.get("/readyz").json()["cache"] == "degraded"
        assert _metric(client, "tcclog_cache_errors_total") >= 1


def _wait_replayed(primary: str, replica: str, timeout: float = 20) -> None:
    with psycopg.connect(primary, autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    target = row[0]
    deadline = time.monotonic() + timeout
    with psycopg.connect(replica, autocommit=True) as conn:
        while time.monotonic() < deadline:
            done = conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn",
                                (target,)).fetchone()
            if done and done[0]:
                return
            time.sleep(0.05)
    raise TimeoutError("replica did not catch up")


def test_replica_stopped_reads_fall_back_to_primary(pg: svc.PgCluster,
                                                    base_settings: dict[str, Any]) -> None:
    replica = pg.add_replica(f"fallback_{uuid.uuid4().hex[:6]}")
    try:
        settings = {**base_settings, "database_ro_url": replica.dsn("tcclog"),
                    "db_ro_timeout": 1.0}
        with make_client(**settings) as client:
            headers = new_user(client)
            entry = client.post(f"{API}/entries", json={"title": "replicated"},
                                headers=headers).json()
            _wait_replayed(pg.primary.dsn("tcclog"), replica.dsn("tcclog"))
            assert client.get(f"{API}/entries", headers=headers).status_code == 200
            db = client.app.state.db  # type: ignore[attr-defined]
            assert db.pool_stats()["ro"]["requests_num"] > 0  # reads really used the replica

            replica.stop("fast")
            for _ in range(3):
                listed = client.get(f"{API}/entries", headers=headers)
                assert listed.status_code == 200
                assert [e["id"] for e in listed.json()["data"]] == [entry["id"]]
            assert client.get(f"{API}/tags", headers=headers).status_code == 200
            assert not db.replica_in_use()
    finally:
        replica.stop("immediate")
        pg.replicas.remove(replica)


def test_metrics_expose_route_templates_and_pools(client: Any, user: dict[str, str]) -> None:
    entry = client.post(f"{API}/entries", json={"title": "m"}, headers=user).json()
    client.get(f"{API}/entries/{entry['id']}", headers=user)
    text = client.get("/metrics").text
    assert 'route="/api/v1/entries/{entry_id}"' in text
    assert 'tcclog_db_pool_connections{pool="rw",state="size"}' in text
    response = client.get("/healthz", headers={"X-Request-ID": "abc123"})
    assert response.headers["X-Request-ID"] == "abc123"
