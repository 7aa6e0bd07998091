from __future__ import annotations

from typing import Any

from tcclog.core.cache import Cache
from tcclog.core.db import Conn, Database
from tcclog.core.errors import decode_cursor, integrity_as_422, not_found, page
from tcclog.entries import queries
from tcclog.entries.schemas import (
    EntryCreate,
    EntryList,
    EntryPublic,
    EntryUpdate,
    SearchHit,
    SearchResults,
)


async def create(conn: Conn, cache: Cache, user_id: int, body: EntryCreate) -> EntryPublic:
    async with integrity_as_422(), conn.transaction():
        entry_id = await queries.insert(conn, user_id, body.title, body.content, body.topic_id)
        await queries.set_tags(conn, user_id, entry_id, body.tag_ids)
    await cache.bump_user(user_id)
    # Read-after-write on the same (primary) connection.
    return await get_owned_or_404(conn, user_id, entry_id)


async def get_owned_or_404(conn: Conn, user_id: int, entry_id: int) -> EntryPublic:
    row = await queries.get(conn, user_id, entry_id)
    if row is None:
        raise not_found("entry")
    return EntryPublic(**row)


async def get_cached(db: Database, cache: Cache, user_id: int, entry_id: int) -> EntryPublic:
    """Served from Redis when possible; a database connection is taken only on a miss, and
    it is the primary's: a lagging replica must not put a stale copy in the cache under the
    new version for a whole TTL."""
    version = await cache.user_version(user_id)
    key = f"u:{user_id}:v{version}:entry:{entry_id}"
    if version is not None and (hit := await cache.get_json(key)) is not None:
        return EntryPublic(**hit)
    async with db.write() if version is not None else db.read() as conn:
        entry = await get_owned_or_404(conn, user_id, entry_id)
    if version is not None:
        await cache.set_json(key, entry.model_dump(mode="json"))
    return entry


async def list_entries(db: Database, cache: Cache, user_id: int, limit: int, cursor: str | None,
                       topic_id: int | None, tag_id: int | None) -> EntryList:
    after = decode_cursor(cursor)
    version = await cache.user_version(user_id)
    key = f"u:{user_id}:v{version}:entries:{limit}:{after}:{topic_id}:{tag_id}"
    if version is not None and (hit := await cache.get_json(key)) is not None:
        return EntryList(**hit)
    async with db.write() if version is not None else db.read() as conn:  # see get_cached
        rows = await queries.list_page(conn, user_id, limit, after, topic_id, tag_id)
    data, next_cursor = page(rows, limit)
    result = EntryList(data=[EntryPublic(**r) for r in data], next_cursor=next_cursor)
    if version is not None:
        await cache.set_json(key, result.model_dump(mode="json"))
    return result


async def search(conn: Conn, user_id: int, text: str, limit: int, topic_id: int | None = None,
                 tag_id: int | None = None) -> SearchResults:
    rows = await queries.search(conn, user_id, text, limit, topic_id, tag_id)
    return SearchResults(data=[SearchHit(**r) for r in rows])


async def update(conn: Conn, cache: Cache, user_id: int, entry_id: int,
                 body: EntryUpdate) -> EntryPublic:
    fields: dict[str, Any] = body.model_dump(exclude_unset=True)
    tag_ids = fields.pop("tag_ids", None)
    for required in ("title", "content"):
        if required in fields and fields[required] is None:
            fields.pop(required)
    async with integrity_as_422(), conn.transaction():
        if not await queries.update(conn, user_id, entry_id, fields):
            raise not_found("entry")
        if tag_ids is not None:
            await queries.set_tags(conn, user_id, entry_id, tag_ids)
    await cache.bump_user(user_id)
    return await get_owned_or_404(conn, user_id, entry_id)


async def delete(conn: Conn, cache: Cache, user_id: int, entry_id: int) -> None:
    if not await queries.delete(conn, user_id, entry_id):
        raise not_found("entry")
    await cache.bump_user(user_id)
