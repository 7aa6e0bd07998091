from __future__ import annotations

from typing import Any

from psycopg import sql

from tcclog.core.db import Conn

_COLS = "id, url, title, entry_id, created_at"
_UPDATABLE = ("url", "title", "entry_id")


async def insert(conn: Conn, user_id: int, url: str, title: str,
                 entry_id: int | None) -> dict[str, Any] | None:
    cur = await conn.execute(f"INSERT INTO links (user_id, url, title, entry_id)"
                             f" VALUES (%s, %s, %s, %s) RETURNING {_COLS}",
                             (user_id, url, title, entry_id))
    return await cur.fetchone()


async def get(conn: Conn, user_id: int, link_id: int) -> dict[str, Any] | None:
    cur = await conn.execute(f"SELECT {_COLS} FROM links WHERE user_id = %s AND id = %s",
                             (user_id, link_id))
    return await cur.fetchone()


async def list_page(conn: Conn, user_id: int, limit: int, after: int | None,
                    entry_id: int | None) -> list[dict]:
    cur = await conn.execute(
        f"SELECT {_COLS} FROM links WHERE user_id = %s AND (%s::bigint IS NULL OR id < %s)"
        " AND (%s::bigint IS NULL OR entry_id = %s) ORDER BY id DESC LIMIT %s",
        (user_id, after, after, entry_id, entry_id, limit + 1))
    return await cur.fetchall()


async def update(conn: Conn, user_id: int, link_id: int,
                 fields: dict[str, Any]) -> dict[str, Any] | None:
    assignments = [sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k))
                   for k in fields if k in _UPDATABLE]
    if not assignments:
        return await get(conn, user_id, link_id)
    query = sql.SQL("UPDATE links SET {} WHERE user_id = %(uid)s AND id = %(id)s RETURNING "
                    + _COLS).format(sql.SQL(", ").join(assignments))
    cur = await conn.execute(query, {**fields, "uid": user_id, "id": link_id})
    return await cur.fetchone()


async def delete(conn: Conn, user_id: int, link_id: int) -> bool:
    cur = await conn.execute("DELETE FROM links WHERE user_id = %s AND id = %s RETURNING id",
                             (user_id, link_id))
    return await cur.fetchone() is not None
