from __future__ import annotations

import asyncio

import httpx
import openai
import pytest
from fastapi import HTTPException
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool

from tcclog.ai import service
from tcclog.ai.agent import ask
from tcclog.core.cache import Cache
from tcclog.core.config import Settings
from tcclog.core.db import Database
from tcclog.core.metrics import Metrics
from tests.unit.app.scripted_model import ScriptedChatModel


@tool
def lookup(query: str) -> str:
    """Look something up."""
    return f"found:{query}"


def _tool_call(name: str, **args: str) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": "call-1"}],
                     usage_metadata={"input_tokens": 10, "output_tokens": 3, "total_tokens": 13})


def test_agent_runs_tool_then_answers() -> None:
    model = ScriptedChatModel(script=[
        _tool_call("lookup", query="rust"),
        AIMessage(content="You wrote about rust twice.",
                  usage_metadata={"input_tokens": 20, "output_tokens": 6, "total_tokens": 26}),
    ])
    result = asyncio.run(ask(model, [lookup], "what about rust?", timeout=5))
    assert result.answer == "You wrote about rust twice."
    assert result.tools_used == ["lookup"]
    assert (result.input_tokens, result.output_tokens) == (30, 9)
    tool_results = [m for m in model.seen[1] if isinstance(m, ToolMessage)]
    assert [m.content for m in tool_results] == ["found:rust"]


def test_agent_times_out() -> None:
    model = ScriptedChatModel(script=[AIMessage(content="late")], delay=0.5)
    with pytest.raises(TimeoutError):
        asyncio.run(ask(model, [lookup], "hi", timeout=0.1))


def _settings() -> Settings:
    return Settings(environment="dev", ai_timeout=0.3)


@pytest.mark.parametrize("failure, reason", [
    (openai.APIConnectionError(request=httpx.Request("POST", "http://x")), "unreachable"),
    (openai.InternalServerError("boom", response=httpx.Response(
        500, request=httpx.Request("POST", "http://x")), body=None), "upstream_error"),
])
def test_llm_failures_become_503_with_reason(failure: Exception, reason: str) -> None:
    settings, metrics = _settings(), Metrics()
    model = ScriptedChatModel(script=[failure])
    with pytest.raises(HTTPException) as info:
        asyncio.run(service.chat(model, Database(settings), Cache(settings, metrics), settings,
                                 metrics, 1, "hello"))
    assert info.value.status_code == 503
    assert info.value.detail["reason"] == reason
    assert metrics.ai_errors.labels(reason)._value.get() == 1


def test_slow_llm_is_503_timeout() -> None:
    settings, metrics = _settings(), Metrics()
    model = ScriptedChatModel(script=[AIMessage(content="late")], delay=1.0)
    with pytest.raises(HTTPException) as info:
        asyncio.run(service.chat(model, Database(settings), Cache(settings, metrics), settings,
                                 metrics, 1, "hello"))
    assert info.value.detail["reason"] == "timeout"


def test_answer_without_cache_configured() -> None:
    settings, metrics = _settings(), Metrics()
    model = ScriptedChatModel(script=[AIMessage(content="plain")])
    response = asyncio.run(service.chat(model, Database(settings), Cache(settings, metrics),
                                        settings, metrics, 1, "hello"))
    assert response.answer == "plain" and not response.cached and response.tools_used == []
