"""Session-scoped real services for the integration tests; every process is stopped by a
finalizer even when tests fail."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer

from tcclog.core.config import Settings
from tcclog.core.migrations import migrate
from tcclog.main import create_app
from tests.integration import _services as svc

S3_KEYS = {"s3_access_key_id": "testing", "s3_secret_access_key": "testing"}


@pytest.fixture(scope="session")
def pg() -> Iterator[svc.PgCluster]:
    cluster = svc.start_postgres()
    try:
        with psycopg.connect(cluster.primary.dsn(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE tcclog")
        migrate(cluster.primary.dsn("tcclog"))
        cluster.add_replica("main_replica", synchronous=True)
        yield cluster
    finally:
        svc.cleanup_postgres(cluster)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[svc.Proc]:
    proc = svc.start_redis()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def sentinel(redis_server: svc.Proc) -> Iterator[svc.Proc]:
    proc = svc.start_sentinel(redis_server.port)
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def s3() -> Iterator[str]:
    port = svc.free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def base_settings(pg: svc.PgCluster, sentinel: svc.Proc, s3: str) -> dict[str, Any]:
    """Keyword arguments for Settings; tests override what they need."""
    return {
        "environment": "test",
        "database_url": pg.primary.dsn("tcclog"),
        "database_ro_url": pg.replicas[0].dsn("tcclog"),
        "redis_sentinels": f"127.0.0.1:{sentinel.port}",
        "redis_master_name": "mymaster",
        "s3_endpoint_url": s3,
        "s3_bucket": "tcclog-test",
        "jwt_secret": "integration-test-secret-0123456789",
        "ai_base_url": f"http://127.0.0.1:{svc.free_port()}/v1",  # nothing listens here
        "ai_timeout": 5.0,
        "rate_limit_per_minute": 100_000,
        "db_pool_max": 5,
        **S3_KEYS,
    }


def make_client(**overrides: Any) -> TestClient:
    """A TestClient for an app built from the given settings (use as a context manager)."""
    settings = Settings(**overrides)
    app = create_app(settings)
    return TestClient(app)


@pytest.fixture(scope="session")
def client(base_settings: dict[str, Any]) -> Iterator[TestClient]:
    with make_client(**base_settings) as test_client:
        test_client.app.state.storage.ensure_bucket()  # type: ignore[attr-defined]
        yield test_client


def new_user(client: TestClient) -> dict[str, str]:
    """Register a fresh user through the API and return its auth headers."""
    email = f"user-{uuid.uuid4().hex[:12]}@example.com"
    password = "correct horse battery"
    response = client.post("/api/v1/auth/register", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    token = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


@pytest.fixture
def user(client: TestClient) -> dict[str, str]:
    return new_user(client)


@pytest.fixture
def other_user(client: TestClient) -> dict[str, str]:
    return new_user(client)
