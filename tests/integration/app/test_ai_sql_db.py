"""The SQL tool's database-side guarantees, with the lexical guard switched off: even a
statement that slipped past it cannot write, read other users' rows or run long."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tcclog.ai import tools
from tcclog.core.config import Settings
from tcclog.core.db import Database
from tests.integration.conftest import new_user


def _run(settings: Settings, user_id: int, query: str) -> list[dict[str, Any]]:
    async def go() -> list[dict[str, Any]]:
        db = Database(settings)
        await db.open()
        try:
            return await tools.run_readonly_select(db, settings, user_id, query)
        finally:
            await db.close()

    return asyncio.run(go())


@pytest.mark.parametrize("query, error", [
    ("WITH d AS (DELETE FROM entries RETURNING *) SELECT * FROM d",
     psycopg.errors.FeatureNotSupported),
    ("SELECT * FROM users", psycopg.errors.InsufficientPrivilege),
    ("SELECT pg_sleep(5)", psycopg.errors.QueryCanceled),
    ("SELECT 1; DELETE FROM entries", psycopg.errors.SyntaxError),
    ("SELECT nextval('entries_id_seq')", psycopg.errors.InsufficientPrivilege),
])
def test_database_refuses_without_the_guard(client: TestClient, base_settings: dict[str, Any],
                                            monkeypatch: pytest.MonkeyPatch, query: str,
                                            error: type[Exception]) -> None:
    monkeypatch.setattr(tools, "check_select", lambda q: q)
    settings = Settings(**{**base_settings, "ai_sql_timeout_ms": 300})
    with pytest.raises(error):
        _run(settings, 1, query)


def test_row_level_security_hides_other_users_rows(client: TestClient,
                                                   base_settings: dict[str, Any],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tools, "check_select", lambda q: q)
    alice, bob = new_user(client), new_user(client)
    client.post("/api/v1/entries", json={"title": "alice only"}, headers=alice)
    client.post("/api/v1/entries", json={"title": "bob only"}, headers=bob)
    alice_id = client.get("/api/v1/me", headers=alice).json()["id"]
    settings = Settings(**base_settings)
    rows = _run(settings, alice_id, "SELECT title, user_id FROM entries")
    assert rows == [{"title": "alice only", "user_id": alice_id}]
    assert _run(settings, 0, "SELECT title FROM entries") == []
    for table in ("tags", "topics", "links", "files", "galleries", "entry_tags"):
        assert all(r["user_id"] == alice_id
                   for r in _run(settings, alice_id, f"SELECT user_id FROM {table}"))
