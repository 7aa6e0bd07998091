"""`Annotated` dependency aliases: the only way routers reach settings, pools and clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from tcclog.core.cache import Cache
from tcclog.core.config import Settings
from tcclog.core.db import Conn, Database
from tcclog.core.metrics import Metrics
from tcclog.core.security import decode_token
from tcclog.core.storage import Storage

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

# Dependencies are `async def` on purpose: FastAPI runs plain `def` ones in the thread pool,
# a thread hop per dependency per request.


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _database(request: Request) -> Database:
    return request.app.state.db


async def _cache(request: Request) -> Cache:
    return request.app.state.cache


async def _storage(request: Request) -> Storage:
    return request.app.state.storage


async def _metrics(request: Request) -> Metrics:
    return request.app.state.metrics


SettingsDep = Annotated[Settings, Depends(_settings)]
DatabaseDep = Annotated[Database, Depends(_database)]
CacheDep = Annotated[Cache, Depends(_cache)]
StorageDep = Annotated[Storage, Depends(_storage)]
MetricsDep = Annotated[Metrics, Depends(_metrics)]


async def _write_conn(db: DatabaseDep) -> AsyncIterator[Conn]:
    async with db.write() as conn:
        yield conn


async def _read_conn(db: DatabaseDep) -> AsyncIterator[Conn]:
    async with db.read() as conn:
        yield conn


DbDep = Annotated[Conn, Depends(_write_conn)]
ReadDbDep = Annotated[Conn, Depends(_read_conn)]


@dataclass(frozen=True)
class AuthUser:
    id: int
    email: str


_UNAUTHORIZED = HTTPException(status.HTTP_401_UNAUTHORIZED, "not authenticated",
                              headers={"WWW-Authenticate": "Bearer"})


async def _current_user(request: Request, settings: SettingsDep, db: DatabaseDep,
                        cache: CacheDep, token: Annotated[str | None, Depends(oauth2)]) -> AuthUser:
    if not token:
        raise _UNAUTHORIZED
    user_id = decode_token(token, settings.jwt_secret.get_secret_value())
    if user_id is None:
        raise _UNAUTHORIZED
    # A token outlives DELETE /me: check the user still exists. A miss on the replica is
    # re-checked on the primary, so replication lag right after registering is harmless.
    row = None
    for connect in (db.read, db.write):
        async with connect() as conn:
            row = await (await conn.execute("SELECT id, email FROM users WHERE id = %s",
                                            (user_id,))).fetchone()
        if row is not None:
            break
    if row is None:
        raise _UNAUTHORIZED
    if await cache.hit_rate_limit(f"user:{user_id}", settings.rate_limit_per_minute):
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "rate limit exceeded",
                            headers={"Retry-After": "60"})
    request.state.user_id = user_id
    return AuthUser(id=row["id"], email=row["email"])


CurrentUser = Annotated[AuthUser, Depends(_current_user)]


async def limit_by_client_ip(request: Request, settings: SettingsDep, cache: CacheDep) -> None:
    """Unauthenticated endpoints (register, token) are limited per client address."""
    client = request.client.host if request.client else "unknown"
    if await cache.hit_rate_limit(f"ip:{client}", settings.rate_limit_per_minute):
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "rate limit exceeded",
                            headers={"Retry-After": "60"})
