"""Reusable field types. PostgreSQL rejects NUL in text and ids beyond bigint: both are
refused here, at the edge, as a 422 naming the field instead of a database error."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, Field, StringConstraints

MAX_ID = 2**63 - 1


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                 AfterValidator(_no_nul)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
                  AfterValidator(_no_nul)]
Body = Annotated[str, StringConstraints(max_length=1_000_000), AfterValidator(_no_nul)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=40)]
SearchText = Annotated[str, Query(min_length=1, max_length=500), AfterValidator(_no_nul)]
OptionalIdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
