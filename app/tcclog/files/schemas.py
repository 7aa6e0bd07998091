from __future__ import annotations

import datetime as dt

from pydantic import BaseModel


class FilePublic(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: dt.datetime


class FileList(BaseModel):
    data: list[FilePublic]
    next_cursor: str | None
