"""Property-based run over the OpenAPI document (schemathesis): no input yields a 5xx.

Bounded for CI: a few examples per operation against a real uvicorn server."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings

from tcclog.core.config import Settings
from tcclog.main import create_app
from tests.integration import _services as svc

# The document only; no services are needed to render it.
SCHEMA = schemathesis.openapi.from_dict(create_app(Settings(environment="dev")).openapi())
SCHEMA = SCHEMA.exclude(path="/api/v1/ai/chat").exclude(method="DELETE", path="/api/v1/me")


@pytest.fixture(scope="module")
def live_server(base_settings: dict[str, Any]) -> Iterator[tuple[str, dict[str, str]]]:
    port = svc.free_port()
    app = create_app(Settings(**base_settings))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        svc.wait_port(port)
        base = f"http://127.0.0.1:{port}"
        email, password = f"fuzz-{uuid.uuid4().hex[:10]}@example.com", "fuzz-password-1"
        with httpx.Client(base_url=base) as http:
            assert http.post("/api/v1/auth/register",
                             json={"email": email, "password": password}).status_code == 201
            token = http.post("/api/v1/auth/token",
                              data={"username": email, "password": password}).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            tag = http.post("/api/v1/tags", json={"name": "seed"}, headers=headers).json()
            http.post("/api/v1/entries", json={"title": "seed", "tag_ids": [tag["id"]]},
                      headers=headers)
        yield base, headers
    finally:
        server.should_exit = True
        thread.join(15)


@SCHEMA.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: Any, live_server: tuple[str, dict[str, str]]) -> None:
    base, headers = live_server
    response = case.call(base_url=base, headers=headers, timeout=30)
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])
