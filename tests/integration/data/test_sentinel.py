"""Redis + Sentinel for real, from the operator's rendered configuration: a crashed master
is replaced by Sentinel and the app, configured as the operator configures it (Sentinel
addresses, master set name, password), keeps answering throughout."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from redis.sentinel import Sentinel

from tcclog_operator.models import TccLog
from tcclog_operator.render.meta import REDIS_MASTER_SET
from tcclog_operator.sentinel import master_address
from tests.integration.conftest import make_client, new_user

from .patroni_harness import wait_until
from .redis_harness import RedisSet

PASSWORD = "integration-redis-password-0123456789"


@pytest.fixture
def redis_set() -> Iterator[RedisSet]:
    tcclog = TccLog.from_body({"metadata": {"name": "demo", "namespace": "tcc"}, "spec": {
        "version": "0.1.0", "redis": {"replicas": 2, "sentinels": 3}}})
    started = RedisSet(tcclog, PASSWORD)
    try:
        started.start()
        yield started
    finally:
        started.stop()


def ready(sentinel: Sentinel) -> bool:
    """Every Sentinel knows the master, one replica and the two other Sentinels."""
    for address in sentinel.sentinels:
        state = address.sentinel_master(REDIS_MASTER_SET)
        if state["num-slaves"] < 1 or state["num-other-sentinels"] < 2:
            return False
    return True


def test_sentinel_promotes_the_replica_and_the_app_keeps_serving(
        redis_set: RedisSet, base_settings: dict[str, Any]) -> None:
    sentinel = Sentinel(redis_set.sentinel_addresses, socket_timeout=0.5)
    wait_until(lambda: ready(sentinel), timeout=30, what="Sentinels to discover each other")
    old_master = sentinel.discover_master(REDIS_MASTER_SET)
    # What the operator reports in status.components.redis.master (sentinel.py).
    assert master_address(redis_set.sentinel_addresses) == old_master
    settings = {**base_settings, "redis_master_name": REDIS_MASTER_SET,
                "redis_password": PASSWORD,
                "redis_sentinels": ",".join(f"{h}:{p}" for h, p in redis_set.sentinel_addresses)}
    with make_client(**settings) as app:
        headers = new_user(app)
        created = app.post("/api/v1/entries", json={"title": "cached", "content": "x"},
                           headers=headers)
        assert created.status_code == 201, created.text
        url = f"/api/v1/entries/{created.json()['id']}"
        assert app.get(url, headers=headers).status_code == 200

        statuses: list[int] = []
        promoted_at: float | None = None
        killed_at = time.monotonic()
        redis_set.kill(old_master[1])
        for _ in range(2000):  # bounded in count and in time
            if time.monotonic() - killed_at > 45:
                break
            statuses.append(app.get(url, headers=headers).status_code)
            if promoted_at is None and writable_new_master(sentinel, old_master):
                promoted_at = time.monotonic()
            if promoted_at is not None and time.monotonic() - promoted_at > 2:
                break
            time.sleep(0.05)
    assert promoted_at is not None, "Sentinel promoted no replica within 45 s"
    new_master = sentinel.discover_master(REDIS_MASTER_SET)
    assert new_master != old_master
    wait_until(lambda: master_address(redis_set.sentinel_addresses) == new_master, timeout=10,
               what="every Sentinel to agree on the new master")
    assert statuses and set(statuses) == {200}, "the app failed requests during the failover"
    print(f"redis failover: new master writable {promoted_at - killed_at:.1f} s after the "  # noqa: T201
          f"crash; {len(statuses)} app requests, all 200")


def writable_new_master(sentinel: Sentinel, old: tuple[str, int]) -> bool:
    try:
        if sentinel.discover_master(REDIS_MASTER_SET) == old:
            return False
        master = sentinel.master_for(REDIS_MASTER_SET, password=PASSWORD, socket_timeout=0.5)
        return bool(master.set("failover-probe", "1"))
    except (redis.RedisError, OSError):
        return False


def test_master_address_is_none_when_no_sentinel_answers() -> None:
    # Closed ports on loopback; the operator then reports the master as unknown.
    assert master_address([("127.0.0.1", 1), ("127.0.0.1", 2)], timeout=0.5) is None
