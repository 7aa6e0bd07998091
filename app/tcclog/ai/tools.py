"""The agent's tools, built per request around the caller's id (never taken from the model)."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import structlog
from langchain_core.tools import BaseTool, tool
from psycopg import sql

from tcclog.ai.sql_guard import UnsafeQuery, check_select
from tcclog.core.config import Settings
from tcclog.core.db import Database
from tcclog.core.migrations import AI_ROLE
from tcclog.entries import service as entries_service

log = structlog.get_logger(__name__)
MAX_TOOL_OUTPUT = 8000

SCHEMA_HINT = """Tables you may query (only your own rows are visible):
entries(id, topic_id, title, content, created_at, updated_at), tags(id, name, created_at),
topics(id, name, created_at), entry_tags(entry_id, tag_id), links(id, url, title, entry_id,
created_at), files(id, filename, content_type, size, created_at), galleries(id, title,
created_at), gallery_files(gallery_id, file_id, position)."""


def _dump(value: Any) -> str:
    return json.dumps(value, default=str)[:MAX_TOOL_OUTPUT]


async def run_readonly_select(db: Database, settings: Settings, user_id: int,
                              query: str) -> list[dict[str, Any]]:
    """Run one SELECT as the read-only AI role, row-level security scoped to `user_id`,
    inside a READ ONLY transaction with a statement timeout and a row cap."""
    statement = check_select(query)
    cap = settings.ai_sql_row_cap
    wrapped = sql.SQL("SELECT * FROM ({}) AS ai_query LIMIT {}").format(
        sql.SQL(statement.replace("%", "%%")), sql.Literal(cap))
    async with db.read() as conn, conn.transaction():
        await conn.execute("SET TRANSACTION READ ONLY")
        await conn.execute(
            "SELECT set_config('tcclog.user_id', %s, true),"
            " set_config('statement_timeout', %s, true)",
            (str(user_id), str(settings.ai_sql_timeout_ms)))
        await conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(AI_ROLE)))
        # Passing (empty) params forces the extended protocol: one statement, never several.
        cur = await conn.execute(wrapped, ())
        return await cur.fetchmany(cap)


def build_tools(db: Database, settings: Settings, user_id: int) -> list[BaseTool]:
    @tool
    async def search_my_entries(query: str) -> str:
        """Full-text search over my log entries. Returns the best matches with id, title and
        an excerpt of the content."""
        try:
            async with db.read() as conn:
                hits = await entries_service.search(conn, user_id, query[:500].replace(
                    "\x00", ""), limit=5)
        except psycopg.Error as exc:
            return f"error: search failed ({type(exc).__name__})"
        return _dump([{"id": h.id, "title": h.title, "excerpt": h.content[:300],
                       "created_at": h.created_at} for h in hits.data])

    @tool
    async def run_sql(query: str) -> str:
        """Run ONE read-only PostgreSQL SELECT over my own data and return the rows as JSON.
        """
        try:
            rows = await run_readonly_select(db, settings, user_id, query)
        except UnsafeQuery as exc:
            return f"error: refused: {exc}"
        except psycopg.Error as exc:
            log.info("ai_sql_failed", error=type(exc).__name__)
            message = (exc.diag.message_primary or type(exc).__name__)[:300]
            return f"error: {message}"
        return _dump(rows)

    run_sql.description += SCHEMA_HINT
    return [search_my_entries, run_sql]
