from __future__ import annotations

from fastapi import HTTPException, status
from starlette.concurrency import run_in_threadpool

from tcclog.core.cache import Cache
from tcclog.core.config import Settings
from tcclog.core.db import Conn, Database
from tcclog.core.security import create_token, hash_password, verify_password
from tcclog.core.storage import Storage
from tcclog.files import service as files_service
from tcclog.users import queries
from tcclog.users.schemas import Export, Token, UserCreate, UserPublic

# Verifying against a real hash even for unknown emails keeps response time from
# revealing which addresses are registered.
_DUMMY_HASH = hash_password("not-a-real-password")


async def register(conn: Conn, body: UserCreate) -> UserPublic:
    hashed = await run_in_threadpool(hash_password, body.password)
    row = await queries.insert_user(conn, body.email, hashed)
    if row is None:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail=[{"loc": ["body", "email"], "msg": "email already registered",
                                     "type": "conflict"}])
    return UserPublic(**row)


async def login(conn: Conn, settings: Settings, email: str, password: str) -> Token:
    row = await queries.user_by_email(conn, email.strip())
    ok = await run_in_threadpool(verify_password, password,
                                row["password_hash"] if row else _DUMMY_HASH)
    if row is None or not ok:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "incorrect email or password",
                            headers={"WWW-Authenticate": "Bearer"})
    token = create_token(row["id"], settings.jwt_secret.get_secret_value(),
                         settings.jwt_ttl_minutes)
    return Token(access_token=token)


async def me(conn: Conn, user_id: int) -> UserPublic:
    row = await queries.user_by_id(conn, user_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "user not found")
    return UserPublic(**row)


async def export(conn: Conn, user_id: int) -> Export:
    user = await me(conn, user_id)
    return Export(user=user, **await queries.export_rows(conn, user_id))


async def erase(db: Database, storage: Storage, cache: Cache, user_id: int) -> None:
    """GDPR Art. 17: S3 objects first (their keys live in the rows), then every row."""
    async with db.write() as conn:
        keys = await files_service.keys_of_user(conn, user_id)
        await files_service.delete_objects(storage, keys)
        await queries.delete_user(conn, user_id)
    await cache.bump_user(user_id)
