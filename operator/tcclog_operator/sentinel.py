"""Which Redis pod is master: asked of the Sentinels, the authority on it.

Redis pods carry no role label (Sentinel, unlike Patroni, writes nothing to the API), so
the operator asks the Sentinels themselves, as the app does. Each Sentinel may answer;
the most common answer wins, so one Sentinel with a stale view does not decide.

`SentinelProbe` keeps the answer per TccLog and refreshes it in a background thread: a
reconcile never waits on the network (an operator outside the cluster, or one blocked by
a NetworkPolicy, simply reports the master as unknown).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .models import TccLog
from .render.meta import REDIS_MASTER_SET, SENTINEL_PORT, names, namespace_of

Address = tuple[str, int]


def sentinel_addresses(tcclog: TccLog) -> list[Address]:
    """Each Sentinel pod by its stable DNS name (the headless Service's per-pod records)."""
    child = names(tcclog)
    domain = f"{child.sentinel_headless}.{namespace_of(tcclog)}.svc"
    return [(f"{child.sentinel}-{i}.{domain}", SENTINEL_PORT)
            for i in range(tcclog.spec.redis.sentinels)]


def master_address(addresses: Iterable[Address], *, timeout: float = 0.5) -> Address | None:
    """The master's announced (host, port), as most reachable Sentinels report it; None if
    none answers."""
    answers: Counter[Address] = Counter()
    for host, port in addresses:
        # No retries: an unreachable Sentinel is skipped, the next one asked.
        client = redis.Redis(host=host, port=port, socket_timeout=timeout,
                             socket_connect_timeout=timeout, decode_responses=True,
                             retry=Retry(NoBackoff(), 0))
        try:
            reply = client.execute_command("SENTINEL", "get-master-addr-by-name",
                                           REDIS_MASTER_SET)
        except (redis.RedisError, OSError):
            continue
        finally:
            client.close()
        if reply:
            answers[(str(reply[0]), int(reply[1]))] += 1
    return answers.most_common(1)[0][0] if answers else None


def master_pod(tcclog: TccLog, address: Address | None) -> str | None:
    """Pod name from the announced host `<redis>-<n>.<headless>...` (render/redis.py)."""
    if not address:
        return None
    pod = address[0].split(".", 1)[0]
    prefix = f"{names(tcclog).redis}-"
    return pod if pod.startswith(prefix) and pod[len(prefix):].isdigit() else None


class SentinelProbe:
    """Last known master per TccLog uid, refreshed at most every `interval` s, off-thread."""

    def __init__(self, interval: float,
                 ask: Callable[[TccLog], str | None] | None = None) -> None:
        self._interval = interval
        self._ask = ask or (lambda tcclog: master_pod(tcclog, master_address(
            sentinel_addresses(tcclog))))
        self._lock = threading.Lock()
        self._known: dict[str, str | None] = {}
        self._asked: dict[str, float] = {}

    def master(self, tcclog: TccLog) -> str | None:
        uid = tcclog.metadata.uid or tcclog.metadata.name
        with self._lock:
            due = time.monotonic() - self._asked.get(uid, float("-inf")) >= self._interval
            if due:
                self._asked[uid] = time.monotonic()
            known = self._known.get(uid)
        if due:
            threading.Thread(target=self._refresh, args=(uid, tcclog), daemon=True).start()
        return known

    def _refresh(self, uid: str, tcclog: TccLog) -> None:
        answer = self._ask(tcclog)
        with self._lock:
            if uid in self._asked:  # not forgotten meanwhile
                self._known[uid] = answer

    def forget(self, uid: str) -> None:
        with self._lock:
            self._known.pop(uid, None)
            self._asked.pop(uid, None)
