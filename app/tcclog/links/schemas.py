from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, HttpUrl, PlainSerializer, StringConstraints

from tcclog.core.types import Id

Url = Annotated[HttpUrl, PlainSerializer(str, return_type=str)]
LinkTitle = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500,
                                             pattern=r"^[^\x00]*$")]


class LinkCreate(BaseModel):
    url: Url
    title: LinkTitle = ""
    entry_id: Id | None = None


class LinkUpdate(BaseModel):
    url: Url | None = None
    title: LinkTitle | None = None
    entry_id: Id | None = None


class LinkPublic(BaseModel):
    id: int
    url: str
    title: str
    entry_id: int | None
    created_at: dt.datetime


class LinkList(BaseModel):
    data: list[LinkPublic]
    next_cursor: str | None
