"""The LangChain agent: an OpenAI-compatible chat model plus the caller's tools."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from langchain.agents import create_agent
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.tools import BaseTool

from tcclog.core.config import Settings

SYSTEM_PROMPT = (
    "You are the assistant of a personal knowledge log. Answer only from the user's own "
    "data, using the tools: search_my_entries for topics and keywords, run_sql for counts, "
    "dates and structured questions. Be brief. If the tools return nothing, say so."
)
RECURSION_LIMIT = 12


@dataclass
class AgentAnswer:
    answer: str
    tools_used: list[str] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0


def build_chat_model(settings: Settings) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=settings.ai_base_url,
        api_key=settings.ai_api_key,  # SecretStr: never rendered in logs or reprs
        model=settings.ai_model,
        timeout=settings.ai_timeout,
        max_retries=0,
        temperature=0,
    )


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return str(content)


async def ask(model: BaseChatModel, tools: list[BaseTool], question: str,
              timeout: float) -> AgentAnswer:
    """Run the agent loop to completion or raise TimeoutError after `timeout` seconds."""
    agent = create_agent(model, tools, system_prompt=SYSTEM_PROMPT)
    state = await asyncio.wait_for(
        agent.ainvoke({"messages": [{"role": "user", "content": question}]},
                      config={"recursion_limit": RECURSION_LIMIT}),
        timeout=timeout,
    )
    result = AgentAnswer(answer="")
    for message in state["messages"]:
        if not isinstance(message, AIMessage):
            continue
        result.tools_used += [call["name"] for call in message.tool_calls]
        usage: Any = message.usage_metadata or {}
        result.input_tokens += usage.get("input_tokens", 0)
        result.output_tokens += usage.get("output_tokens", 0)
        if not message.tool_calls:
            result.answer = _text(message.content)
    return result
