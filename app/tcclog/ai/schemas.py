from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, StringConstraints

from tcclog.core.types import _no_nul

Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000),
                     AfterValidator(_no_nul)]


class ChatRequest(BaseModel):
    question: Question


class ChatResponse(BaseModel):
    answer: str
    cached: bool
    tools_used: list[str]
