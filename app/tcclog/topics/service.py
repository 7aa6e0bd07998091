from __future__ import annotations

from fastapi import HTTPException
from psycopg.errors import UniqueViolation

from tcclog.core.cache import Cache
from tcclog.core.db import Conn
from tcclog.core.errors import decode_cursor, field_error, not_found, page
from tcclog.topics import queries
from tcclog.topics.schemas import TopicCreate, TopicList, TopicPublic, TopicUpdate


def _duplicate() -> HTTPException:
    return field_error(["body", "name"], "a topic with this name already exists", code=409,
                       kind="conflict")


async def create(conn: Conn, cache: Cache, user_id: int, body: TopicCreate) -> TopicPublic:
    row = await queries.insert(conn, user_id, body.name)
    if row is None:
        raise _duplicate()
    await cache.bump_user(user_id)
    return TopicPublic(**row)


async def get_owned_or_404(conn: Conn, user_id: int, topic_id: int) -> TopicPublic:
    row = await queries.get(conn, user_id, topic_id)
    if row is None:
        raise not_found("topic")
    return TopicPublic(**row)


async def list_topics(conn: Conn, user_id: int, limit: int, cursor: str | None) -> TopicList:
    rows = await queries.list_page(conn, user_id, limit, decode_cursor(cursor))
    data, next_cursor = page(rows, limit)
    return TopicList(data=[TopicPublic(**r) for r in data], next_cursor=next_cursor)


async def update(conn: Conn, cache: Cache, user_id: int, topic_id: int,
                 body: TopicUpdate) -> TopicPublic:
    try:
        row = await queries.rename(conn, user_id, topic_id, body.name)
    except UniqueViolation as exc:
        raise _duplicate() from exc
    if row is None:
        raise not_found("topic")
    await cache.bump_user(user_id)
    return TopicPublic(**row)


async def delete(conn: Conn, cache: Cache, user_id: int, topic_id: int) -> None:
    if not await queries.delete(conn, user_id, topic_id):
        raise not_found("topic")
    await cache.bump_user(user_id)
