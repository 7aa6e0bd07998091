from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from tcclog.core.types import Body, Id, Title


class EntryCreate(BaseModel):
    title: Title
    content: Body = ""
    topic_id: Id | None = None
    tag_ids: list[Id] = Field(default_factory=list, max_length=50)


class EntryUpdate(BaseModel):
    title: Title | None = None
    content: Body | None = None
    topic_id: Id | None = None
    tag_ids: list[Id] | None = Field(None, max_length=50)


class EntryPublic(BaseModel):
    id: int
    title: str
    content: str
    topic_id: int | None
    tag_ids: list[int]
    created_at: dt.datetime
    updated_at: dt.datetime


class EntryList(BaseModel):
    data: list[EntryPublic]
    next_cursor: str | None


class SearchHit(EntryPublic):
    rank: float


class SearchResults(BaseModel):
    data: list[SearchHit]
