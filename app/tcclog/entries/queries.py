"""Entry SQL. Every statement takes the owner's id; there is no unscoped query here."""

from __future__ import annotations

from typing import Any

from psycopg import sql

from tcclog.core.db import Conn

_COLUMNS = """e.id, e.title, e.content, e.topic_id, e.created_at, e.updated_at,
  ARRAY(SELECT et.tag_id FROM entry_tags et WHERE et.entry_id = e.id ORDER BY et.tag_id)
    AS tag_ids"""
_UPDATABLE = ("title", "content", "topic_id")


def _filters(user_id: int, topic_id: int | None, tag_id: int | None) -> tuple[str, list[Any]]:
    where, params = ["e.user_id = %s"], [user_id]
    if topic_id is not None:
        where.append("e.topic_id = %s")
        params.append(topic_id)
    if tag_id is not None:
        where.append("EXISTS (SELECT 1 FROM entry_tags t WHERE t.entry_id = e.id"
                     " AND t.tag_id = %s)")
        params.append(tag_id)
    return " AND ".join(where), params


async def insert(conn: Conn, user_id: int, title: str, content: str,
                 topic_id: int | None) -> int:
    cur = await conn.execute("INSERT INTO entries (user_id, title, content, topic_id)"
                             " VALUES (%s, %s, %s, %s) RETURNING id",
                             (user_id, title, content, topic_id))
    row = await cur.fetchone()
    assert row is not None
    return row["id"]


async def set_tags(conn: Conn, user_id: int, entry_id: int, tag_ids: list[int]) -> None:
    await conn.execute("DELETE FROM entry_tags WHERE user_id = %s AND entry_id = %s",
                       (user_id, entry_id))
    if tag_ids:
        async with conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO entry_tags (user_id, entry_id, tag_id) VALUES (%s, %s, %s)",
                [(user_id, entry_id, t) for t in sorted(set(tag_ids))])


async def get(conn: Conn, user_id: int, entry_id: int) -> dict[str, Any] | None:
    cur = await conn.execute(f"SELECT {_COLUMNS} FROM entries e"
                             " WHERE e.user_id = %s AND e.id = %s", (user_id, entry_id))
    return await cur.fetchone()


async def list_page(conn: Conn, user_id: int, limit: int, after: int | None,
                    topic_id: int | None, tag_id: int | None) -> list[dict[str, Any]]:
    where, params = _filters(user_id, topic_id, tag_id)
    if after is not None:
        where += " AND e.id < %s"
        params.append(after)
    cur = await conn.execute(f"SELECT {_COLUMNS} FROM entries e WHERE {where}"
                             " ORDER BY e.id DESC LIMIT %s", [*params, limit + 1])
    return await cur.fetchall()


SEARCH_SQL = f"""SELECT {_COLUMNS}, ts_rank(e.search, q) AS rank
  FROM entries e, websearch_to_tsquery('english', %s) q
  WHERE {{where}} AND e.search @@ q
  ORDER BY rank DESC, e.id DESC LIMIT %s"""


async def search(conn: Conn, user_id: int, text: str, limit: int, topic_id: int | None,
                 tag_id: int | None) -> list[dict[str, Any]]:
    where, params = _filters(user_id, topic_id, tag_id)
    cur = await conn.execute(SEARCH_SQL.format(where=where), [text, *params, limit])
    return await cur.fetchall()


async def update(conn: Conn, user_id: int, entry_id: int, fields: dict[str, Any]) -> bool:
    assignments: list[sql.Composable] = [
        sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k))
        for k in fields if k in _UPDATABLE]
    assignments.append(sql.SQL("updated_at = now()"))
    query = sql.SQL("UPDATE entries SET {} WHERE user_id = %(uid)s AND id = %(id)s"
                    " RETURNING id").format(sql.SQL(", ").join(assignments))
    cur = await conn.execute(query, {**fields, "uid": user_id, "id": entry_id})
    return await cur.fetchone() is not None


async def delete(conn: Conn, user_id: int, entry_id: int) -> bool:
    cur = await conn.execute("DELETE FROM entries WHERE user_id = %s AND id = %s RETURNING id",
                             (user_id, entry_id))
    return await cur.fetchone() is not None
