from __future__ import annotations

import io
import json

import structlog

from tcclog.core.logging import configure_logging


def test_json_lines_with_request_id_and_masked_secrets() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream)
    structlog.contextvars.bind_contextvars(request_id="req-1")
    try:
        structlog.get_logger("t").info("login", password="hunter2", api_key="sk-1",
                                       database_dsn="postgresql://u:pw@h/db", user_id=7)
    finally:
        structlog.contextvars.clear_contextvars()
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["event"] == "login" and line["request_id"] == "req-1" and line["user_id"] == 7
    assert line["password"] == line["api_key"] == line["database_dsn"] == "***"
    assert "hunter2" not in stream.getvalue() and "pw@" not in stream.getvalue()
