"""`create_app(settings)`: lifespan-owned pools and clients, routers, health and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
import structlog
from botocore.exceptions import BotoCoreError, ClientError
from fastapi import APIRouter, FastAPI, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from tcclog.ai.router import router as ai_router
from tcclog.core.cache import Cache
from tcclog.core.config import Settings
from tcclog.core.db import Database
from tcclog.core.logging import configure_logging
from tcclog.core.metrics import Metrics
from tcclog.core.middleware import RequestContextMiddleware
from tcclog.core.storage import Storage
from tcclog.entries.router import router as entries_router
from tcclog.files.router import router as files_router
from tcclog.galleries.router import router as galleries_router
from tcclog.links.router import router as links_router
from tcclog.tags.router import router as tags_router
from tcclog.topics.router import router as topics_router
from tcclog.users.router import auth_router, me_router

log = structlog.get_logger(__name__)


def _operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    app.state.db = Database(settings)
    await app.state.db.open()
    app.state.cache = Cache(settings, app.state.metrics)
    app.state.storage = Storage(settings)
    try:
        await run_in_threadpool(app.state.storage.ensure_bucket)
    except (BotoCoreError, ClientError) as exc:  # not fatal: S3 may come up later
        log.warning("bucket_check_failed", error=type(exc).__name__)
    log.info("startup", replica=settings.database_ro_url is not None,
             sentinel=bool(settings.sentinel_addresses))
    try:
        yield
    finally:
        await app.state.cache.close()
        await app.state.db.close()


def api_router() -> APIRouter:
    api = APIRouter(prefix="/api/v1")
    for router in (auth_router, me_router, entries_router, tags_router, topics_router,
                   links_router, files_router, galleries_router, ai_router):
        api.include_router(router)
    return api


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level)
    app = FastAPI(title="TCC Log", version="0.1.0", lifespan=_lifespan,
                  generate_unique_id_function=_operation_id)
    app.state.settings = settings
    app.state.metrics = Metrics()
    app.include_router(api_router())
    _add_observability(app)
    _add_error_handlers(app)
    return app


def _add_observability(app: FastAPI) -> None:
    metrics: Metrics = app.state.metrics

    app.add_middleware(RequestContextMiddleware, metrics=metrics)

    @app.get("/healthz", tags=["health"], include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        db: Database = request.app.state.db
        try:
            async with db.write() as conn:
                await conn.execute("SELECT 1")
        except Exception as exc:
            return JSONResponse({"status": "unavailable", "database": type(exc).__name__},
                                status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
        cache_ok = await request.app.state.cache.ping()
        return JSONResponse({"status": "ok", "database": "ok",
                             "cache": "ok" if cache_ok else "degraded"})

    @app.get("/metrics", include_in_schema=False)
    async def prometheus(request: Request) -> Response:
        metrics.observe_pools(request.app.state.db.pool_stats())
        body = await run_in_threadpool(generate_latest, metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(psycopg.DataError)
    async def data_error(_: Request, exc: psycopg.DataError) -> JSONResponse:
        # Last line of defence: input PostgreSQL cannot store is the client's error.
        return JSONResponse({"detail": [{"loc": ["body"], "msg": "invalid value",
                                         "type": "data_error"}]}, status_code=422)

    @app.exception_handler(BotoCoreError)
    @app.exception_handler(ClientError)
    async def storage_down(_: Request, exc: Exception) -> JSONResponse:
        log.error("object_storage_error", error=type(exc).__name__)
        return JSONResponse({"detail": "object storage unavailable"}, status_code=503)

    @app.exception_handler(psycopg.OperationalError)
    async def db_down(_: Request, exc: psycopg.OperationalError) -> JSONResponse:
        log.error("database_unavailable", error=type(exc).__name__)
        return JSONResponse({"detail": "database unavailable"}, status_code=503)
