from __future__ import annotations

from typing import Any

from tcclog.core.db import Conn

_COLS = "id, filename, content_type, size, sha256, created_at"


async def insert(conn: Conn, user_id: int, filename: str, content_type: str, size: int,
                 sha256: str, s3_key: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        "INSERT INTO files (user_id, filename, content_type, size, sha256, s3_key)"
        f" VALUES (%s, %s, %s, %s, %s, %s) RETURNING {_COLS}",
        (user_id, filename, content_type, size, sha256, s3_key))
    return await cur.fetchone()


async def get(conn: Conn, user_id: int, file_id: int) -> dict[str, Any] | None:
    cur = await conn.execute(f"SELECT {_COLS}, s3_key FROM files WHERE user_id = %s AND id = %s",
                             (user_id, file_id))
    return await cur.fetchone()


async def list_page(conn: Conn, user_id: int, limit: int, after: int | None) -> list[dict]:
    cur = await conn.execute(f"SELECT {_COLS} FROM files WHERE user_id = %s"
                             " AND (%s::bigint IS NULL OR id < %s) ORDER BY id DESC LIMIT %s",
                             (user_id, after, after, limit + 1))
    return await cur.fetchall()


async def delete(conn: Conn, user_id: int, file_id: int) -> str | None:
    cur = await conn.execute("DELETE FROM files WHERE user_id = %s AND id = %s RETURNING s3_key",
                             (user_id, file_id))
    row = await cur.fetchone()
    return row["s3_key"] if row else None


async def keys_of_user(conn: Conn, user_id: int) -> list[str]:
    cur = await conn.execute("SELECT s3_key FROM files WHERE user_id = %s", (user_id,))
    return [r["s3_key"] for r in await cur.fetchall()]
