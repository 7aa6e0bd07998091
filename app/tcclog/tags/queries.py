from __future__ import annotations

from typing import Any

from tcclog.core.db import Conn

_COLS = "id, name, created_at"


async def insert(conn: Conn, user_id: int, name: str) -> dict[str, Any] | None:
    cur = await conn.execute(f"INSERT INTO tags (user_id, name) VALUES (%s, %s)"
                             f" ON CONFLICT (user_id, name) DO NOTHING RETURNING {_COLS}",
                             (user_id, name))
    return await cur.fetchone()


async def get(conn: Conn, user_id: int, tag_id: int) -> dict[str, Any] | None:
    cur = await conn.execute(f"SELECT {_COLS} FROM tags WHERE user_id = %s AND id = %s",
                             (user_id, tag_id))
    return await cur.fetchone()


async def list_page(conn: Conn, user_id: int, limit: int, after: int | None) -> list[dict]:
    cur = await conn.execute(f"SELECT {_COLS} FROM tags WHERE user_id = %s"
                             " AND (%s::bigint IS NULL OR id < %s) ORDER BY id DESC LIMIT %s",
                             (user_id, after, after, limit + 1))
    return await cur.fetchall()


async def rename(conn: Conn, user_id: int, tag_id: int, name: str) -> dict[str, Any] | None:
    cur = await conn.execute(f"UPDATE tags SET name = %s WHERE user_id = %s AND id = %s"
                             f" RETURNING {_COLS}", (name, user_id, tag_id))
    return await cur.fetchone()


async def delete(conn: Conn, user_id: int, tag_id: int) -> bool:
    cur = await conn.execute("DELETE FROM tags WHERE user_id = %s AND id = %s RETURNING id",
                             (user_id, tag_id))
    return await cur.fetchone() is not None
