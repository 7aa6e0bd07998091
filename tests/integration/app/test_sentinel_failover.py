"""Redis Sentinel failover with real processes: the app follows the new master."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from tests.integration import _services as svc
from tests.integration.app.test_resilience import _metric
from tests.integration.conftest import make_client, new_user

API = "/api/v1"


@pytest.fixture
def redis_pair() -> Iterator[tuple[svc.Proc, svc.Proc, svc.Proc]]:
    master = svc.start_redis()
    procs = [master]
    try:
        replica = svc.start_redis(replica_of=master.port)
        procs.append(replica)
        sentinel = svc.start_sentinel(master.port, down_after_ms=1000)
        procs.append(sentinel)
        yield master, replica, sentinel
    finally:
        for proc in reversed(procs):
            proc.stop()


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except redis.RedisError:
            pass
        time.sleep(0.2)
    raise TimeoutError(what)


def test_cache_follows_sentinel_failover(base_settings: dict[str, Any],
                                         redis_pair: tuple[svc.Proc, svc.Proc, svc.Proc]) -> None:
    master, replica, sentinel = redis_pair
    admin = redis.Redis(host="127.0.0.1", port=sentinel.port, decode_responses=True)
    _wait(lambda: admin.sentinel_slaves("mymaster"), 30, "sentinel never saw the replica")
    settings = {**base_settings, "redis_sentinels": f"127.0.0.1:{sentinel.port}"}
    with make_client(**settings) as client:
        headers = new_user(client)
        entry = client.post(f"{API}/entries", json={"title": "before"}, headers=headers).json()
        for _ in range(2):
            client.get(f"{API}/entries/{entry['id']}", headers=headers)
        hits_before = _metric(client, "tcclog_cache_hits_total")
        assert hits_before >= 1

        master.stop()
        # during the failover every request still succeeds (cache misses)
        assert client.get(f"{API}/entries/{entry['id']}", headers=headers).status_code == 200
        _wait(lambda: admin.sentinel_get_master_addr_by_name("mymaster")[1] == replica.port,
              60, "sentinel did not promote the replica")
        time.sleep(2.5)  # the app's outage back-off window
        client.patch(f"{API}/entries/{entry['id']}", json={"title": "after"}, headers=headers)
        for _ in range(3):
            got = client.get(f"{API}/entries/{entry['id']}", headers=headers)
            assert got.status_code == 200 and got.json()["title"] == "after"
        assert _metric(client, "tcclog_cache_hits_total") >= hits_before + 2
        promoted = redis.Redis(host="127.0.0.1", port=replica.port)
        assert any(k.startswith(b"u:") for k in promoted.keys("u:*"))
