from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from tcclog.core.types import Id, Title


class GalleryCreate(BaseModel):
    title: Title
    file_ids: list[Id] = Field(default_factory=list, max_length=500,
                               description="Files in display order.")


class GalleryUpdate(BaseModel):
    title: Title | None = None
    file_ids: list[Id] | None = Field(None, max_length=500)


class GalleryPublic(BaseModel):
    id: int
    title: str
    file_ids: list[int]
    created_at: dt.datetime


class GalleryList(BaseModel):
    data: list[GalleryPublic]
    next_cursor: str | None
