"""Redis (plain or Sentinel) where every failure is a cache miss, never an error."""

from __future__ import annotations

import json
import time
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.asyncio.sentinel import Sentinel
from redis.exceptions import RedisError

from tcclog.core.config import Settings
from tcclog.core.metrics import Metrics

log = structlog.get_logger(__name__)
OUTAGE_BACKOFF_SECONDS = 2.0


class Cache:
    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.client: Redis | None = None
        self._down_until = 0.0
        password = settings.redis_password.get_secret_value() if settings.redis_password else None
        opts: dict[str, Any] = {
            "socket_timeout": settings.redis_timeout,
            "socket_connect_timeout": settings.redis_timeout,
            "password": password,
        }
        if settings.sentinel_addresses:
            sentinel = Sentinel(settings.sentinel_addresses, sentinel_kwargs={
                "socket_timeout": settings.redis_timeout}, **opts)
            self.client = sentinel.master_for(settings.redis_master_name, **opts)
        elif settings.redis_url:
            self.client = Redis.from_url(settings.redis_url, **opts)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()

    def _available(self) -> bool:
        return self.client is not None and time.monotonic() >= self._down_until

    def _failed(self, op: str, exc: Exception) -> None:
        # Back off briefly so an outage costs one timeout per window, not one per call.
        self._down_until = time.monotonic() + OUTAGE_BACKOFF_SECONDS
        self.metrics.cache_errors.inc()
        log.warning("cache_unavailable", op=op, error=type(exc).__name__)

    async def run(self, op: str, *args: Any, **kwargs: Any) -> Any:
        """Call a redis command; None when Redis is unset or failing."""
        if not self._available():
            return None
        assert self.client is not None
        try:
            return await getattr(self.client, op)(*args, **kwargs)
        except (RedisError, OSError) as exc:
            self._failed(op, exc)
            return None

    async def get_json(self, key: str) -> Any:
        raw = await self.run("get", key)
        if raw is None:
            self.metrics.cache_misses.inc()
            return None
        self.metrics.cache_hits.inc()
        return json.loads(raw)

    async def set_json(self, key: str, value: Any, ttl: int | None = None) -> None:
        await self.run("set", key, json.dumps(value, default=str),
                       ex=ttl or self.settings.cache_ttl)

    async def user_version(self, user_id: int) -> str | None:
        """A per-user counter bumped by every write; cache keys embed it, so a write
        invalidates every cached read of that user at once. None means: do not cache."""
        if not self._available():
            return None
        raw = await self.run("get", f"u:{user_id}:ver")
        if raw is None and not self._available():
            return None
        return raw.decode() if isinstance(raw, bytes) else str(raw or "0")

    async def bump_user(self, user_id: int) -> None:
        await self.run("incr", f"u:{user_id}:ver")

    async def hit_rate_limit(self, bucket: str, limit: int) -> bool:
        """Fixed one-minute window. Open (allowed) whenever Redis is unavailable."""
        if limit <= 0:
            return False
        key = f"rl:{bucket}:{int(time.time() // 60)}"
        count = await self.run("incr", key)
        if count is None:
            return False
        if count == 1:
            await self.run("expire", key, 61)
        return int(count) > limit

    async def ping(self) -> bool:
        return bool(await self.run("ping"))
