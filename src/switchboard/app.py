from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg  # type: ignore[import-untyped]
import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from switchboard import __version__
from switchboard.appeals.api import router as appeals_router
from switchboard.audit.api import router as audit_router
from switchboard.auth.principals import known_path_ids
from switchboard.auth.tokens import TokenSigner
from switchboard.bootstrap import ensure_admin_from_env
from switchboard.config import Settings, get_settings
from switchboard.db.errors import database_away, driver_unreachable
from switchboard.db.session import Database
from switchboard.dialogs.api import router as dialogs_router
from switchboard.dialogs.hotpath import MessageLane
from switchboard.events.api import router as events_router
from switchboard.events.broker import make_broker
from switchboard.events.hub import EventHub
from switchboard.kit.api import Problem
from switchboard.kit.bodies import BodyLimitMiddleware, document_body_errors
from switchboard.kit.errors import (
    DomainError,
    domain_error_handler,
    http_error_handler,
    problem,
    validation_error_handler,
)
from switchboard.kit.logs import configure_logging
from switchboard.kit.security import SecurityHeaders
from switchboard.maintenance import run_maintenance
from switchboard.monitoring.metrics import Metrics
from switchboard.monitoring.requests import RequestContext
from switchboard.people.api import router as people_router
from switchboard.people.status_lane import StatusLane
from switchboard.web import router as web_router

log = structlog.get_logger(__name__)


def create_app(settings: Settings | None = None, *, run_sweeper_task: bool = True) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_format, settings.log_level)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(
            settings.database_url,
            pool_size=settings.db_pool_size,
            connect_timeout=settings.db_connect_timeout_seconds,
            command_timeout=settings.db_command_timeout_seconds,
            pool_timeout=settings.db_pool_timeout_seconds,
        )
        app.state.db = db
        app.state.status_lane = StatusLane(db)
        app.state.settings = settings
        app.state.signer = TokenSigner(settings.resolved_secret_key())
        app.state.process_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        await ensure_admin_from_env(db, settings)
        broker = make_broker(settings.redis_url)
        hub = EventHub(db, poll_interval=settings.event_poll_seconds)
        broker.subscribe(hub.wake)
        db.event_listeners.append(hub.committed_here)
        db.commit_listeners.append(broker.published)
        app.state.broker = broker
        app.state.hub = hub
        metrics.attach(db, hub)
        await broker.start()
        await hub.start()
        maintenance = (
            asyncio.create_task(
                run_maintenance(
                    db,
                    app.state.process_id,
                    interval_seconds=settings.sweep_interval_seconds,
                    retention_seconds=settings.event_retention_seconds,
                    heartbeat_seconds=settings.presence_heartbeat_seconds,
                )
            )
            if run_sweeper_task
            else None
        )
        try:
            yield
        finally:
            if maintenance is not None:
                maintenance.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await maintenance
            await hub.stop()
            await broker.stop()
            await db.dispose()

    app = FastAPI(
        title="Switchboard",
        version=__version__,
        description="A bank's contact-center chat: the Inbox, general chat, personal managers.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
        # The service has its own metrics and request logs (/metrics, switchboard.access); the
        # framework's OpenTelemetry would otherwise look for a configured provider per request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.add_middleware(MessageLane, state=app.state)  # innermost: see dialogs/hotpath.py
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(SecurityHeaders)
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(OSError, _database_unavailable)
    app.add_exception_handler(PoolTimeout, _database_unavailable)
    app.add_exception_handler(asyncpg.PostgresError, _driver_error)
    app.add_exception_handler(asyncpg.InterfaceError, _driver_error)
    ids = [Depends(known_path_ids)]
    app.include_router(people_router, dependencies=ids)
    app.include_router(dialogs_router, dependencies=ids)
    app.include_router(appeals_router, dependencies=ids)
    app.include_router(audit_router)
    app.include_router(events_router)
    app.include_router(web_router)  # the web UI: /, /login, /inbox, … and /static

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> Response:
        db: Database = request.app.state.db
        try:
            async with asyncio.timeout(2):
                async with db.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse({"ready": False}, status_code=503)
        return JSONResponse({"ready": True})

    @app.get("/metrics", include_in_schema=False)
    async def metrics_endpoint() -> Response:
        return Response(await metrics.render(), media_type=CONTENT_TYPE_LATEST)

    original_openapi = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema is None:
            schema = original_openapi()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["Problem"] = Problem.model_json_schema()
            document_body_errors(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.state.metrics = metrics
    # Added last, so outermost: it times and logs every request, refused ones included.
    app.add_middleware(RequestContext, metrics=metrics)
    return app


async def _database_unavailable(_request: Request, _exc: Exception) -> JSONResponse:
    return problem(
        503,
        "database_unavailable",
        "the database is unreachable; try again shortly",
        headers={"Retry-After": "2"},
    )


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if database_away(exc):
        return await _database_unavailable(request, exc)
    log.error("database_error", path=request.url.path, error=str(exc.orig)[:500])
    return problem(500, "internal_error", "the request could not be completed")


async def _driver_error(request: Request, exc: Exception) -> JSONResponse:
    """asyncpg's own errors, from code that talks to the driver directly."""
    if driver_unreachable(exc):
        return await _database_unavailable(request, exc)
    log.error("database_error", path=request.url.path, error=str(exc)[:500])
    return problem(500, "internal_error", "the request could not be completed")
