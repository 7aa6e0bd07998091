from __future__ import annotations

from fastapi import HTTPException
from psycopg.errors import UniqueViolation

from tcclog.core.cache import Cache
from tcclog.core.db import Conn
from tcclog.core.errors import decode_cursor, field_error, not_found, page
from tcclog.tags import queries
from tcclog.tags.schemas import TagCreate, TagList, TagPublic, TagUpdate


def _duplicate() -> HTTPException:
    return field_error(["body", "name"], "a tag with this name already exists", code=409,
                       kind="conflict")


async def create(conn: Conn, cache: Cache, user_id: int, body: TagCreate) -> TagPublic:
    row = await queries.insert(conn, user_id, body.name)
    if row is None:
        raise _duplicate()
    await cache.bump_user(user_id)
    return TagPublic(**row)


async def get_owned_or_404(conn: Conn, user_id: int, tag_id: int) -> TagPublic:
    row = await queries.get(conn, user_id, tag_id)
    if row is None:
        raise not_found("tag")
    return TagPublic(**row)


async def list_tags(conn: Conn, user_id: int, limit: int, cursor: str | None) -> TagList:
    rows = await queries.list_page(conn, user_id, limit, decode_cursor(cursor))
    data, next_cursor = page(rows, limit)
    return TagList(data=[TagPublic(**r) for r in data], next_cursor=next_cursor)


async def update(conn: Conn, cache: Cache, user_id: int, tag_id: int,
                 body: TagUpdate) -> TagPublic:
    try:
        row = await queries.rename(conn, user_id, tag_id, body.name)
    except UniqueViolation as exc:
        raise _duplicate() from exc
    if row is None:
        raise not_found("tag")
    await cache.bump_user(user_id)
    return TagPublic(**row)


async def delete(conn: Conn, cache: Cache, user_id: int, tag_id: int) -> None:
    if not await queries.delete(conn, user_id, tag_id):
        raise not_found("tag")
    await cache.bump_user(user_id)
