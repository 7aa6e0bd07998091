from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints

Email = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=254,
                                         pattern=r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$")]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]


class UserCreate(BaseModel):
    email: Email
    password: Password


class UserPublic(BaseModel):
    id: int
    email: str
    created_at: dt.datetime


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class Export(BaseModel):
    """Everything stored about the caller (GDPR Art. 20), file bytes excluded."""

    user: UserPublic
    entries: list[dict[str, Any]]
    tags: list[dict[str, Any]]
    topics: list[dict[str, Any]]
    links: list[dict[str, Any]]
    files: list[dict[str, Any]]
    galleries: list[dict[str, Any]]

