from __future__ import annotations

import hashlib
import time

import openai
import structlog
from fastapi import HTTPException, status
from langchain_core.language_models import BaseChatModel
from langgraph.errors import GraphRecursionError

from tcclog.ai.agent import ask
from tcclog.ai.schemas import ChatResponse
from tcclog.ai.tools import build_tools
from tcclog.core.cache import Cache
from tcclog.core.config import Settings
from tcclog.core.db import Database
from tcclog.core.metrics import Metrics

log = structlog.get_logger(__name__)


def _unavailable(metrics: Metrics, reason: str, message: str) -> HTTPException:
    metrics.ai_errors.labels(reason).inc()
    log.warning("ai_unavailable", reason=reason)
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                         detail={"reason": reason, "message": message},
                         headers={"Retry-After": "30"})


async def chat(model: BaseChatModel, db: Database, cache: Cache, settings: Settings,
               metrics: Metrics, user_id: int, question: str) -> ChatResponse:
    digest = hashlib.sha256(f"{settings.ai_model}\n{question}".encode()).hexdigest()
    version = await cache.user_version(user_id)
    key = f"u:{user_id}:v{version}:ai:{digest}"
    if version is not None and (hit := await cache.get_json(key)) is not None:
        return ChatResponse(**{**hit, "cached": True})
    started = time.perf_counter()
    try:
        result = await ask(model, build_tools(db, settings, user_id), question,
                           settings.ai_timeout)
    except (TimeoutError, openai.APITimeoutError) as exc:
        raise _unavailable(metrics, "timeout", f"the AI model did not answer within "
                           f"{settings.ai_timeout:g}s") from exc
    except openai.APIConnectionError as exc:
        raise _unavailable(metrics, "unreachable", "the AI model server is unreachable") from exc
    except openai.APIStatusError as exc:
        raise _unavailable(metrics, "upstream_error",
                           f"the AI model server answered HTTP {exc.status_code}") from exc
    except openai.APIError as exc:  # malformed responses and anything else from the client
        raise _unavailable(metrics, "upstream_error",
                           f"the AI model server failed ({type(exc).__name__})") from exc
    except GraphRecursionError as exc:
        raise _unavailable(metrics, "no_answer", "the agent did not reach an answer") from exc
    finally:
        metrics.ai_latency.observe(time.perf_counter() - started)
    metrics.ai_tokens.labels("input").inc(result.input_tokens)
    metrics.ai_tokens.labels("output").inc(result.output_tokens)
    response = ChatResponse(answer=result.answer, cached=False, tools_used=result.tools_used)
    if version is not None:
        await cache.set_json(key, response.model_dump())
    return response
