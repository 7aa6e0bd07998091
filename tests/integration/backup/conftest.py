"""Session fixtures: the TLS S3 endpoint and one PostgreSQL node with its pgBackRest server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .harness import Node, S3Endpoint, cleanup, new_root, tcclog


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Endpoint]:
    endpoint = S3Endpoint(new_root("tcclog-s3-"))
    try:
        endpoint.start()
        yield endpoint
    finally:
        endpoint.stop()
        cleanup(endpoint.root)


@pytest.fixture(scope="module")
def node(s3: S3Endpoint) -> Iterator[Node]:
    pg = Node(new_root("tcclog-pgbr-"), tcclog(s3.port), s3.port)
    try:
        pg.setup()
        yield pg
    except BaseException:
        for log in ("server.log", "pgdata/server.log"):
            path = pg.root / log
            if path.exists():
                print(f"--- {log}\n{path.read_text()[-4000:]}")  # noqa: T201 - failure context
        raise
    finally:
        pg.stop()
        cleanup(pg.root)
