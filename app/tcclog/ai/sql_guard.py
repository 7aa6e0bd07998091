"""First line of defence for the AI SQL tool: one plain SELECT, nothing else.

The real guarantees come from the database (read-only transaction, a role that can only
SELECT, row-level security, statement_timeout); this check turns obvious abuse into a clear
message before a connection is used."""

from __future__ import annotations

import re

MAX_SQL_LENGTH = 4000
_FORBIDDEN = re.compile(
    r"\b(insert|update|delete|merge|drop|alter|create|truncate|grant|revoke|copy|call|do|set|"
    r"reset|lock|vacuum|analyze|listen|notify|prepare|execute|refresh|into|comment|security|"
    r"set_config|pg_sleep\w*|dblink\w*|lo_\w+|pg_read\w*|pg_ls\w*|pg_stat_file|"
    r"pg_terminate_backend|pg_cancel_backend|pg_advisory\w*|pg_reload_conf|pg_rotate_logfile|"
    r"current_setting|query_to_xml\w*|xmlparse|users|password_hash|pg_authid|pg_shadow)\b",
    re.IGNORECASE,
)


class UnsafeQuery(ValueError):
    """The statement is not a single read-only SELECT over the caller's tables."""


def check_select(query: str) -> str:
    """Return the normalised statement or raise UnsafeQuery with a reason."""
    text = query.strip().rstrip(";").strip()
    if not text:
        raise UnsafeQuery("empty query")
    if len(text) > MAX_SQL_LENGTH:
        raise UnsafeQuery(f"query longer than {MAX_SQL_LENGTH} characters")
    if "\x00" in text:
        raise UnsafeQuery("NUL character in query")
    if ";" in text:
        raise UnsafeQuery("only one statement is allowed")
    if "--" in text or "/*" in text:
        raise UnsafeQuery("comments are not allowed")
    first = text.split(None, 1)[0].lower()
    if first not in ("select", "with"):
        raise UnsafeQuery("only SELECT statements are allowed")
    match = _FORBIDDEN.search(text)
    if match:
        raise UnsafeQuery(f"forbidden keyword or object: {match.group(0)}")
    return text
