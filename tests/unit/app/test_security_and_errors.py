from __future__ import annotations

import jwt
import pytest
from fastapi import HTTPException

from tcclog.core.backup import pg_env
from tcclog.core.errors import decode_cursor, encode_cursor, page
from tcclog.core.security import create_token, decode_token, hash_password, verify_password
from tcclog.files.service import clean_content_type, clean_filename

SECRET = "unit-test-secret-0123456789-abcdefghij"


def test_password_hash_roundtrip() -> None:
    hashed = hash_password("s3cret-pass")
    assert hashed.startswith("$argon2") and "s3cret-pass" not in hashed
    assert verify_password("s3cret-pass", hashed)
    assert not verify_password("wrong", hashed)
    assert not verify_password("s3cret-pass", "not-a-hash")


def test_tokens() -> None:
    token = create_token(42, SECRET, 5)
    assert decode_token(token, SECRET) == 42
    assert decode_token(token, "another-secret-entirely-0123456789-xyz") is None
    assert decode_token(create_token(42, SECRET, -1), SECRET) is None  # expired
    unsigned = jwt.encode({"sub": "42"}, SECRET, algorithm="HS256")  # no exp claim
    assert decode_token(unsigned, SECRET) is None
    assert decode_token("garbage", SECRET) is None


def test_cursor_roundtrip_and_rejects_garbage() -> None:
    assert decode_cursor(encode_cursor(123456)) == 123456
    assert decode_cursor(None) is None
    for bad in ("!!!", encode_cursor(0), "LTE", "9" * 30):
        with pytest.raises(HTTPException) as info:
            decode_cursor(bad)
        assert info.value.status_code == 422
        assert info.value.detail[0]["loc"] == ["query", "cursor"]


def test_page_sets_next_cursor_only_when_more_rows() -> None:
    rows = [{"id": i} for i in (9, 8, 7)]
    data, cursor = page(rows, 2)
    assert data == rows[:2] and decode_cursor(cursor) == 8
    assert page(rows, 3) == (rows, None)


def test_upload_names_and_types_are_sanitised() -> None:
    assert clean_filename("../../etc/passwd") == "....etcpasswd"
    assert clean_filename("a\x00b\nc.txt") == "abc.txt"
    assert clean_filename(None) == "upload"
    assert clean_content_type("image/png; charset=x") == "image/png"
    assert clean_content_type("text/html\r\nX-Evil: 1") == "application/octet-stream"


def test_pg_env_keeps_the_password_off_the_command_line() -> None:
    env = pg_env("postgresql://app:pw%40x@db.example:6432/tcclog?sslmode=require")
    assert env["PGPASSWORD"] == "pw@x" and env["PGHOST"] == "db.example"
    assert env["PGPORT"] == "6432" and env["PGDATABASE"] == "tcclog"
    assert env["PGSSLMODE"] == "require"
