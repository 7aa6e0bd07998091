from __future__ import annotations

from tcclog.core.cache import Cache
from tcclog.core.db import Conn
from tcclog.core.errors import decode_cursor, integrity_as_422, not_found, page
from tcclog.links import queries
from tcclog.links.schemas import LinkCreate, LinkList, LinkPublic, LinkUpdate


async def create(conn: Conn, cache: Cache, user_id: int, body: LinkCreate) -> LinkPublic:
    async with integrity_as_422():
        row = await queries.insert(conn, user_id, str(body.url), body.title, body.entry_id)
    assert row is not None
    await cache.bump_user(user_id)
    return LinkPublic(**row)


async def get_owned_or_404(conn: Conn, user_id: int, link_id: int) -> LinkPublic:
    row = await queries.get(conn, user_id, link_id)
    if row is None:
        raise not_found("link")
    return LinkPublic(**row)


async def list_links(conn: Conn, user_id: int, limit: int, cursor: str | None,
                     entry_id: int | None) -> LinkList:
    rows = await queries.list_page(conn, user_id, limit, decode_cursor(cursor), entry_id)
    data, next_cursor = page(rows, limit)
    return LinkList(data=[LinkPublic(**r) for r in data], next_cursor=next_cursor)


async def update(conn: Conn, cache: Cache, user_id: int, link_id: int,
                 body: LinkUpdate) -> LinkPublic:
    fields = body.model_dump(exclude_unset=True)
    fields = {k: v for k, v in fields.items() if v is not None or k == "entry_id"}
    if "url" in fields:
        fields["url"] = str(fields["url"])
    async with integrity_as_422():
        row = await queries.update(conn, user_id, link_id, fields)
    if row is None:
        raise not_found("link")
    await cache.bump_user(user_id)
    return LinkPublic(**row)


async def delete(conn: Conn, cache: Cache, user_id: int, link_id: int) -> None:
    if not await queries.delete(conn, user_id, link_id):
        raise not_found("link")
    await cache.bump_user(user_id)
