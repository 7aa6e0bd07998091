from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from tcclog.core.types import Name


class TagCreate(BaseModel):
    name: Name


class TagUpdate(BaseModel):
    name: Name


class TagPublic(BaseModel):
    id: int
    name: str
    created_at: dt.datetime


class TagList(BaseModel):
    data: list[TagPublic]
    next_cursor: str | None
