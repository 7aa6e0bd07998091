from __future__ import annotations

from typing import Any

from tcclog.core.db import Conn

_EXPORT = {
    "entries": """SELECT e.id, e.title, e.content, e.topic_id, e.created_at, e.updated_at,
                    coalesce(array_agg(et.tag_id ORDER BY et.tag_id)
                             FILTER (WHERE et.tag_id IS NOT NULL), '{}') AS tag_ids
                  FROM entries e LEFT JOIN entry_tags et ON et.entry_id = e.id
                  WHERE e.user_id = %s GROUP BY e.id ORDER BY e.id""",
    "tags": "SELECT id, name, created_at FROM tags WHERE user_id = %s ORDER BY id",
    "topics": "SELECT id, name, created_at FROM topics WHERE user_id = %s ORDER BY id",
    "links": "SELECT id, url, title, entry_id, created_at FROM links WHERE user_id = %s"
             " ORDER BY id",
    "files": "SELECT id, filename, content_type, size, sha256, created_at FROM files"
             " WHERE user_id = %s ORDER BY id",
    "galleries": """SELECT g.id, g.title, g.created_at,
                      coalesce(array_agg(gf.file_id ORDER BY gf.position)
                               FILTER (WHERE gf.file_id IS NOT NULL), '{}') AS file_ids
                    FROM galleries g LEFT JOIN gallery_files gf ON gf.gallery_id = g.id
                    WHERE g.user_id = %s GROUP BY g.id ORDER BY g.id""",
}


async def insert_user(conn: Conn, email: str, password_hash: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        "INSERT INTO users (email, password_hash) VALUES (%s, %s) ON CONFLICT DO NOTHING"
        " RETURNING id, email, created_at", (email, password_hash))
    return await cur.fetchone()


async def user_by_email(conn: Conn, email: str) -> dict[str, Any] | None:
    cur = await conn.execute("SELECT id, email, password_hash, created_at FROM users"
                             " WHERE lower(email) = lower(%s)", (email,))
    return await cur.fetchone()


async def user_by_id(conn: Conn, user_id: int) -> dict[str, Any] | None:
    cur = await conn.execute("SELECT id, email, created_at FROM users WHERE id = %s", (user_id,))
    return await cur.fetchone()


async def export_rows(conn: Conn, user_id: int) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for name, sql in _EXPORT.items():
        out[name] = await (await conn.execute(sql, (user_id,))).fetchall()
    return out


async def delete_user(conn: Conn, user_id: int) -> None:
    await conn.execute("DELETE FROM users WHERE id = %s", (user_id,))
