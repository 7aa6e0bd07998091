"""psycopg 3 async pools: `rw` on the primary, `ro` on the replica with fallback to `rw`."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import structlog
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from tcclog.core.config import Settings

log = structlog.get_logger(__name__)

Conn = psycopg.AsyncConnection[dict]
REPLICA_RETRY_SECONDS = 5.0


def _pool(dsn: str, settings: Settings, name: str, check: bool) -> AsyncConnectionPool[Any]:
    return AsyncConnectionPool(
        dsn,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        kwargs={"autocommit": True, "row_factory": dict_row, "connect_timeout": 3},
        # Checking on checkout costs a round trip; only the replica pool needs it, to notice a
        # stopped replica and fall back. A broken primary connection is discarded on return.
        check=AsyncConnectionPool.check_connection if check else None,
        name=name,
        open=False,
        reconnect_timeout=0,  # keep trying forever: a replica may come back
    )


class Database:
    """Both pools plus a small circuit breaker so a dead replica costs one timeout, not one
    per request."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rw = _pool(settings.database_url, settings, "rw", check=False)
        ro_url = settings.database_ro_url
        self.ro = _pool(ro_url, settings, "ro", check=True) if ro_url else None
        self._replica_down_until = 0.0

    async def open(self) -> None:
        await self.rw.open(wait=False)
        if self.ro is not None:
            await self.ro.open(wait=False)

    async def close(self) -> None:
        await self.rw.close()
        if self.ro is not None:
            await self.ro.close()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Conn]:
        async with self.rw.connection(timeout=10) as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Conn]:
        """A replica connection, or the primary when the replica is unset or unreachable."""
        if self.ro is not None and time.monotonic() >= self._replica_down_until:
            try:
                conn = await self.ro.getconn(timeout=self.settings.db_ro_timeout)
            except (PoolTimeout, psycopg.OperationalError) as exc:
                self._replica_down_until = time.monotonic() + REPLICA_RETRY_SECONDS
                log.warning("replica_unavailable_fallback_to_primary", error=type(exc).__name__)
            else:
                try:
                    yield conn
                finally:
                    await self.ro.putconn(conn)
                return
        async with self.write() as conn:
            yield conn

    def replica_in_use(self) -> bool:
        return self.ro is not None and time.monotonic() >= self._replica_down_until

    def pool_stats(self) -> dict[str, dict[str, int]]:
        out = {"rw": self.rw.get_stats()}
        if self.ro is not None:
            out["ro"] = self.ro.get_stats()
        return out
