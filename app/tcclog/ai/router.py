from __future__ import annotations

from fastapi import APIRouter, Request

from tcclog.ai import service
from tcclog.ai.agent import build_chat_model
from tcclog.ai.schemas import ChatRequest, ChatResponse
from tcclog.core.deps import CacheDep, CurrentUser, DatabaseDep, MetricsDep, SettingsDep

router = APIRouter(prefix="/ai", tags=["ai"])


@router.post("/chat", response_model=ChatResponse,
             responses={503: {"description": "AI model unreachable, slow or failing"}})
async def chat(body: ChatRequest, request: Request, user: CurrentUser, db: DatabaseDep,
               cache: CacheDep, settings: SettingsDep, metrics: MetricsDep) -> ChatResponse:
    state = request.app.state
    if getattr(state, "chat_model", None) is None:
        state.chat_model = build_chat_model(settings)
    return await service.chat(state.chat_model, db, cache, settings, metrics, user.id,
                              body.question)
