"""Redis failover with Sentinel, configured by the operator (figures, not pass/fail).

    .venv/bin/python -m bench.failover_redis --rounds 5

Per round: 1 master + 1 replica + 3 Sentinels from the rendered configuration (as in
tests/integration/data/redis_harness.py), a client that writes through Sentinel every
50 ms, SIGKILL of the master. Prints the time until Sentinel names a new master that
accepts writes, and the client operations that failed meanwhile (a cache: the app turns
those into misses; tests/integration/data/test_sentinel.py checks it never answers 5xx).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import redis
from redis.sentinel import Sentinel
from tests.integration.data.patroni_harness import wait_until
from tests.integration.data.redis_harness import RedisSet

from tcclog_operator.models import TccLog
from tcclog_operator.render.meta import REDIS_MASTER_SET

PASSWORD = "bench-redis-password-0123456789"


def one_round() -> tuple[float, int, int]:
    """(seconds until a new master accepts writes, client ops, failed client ops)."""
    tcclog = TccLog.from_body({"metadata": {"name": "bench", "namespace": "bench"}, "spec": {
        "version": "0.1.0", "redis": {"replicas": 2, "sentinels": 3}}})
    redis_set = RedisSet(tcclog, PASSWORD)
    try:
        redis_set.start()
        sentinel = Sentinel(redis_set.sentinel_addresses, socket_timeout=0.5)
        wait_until(lambda: all(
            s.sentinel_master(REDIS_MASTER_SET)["num-other-sentinels"] >= 2
            and s.sentinel_master(REDIS_MASTER_SET)["num-slaves"] >= 1
            for s in sentinel.sentinels), timeout=30, what="Sentinels ready")
        old = sentinel.discover_master(REDIS_MASTER_SET)
        master = sentinel.master_for(REDIS_MASTER_SET, password=PASSWORD, socket_timeout=0.5)
        killed_at = time.monotonic()
        redis_set.kill(old[1])
        ops = failed = 0
        promoted = None
        while time.monotonic() - killed_at < 60 and ops < 5000:
            ops += 1
            try:
                master.set("bench-key", str(ops))
                if sentinel.discover_master(REDIS_MASTER_SET) != old:
                    promoted = time.monotonic() - killed_at
                    break
            except (redis.RedisError, OSError):
                failed += 1
            time.sleep(0.05)
        return promoted if promoted is not None else float("nan"), ops, failed
    finally:
        redis_set.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    out = sys.stdout.write
    times = []
    for round_no in range(1, args.rounds + 1):
        seconds, ops, failed = one_round()
        times.append(seconds)
        out(f"round {round_no}: new master writable after {seconds:4.1f} s "
            f"({ops} client ops, {failed} failed)\n")
    out(f"median {statistics.median(times):.1f} s, max {max(times):.1f} s "
        f"over {len(times)} rounds\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
