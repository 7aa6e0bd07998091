"""Request context as a pure ASGI middleware (cheaper than BaseHTTPMiddleware): request id
bound into every log line and echoed back, per-route metrics, one access-log line."""

from __future__ import annotations

import time
import uuid
from typing import Any

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tcclog.core.metrics import Metrics

log = structlog.get_logger("tcclog.access")


def route_template(scope: Scope) -> str:
    """The matched route's full path template (`/api/v1/entries/{entry_id}`): a bounded label,
    never the raw path. Included routers only know their own suffix, so the request path's
    leading segments supply the prefix."""
    suffix = getattr(scope.get("route"), "path", None)
    if suffix is None:
        return "unmatched"
    segments = scope["path"].split("/")
    depth = suffix.count("/")
    return "/".join(segments[: len(segments) - depth]) + suffix if depth else suffix


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"")
        request_id = incoming.decode("latin-1")[:64] or uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status: list[Any] = [500]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = MutableHeaders(scope=message)
                headers.append("X-Request-ID", request_id)
                elapsed_ms = (time.perf_counter() - started) * 1000
                headers.append("Server-Timing", f"app;dur={elapsed_ms:.2f}")
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            template = route_template(scope)
            method = scope["method"]
            self.metrics.requests.labels(method, template, str(status[0])).inc()
            self.metrics.latency.labels(method, template).observe(elapsed)
            log.info("request", method=method, route=template, status=status[0],
                     ms=round(elapsed * 1000, 2))
