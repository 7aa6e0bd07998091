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


# Function calls are allow-listed: a GUC-changing call such as set_config() inside a SELECT could
# otherwise alter the row-level-security setting mid-query.
_CALL = re.compile(r'("[^"]*"|[A-Za-z_][\w$]*)\s*\(')
_ALLOWED_CALLS = frozenset("""
count sum avg min max stddev variance bool_and bool_or every string_agg array_agg json_agg
jsonb_agg json_build_object jsonb_build_object row_number rank dense_rank lag lead
first_value last_value ntile percentile_cont percentile_disc mode
lower upper length char_length substring substr left right trim btrim ltrim rtrim replace
position strpos split_part concat concat_ws initcap repeat reverse starts_with regexp_replace
regexp_match regexp_matches format md5
coalesce nullif greatest least abs round ceil ceiling floor trunc mod power sqrt random
now date_trunc date_part extract age to_char to_date to_timestamp make_date make_interval
ts_rank ts_rank_cd ts_headline to_tsvector to_tsquery plainto_tsquery phraseto_tsquery
websearch_to_tsquery array_length cardinality unnest array_position generate_series
cast
in exists any all some array values over filter as from join using on and or not select
where when then else by between like ilike row lateral within group partition interval
numeric decimal varchar char timestamp timestamptz date time
""".split())  # noqa: SIM905 - a word list reads better than 150 quoted strings


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
        raise UnsafeQuery(f"forbidden keyword or object: {match.group(0).lower()}")
    for call in _CALL.finditer(text):
        name = call.group(1).strip('"').lower()
        if name not in _ALLOWED_CALLS:
            raise UnsafeQuery(f"function not allowed: {name}")
    return text
