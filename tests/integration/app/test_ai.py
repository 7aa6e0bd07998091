"""POST /api/v1/ai/chat over HTTP against a scripted OpenAI-compatible server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.integration.app.fake_llm import FakeLLM
from tests.integration.conftest import make_client, new_user

API = "/api/v1/ai/chat"


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


@pytest.fixture(scope="module")
def ai_client(base_settings: dict[str, Any], llm: FakeLLM) -> Iterator[TestClient]:
    with make_client(**{**base_settings, "ai_base_url": llm.base_url, "ai_timeout": 3.0,
                        "ai_sql_row_cap": 5}) as client:
        yield client


def _ask(client: TestClient, headers: dict[str, str], question: str) -> Any:
    response = client.post(API, json={"question": question}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_search_tool_answers_from_my_entries_and_is_cached(ai_client: TestClient,
                                                          llm: FakeLLM) -> None:
    me, other = new_user(ai_client), new_user(ai_client)
    word = "kw" + uuid.uuid4().hex[:8]
    ai_client.post("/api/v1/entries", json={"title": f"{word} mine"}, headers=me)
    ai_client.post("/api/v1/entries", json={"title": f"{word} theirs"}, headers=other)
    calls_before = len(llm.calls)
    first = _ask(ai_client, me, f"SEARCH: {word}")
    assert first["tools_used"] == ["search_my_entries"] and not first["cached"]
    assert f"{word} mine" in first["answer"] and "theirs" not in first["answer"]
    assert len(llm.calls) == calls_before + 2  # tool call, then the final answer
    second = _ask(ai_client, me, f"SEARCH: {word}")
    assert second["cached"] and second["answer"] == first["answer"]
    assert len(llm.calls) == calls_before + 2
    # a write invalidates cached answers
    ai_client.post("/api/v1/entries", json={"title": f"{word} newer"}, headers=me)
    third = _ask(ai_client, me, f"SEARCH: {word}")
    assert not third["cached"] and "newer" in third["answer"]


def test_sql_tool_reads_only_my_rows_with_a_row_cap(ai_client: TestClient) -> None:
    me, other = new_user(ai_client), new_user(ai_client)
    for i in range(8):
        ai_client.post("/api/v1/entries", json={"title": f"mine {i}"}, headers=me)
    ai_client.post("/api/v1/entries", json={"title": "not yours"}, headers=other)
    answer = _ask(ai_client, me, "SQL: SELECT count(*) AS n FROM entries")["answer"]
    assert '"n": 8' in answer
    rows = _ask(ai_client, me, "SQL: SELECT title FROM entries ORDER BY id")["answer"]
    assert rows.count("mine") == 5 and "not yours" not in rows  # cap = 5


def _other_users_rows(client: TestClient) -> tuple[dict[str, str], int, str]:
    victim = new_user(client)
    secret = "secret" + uuid.uuid4().hex[:8]
    entry = client.post("/api/v1/entries", json={"title": secret}, headers=victim).json()
    victim_id = client.get("/api/v1/me", headers=victim).json()["id"]
    return victim, victim_id, secret + str(entry["id"])


ATTACKS = [
    "DROP TABLE entries",
    "DELETE FROM entries",
    "UPDATE entries SET title = 'pwned'",
    "INSERT INTO entries (user_id, title) VALUES (1, 'x')",
    "SELECT 1; DROP TABLE entries",
    "WITH gone AS (DELETE FROM entries RETURNING *) SELECT * FROM gone",
    "SELECT * FROM users",
    "SELECT password_hash FROM users",
    "SELECT set_config('tcclog.user_id', '{victim}', false)",
    "SELECT pg_catalog.set_config('tcclog.user_id', '{victim}', true), * FROM entries",
    "SELECT * FROM entries WHERE user_id = {victim}",
    "SELECT * FROM entries WHERE title LIKE '{secret}%' OR 1=1",
    "SELECT * FROM public.entries e WHERE e.user_id <> 0",
    "SELECT pg_sleep(30)",
    "SELECT * FROM generate_series(1, 100000000) g, entries",
    "SELECT txid_current()",
    "COPY entries TO '/tmp/x'",
]


def test_sql_tool_refuses_writes_drops_and_other_users_rows(ai_client: TestClient) -> None:
    attacker = new_user(ai_client)
    ai_client.post("/api/v1/entries", json={"title": "attacker row"}, headers=attacker)
    victim, victim_id, secret = _other_users_rows(ai_client)
    dsn = ai_client.app.state.settings.database_url  # type: ignore[attr-defined]
    with psycopg.connect(dsn) as conn:
        before = conn.execute("SELECT count(*), md5(string_agg(title, ',' ORDER BY id))"
                              " FROM entries").fetchone()
    for attack in ATTACKS:
        query = attack.format(victim=victim_id, secret=secret[:14])
        result = _ask(ai_client, attacker, f"SQL: {query}")
        answer = result["answer"]
        assert secret[:14] not in answer, query
        assert "password" not in answer.lower() or "error" in answer, query
        refused = answer.startswith("TOOL RESULT: error")
        only_own_rows = answer == "TOOL RESULT: []" or "attacker row" in answer
        assert refused or only_own_rows, (query, answer)
    with psycopg.connect(dsn) as conn:
        after = conn.execute("SELECT count(*), md5(string_agg(title, ',' ORDER BY id))"
                             " FROM entries").fetchone()
    assert after == before
    victim_view = ai_client.get("/api/v1/entries", headers=victim).json()["data"]
    assert [e["title"] for e in victim_view] == [secret[:14]]


def test_unreachable_slow_and_failing_llm_are_503_with_a_reason(
        base_settings: dict[str, Any], ai_client: TestClient) -> None:
    headers = new_user(ai_client)
    slow = ai_client.post(API, json={"question": "SLOW please"}, headers=headers)
    assert slow.status_code == 503 and slow.json()["detail"]["reason"] == "timeout"
    broken = ai_client.post(API, json={"question": "BROKEN please"}, headers=headers)
    assert broken.status_code == 503 and broken.json()["detail"]["reason"] == "upstream_error"
    with make_client(**base_settings) as client:  # base_url points at a closed port
        headers = new_user(client)
        down = client.post(API, json={"question": "hello"}, headers=headers)
        assert down.status_code == 503
        assert down.json()["detail"]["reason"] == "unreachable"
    empty = ai_client.post(API, json={"question": ""}, headers=headers)
    assert empty.status_code in (401, 422)
