"""A tiny OpenAI-compatible chat server on loopback with scripted tool calls.

The user's question picks the script: `SQL: <query>` calls run_sql with that query,
`SEARCH: <text>` calls search_my_entries, `SLOW` sleeps past the app's timeout, `BROKEN`
answers HTTP 500. After a tool result the model answers `TOOL RESULT: <tool output>`, so the
test sees exactly what the tool returned."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.integration import _services as svc


def _completion(message: dict[str, Any], finish: str) -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": int(time.time()),
            "model": "scripted", "choices": [{"index": 0, "message": message,
                                              "finish_reason": finish}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}}


def build_app(calls: list[dict[str, Any]]) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def complete(request: Request) -> Any:
        body = await request.json()
        calls.append(body)
        messages = body["messages"]
        last = messages[-1]
        if last["role"] == "tool":
            return _completion({"role": "assistant", "content": f"TOOL RESULT: {last['content']}"},
                               "stop")
        question = next(m["content"] for m in messages if m["role"] == "user")
        if question.startswith("SLOW"):
            await asyncio.sleep(30)
        if question.startswith("BROKEN"):
            return JSONResponse({"error": {"message": "boom"}}, status_code=500)
        for prefix, tool, arg in (("SQL: ", "run_sql", "query"),
                                  ("SEARCH: ", "search_my_entries", "query")):
            if question.startswith(prefix):
                call = {"id": f"call_{len(calls)}", "type": "function",
                        "function": {"name": tool,
                                     "arguments": json.dumps({arg: question[len(prefix):]})}}
                return _completion({"role": "assistant", "content": None, "tool_calls": [call]},
                                   "tool_calls")
        return _completion({"role": "assistant", "content": f"plain answer to {question}"},
                           "stop")

    return app


class FakeLLM:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.port = svc.free_port()
        config = uvicorn.Config(build_app(self.calls), host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FakeLLM:
        self.thread.start()
        svc.wait_port(self.port)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
