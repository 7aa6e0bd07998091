from __future__ import annotations

from tcclog.core.cache import Cache
from tcclog.core.db import Conn
from tcclog.core.errors import decode_cursor, field_error, integrity_as_422, not_found, page
from tcclog.galleries import queries
from tcclog.galleries.schemas import GalleryCreate, GalleryList, GalleryPublic, GalleryUpdate


def _check_unique(file_ids: list[int]) -> None:
    if len(set(file_ids)) != len(file_ids):
        raise field_error(["body", "file_ids"], "a file may appear only once in a gallery")


async def create(conn: Conn, cache: Cache, user_id: int, body: GalleryCreate) -> GalleryPublic:
    _check_unique(body.file_ids)
    async with integrity_as_422(), conn.transaction():
        gallery_id = await queries.insert(conn, user_id, body.title)
        await queries.set_files(conn, user_id, gallery_id, body.file_ids)
    await cache.bump_user(user_id)
    return await get_owned_or_404(conn, user_id, gallery_id)


async def get_owned_or_404(conn: Conn, user_id: int, gallery_id: int) -> GalleryPublic:
    row = await queries.get(conn, user_id, gallery_id)
    if row is None:
        raise not_found("gallery")
    return GalleryPublic(**row)


async def list_galleries(conn: Conn, user_id: int, limit: int, cursor: str | None) -> GalleryList:
    rows = await queries.list_page(conn, user_id, limit, decode_cursor(cursor))
    data, next_cursor = page(rows, limit)
    return GalleryList(data=[GalleryPublic(**r) for r in data], next_cursor=next_cursor)


async def update(conn: Conn, cache: Cache, user_id: int, gallery_id: int,
                 body: GalleryUpdate) -> GalleryPublic:
    if body.file_ids is not None:
        _check_unique(body.file_ids)
    async with integrity_as_422(), conn.transaction():
        if not await queries.rename(conn, user_id, gallery_id, body.title):
            raise not_found("gallery")
        if body.file_ids is not None:
            await queries.set_files(conn, user_id, gallery_id, body.file_ids)
    await cache.bump_user(user_id)
    return await get_owned_or_404(conn, user_id, gallery_id)


async def delete(conn: Conn, cache: Cache, user_id: int, gallery_id: int) -> None:
    if not await queries.delete(conn, user_id, gallery_id):
        raise not_found("gallery")
    await cache.bump_user(user_id)
