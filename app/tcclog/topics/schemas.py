from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from tcclog.core.types import Name


class TopicCreate(BaseModel):
    name: Name


class TopicUpdate(BaseModel):
    name: Name


class TopicPublic(BaseModel):
    id: int
    name: str
    created_at: dt.datetime


class TopicList(BaseModel):
    data: list[TopicPublic]
    next_cursor: str | None
