from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator
from typing import IO

from fastapi import HTTPException, status
from starlette.concurrency import run_in_threadpool

from tcclog.core.cache import Cache
from tcclog.core.db import Conn
from tcclog.core.errors import decode_cursor, not_found, page
from tcclog.core.storage import Storage
from tcclog.files import queries
from tcclog.files.schemas import FileList, FilePublic

_CONTENT_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")


class _TooLarge(Exception):
    pass


def clean_filename(name: str | None) -> str:
    cleaned = "".join(ch for ch in (name or "") if ch.isprintable() and ch not in "/\\\x00")
    return cleaned.strip()[:255] or "upload"


def clean_content_type(value: str | None) -> str:
    value = (value or "").split(";")[0].strip().lower()
    return value if _CONTENT_TYPE.match(value) else "application/octet-stream"


async def upload(conn: Conn, storage: Storage, cache: Cache, user_id: int, stream: IO[bytes],
                 filename: str | None, content_type: str | None, max_bytes: int) -> FilePublic:
    """Stream the upload to S3 in parts, hashing as it goes; the row is written only after
    the object exists, and the object is removed again if the row cannot be written."""
    key = f"users/{user_id}/files/{uuid.uuid4()}"
    digest, seen = hashlib.sha256(), [0]

    def on_chunk(chunk: bytes) -> None:
        seen[0] += len(chunk)
        if seen[0] > max_bytes:
            raise _TooLarge
        digest.update(chunk)

    ctype = clean_content_type(content_type)
    try:
        size = await run_in_threadpool(storage.upload_stream, key, stream, ctype, on_chunk)
    except _TooLarge as exc:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                            detail=[{"loc": ["body", "file"], "type": "too_large",
                                     "msg": f"file is larger than {max_bytes} bytes"}]) from exc
    try:
        row = await queries.insert(conn, user_id, clean_filename(filename), ctype, size,
                                   digest.hexdigest(), key)
    except BaseException:
        await run_in_threadpool(storage.delete, key)
        raise
    assert row is not None
    await cache.bump_user(user_id)
    return FilePublic(**row)


async def get_owned_or_404(conn: Conn, user_id: int, file_id: int) -> FilePublic:
    row = await queries.get(conn, user_id, file_id)
    if row is None:
        raise not_found("file")
    return FilePublic(**row)


async def open_content(conn: Conn, storage: Storage, user_id: int,
                       file_id: int) -> tuple[FilePublic, Iterator[bytes]]:
    row = await queries.get(conn, user_id, file_id)
    if row is None:
        raise not_found("file")
    return FilePublic(**row), storage.iter_object(row["s3_key"])


async def list_files(conn: Conn, user_id: int, limit: int, cursor: str | None) -> FileList:
    rows = await queries.list_page(conn, user_id, limit, decode_cursor(cursor))
    data, next_cursor = page(rows, limit)
    return FileList(data=[FilePublic(**r) for r in data], next_cursor=next_cursor)


async def delete(conn: Conn, storage: Storage, cache: Cache, user_id: int, file_id: int) -> None:
    key = await queries.delete(conn, user_id, file_id)
    if key is None:
        raise not_found("file")
    await run_in_threadpool(storage.delete, key)
    await cache.bump_user(user_id)


async def keys_of_user(conn: Conn, user_id: int) -> list[str]:
    return await queries.keys_of_user(conn, user_id)


async def delete_objects(storage: Storage, keys: list[str]) -> None:
    if keys:
        await run_in_threadpool(storage.delete, *keys)
