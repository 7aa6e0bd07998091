from __future__ import annotations

import pytest

from tcclog.ai.sql_guard import UnsafeQuery, check_select

ALLOWED = [
    "SELECT count(*) FROM entries",
    "select title from entries where created_at > now() - interval '7 days' order by id;",
    "WITH t AS (SELECT * FROM tags) SELECT name FROM t",
    "SELECT date_trunc('month', created_at) AS m, count(*) FROM entries GROUP BY 1",
    "SELECT e.title FROM entries e JOIN entry_tags et ON (et.entry_id = e.id)"
    " WHERE et.tag_id IN (1)",
    "SELECT title FROM entries WHERE search @@ websearch_to_tsquery('english', 'x')",
]
REFUSED = [
    ("", "empty"),
    ("DROP TABLE entries", "only SELECT"),
    ("DELETE FROM entries", "only SELECT"),
    ("SELECT 1; SELECT 2", "one statement"),
    ("SELECT 1 -- hidden", "comments"),
    ("SELECT /* x */ 1", "comments"),
    ("WITH d AS (DELETE FROM entries RETURNING *) SELECT * FROM d", "delete"),
    ("SELECT * INTO stolen FROM entries", "into"),
    ("SELECT * FROM users", "users"),
    ("SELECT set_config('tcclog.user_id', '2', false)", "set_config"),
    ('SELECT "set_config"(\'a\', \'b\', true)', "set_config"),
    ("SELECT pg_catalog.set_config('a', 'b', true)", "set_config"),
    ("SELECT current_setting('tcclog.user_id')", "current_setting"),
    ("SELECT pg_sleep(10)", "pg_sleep"),
    ("SELECT txid_current()", "txid_current"),
    ("SELECT lo_import('/etc/passwd')", "lo_import"),
    ("SELECT 'x' || chr(0)", "chr"),
    ("SELECT 1\x00", "NUL"),
    ("SELECT " + "1," * 3000 + "1", "longer"),
]


@pytest.mark.parametrize("query", ALLOWED)
def test_plain_selects_pass(query: str) -> None:
    assert check_select(query) == query.strip().rstrip(";")


@pytest.mark.parametrize("query, reason", REFUSED)
def test_everything_else_is_refused_with_a_reason(query: str, reason: str) -> None:
    with pytest.raises(UnsafeQuery, match=reason):
        check_select(query)
