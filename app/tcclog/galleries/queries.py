from __future__ import annotations

from typing import Any

from tcclog.core.db import Conn

_COLS = """g.id, g.title, g.created_at, ARRAY(SELECT gf.file_id FROM gallery_files gf
  WHERE gf.gallery_id = g.id ORDER BY gf.position) AS file_ids"""


async def insert(conn: Conn, user_id: int, title: str) -> int:
    cur = await conn.execute("INSERT INTO galleries (user_id, title) VALUES (%s, %s)"
                             " RETURNING id", (user_id, title))
    row = await cur.fetchone()
    assert row is not None
    return row["id"]


async def set_files(conn: Conn, user_id: int, gallery_id: int, file_ids: list[int]) -> None:
    await conn.execute("DELETE FROM gallery_files WHERE user_id = %s AND gallery_id = %s",
                       (user_id, gallery_id))
    if file_ids:
        async with conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO gallery_files (user_id, gallery_id, file_id, position)"
                " VALUES (%s, %s, %s, %s)",
                [(user_id, gallery_id, f, i) for i, f in enumerate(file_ids)])


async def get(conn: Conn, user_id: int, gallery_id: int) -> dict[str, Any] | None:
    cur = await conn.execute(f"SELECT {_COLS} FROM galleries g WHERE g.user_id = %s"
                             " AND g.id = %s", (user_id, gallery_id))
    return await cur.fetchone()


async def list_page(conn: Conn, user_id: int, limit: int, after: int | None) -> list[dict]:
    cur = await conn.execute(f"SELECT {_COLS} FROM galleries g WHERE g.user_id = %s"
                             " AND (%s::bigint IS NULL OR g.id < %s) ORDER BY g.id DESC"
                             " LIMIT %s", (user_id, after, after, limit + 1))
    return await cur.fetchall()


async def rename(conn: Conn, user_id: int, gallery_id: int, title: str | None) -> bool:
    cur = await conn.execute("UPDATE galleries SET title = coalesce(%s, title)"
                             " WHERE user_id = %s AND id = %s RETURNING id",
                             (title, user_id, gallery_id))
    return await cur.fetchone() is not None


async def delete(conn: Conn, user_id: int, gallery_id: int) -> bool:
    cur = await conn.execute("DELETE FROM galleries WHERE user_id = %s AND id = %s"
                             " RETURNING id", (user_id, gallery_id))
    return await cur.fetchone() is not None
