"""Errors in FastAPI's own 422 shape, so clients always find the offending field in `loc`."""

from __future__ import annotations

import base64
import binascii

from fastapi import HTTPException, status


def field_error(loc: list[str | int], msg: str, code: int = status.HTTP_422_UNPROCESSABLE_CONTENT,
                kind: str = "value_error") -> HTTPException:
    return HTTPException(code, detail=[{"loc": loc, "msg": msg, "type": kind}])


def not_found(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{what} not found")


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(str(last_id).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """Opaque keyset cursor -> last seen id. Bad cursors are a 422 naming `cursor`."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = int(base64.urlsafe_b64decode(padded.encode()).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise field_error(["query", "cursor"], "invalid cursor") from exc
    if value <= 0 or value > 2**63 - 1:
        raise field_error(["query", "cursor"], "invalid cursor")
    return value


def page(rows: list[dict], limit: int) -> tuple[list[dict], str | None]:
    """Rows fetched with limit+1 -> (this page, next cursor or None)."""
    if len(rows) > limit:
        return rows[:limit], encode_cursor(rows[limit - 1]["id"])
    return rows, None


_FIELD_OF_COLUMN = {"tag_id": "tag_ids", "file_id": "file_ids"}


class integrity_as_422:
    """Turn a cross-user/missing reference (composite foreign key) into a 422 naming the field,
    and a unique violation into a 409."""

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, exc_type: type | None, exc: BaseException | None, tb: object) -> bool:
        from psycopg import errors as pg

        if isinstance(exc, pg.ForeignKeyViolation):
            constraint = exc.diag.constraint_name or ""
            column = constraint.rsplit("_user_id_", 1)[-1].removesuffix("_fkey")
            field = _FIELD_OF_COLUMN.get(column, column)
            raise field_error(["body", field], f"{field} refers to a row that does not exist")
        if isinstance(exc, pg.UniqueViolation):
            parts = (exc.diag.constraint_name or "").split("_")[-2:-1] or ["value"]
            raise field_error(["body", parts[0]], "already exists", code=409, kind="conflict")
        return False
