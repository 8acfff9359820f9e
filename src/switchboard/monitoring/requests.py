"""Every request gets an id, one access log line and its place in the metrics.

The id is the caller's `X-Request-ID` when it looks like one (a proxy's or a client's
correlation id), else a fresh one; it is answered in `X-Request-ID` and bound into every log line
written while the request runs. Routes are labelled by their template
(`/api/v1/dialogs/{dialog_id}`), never by the raw path, so ids never become label values.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.kit.errors import problem
from switchboard.kit.logs import log_access
from switchboard.monitoring.metrics import Metrics

access_log = structlog.get_logger("switchboard.access")

HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


def request_id_from(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _SANE_ID.fullmatch(candidate):
                return str(candidate)
            break
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class RequestContext:
    """Pure ASGI middleware (no extra task per request); the outermost of the application's."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send, request_id)
            return
        status = 500
        responded = False
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status = message["status"]
                responded = True
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            except asyncio.CancelledError:
                # Shutdown ran out of time for this request: say "retry" rather than a bare 500.
                if not responded:
                    with contextlib.suppress(Exception):
                        await _restarting(scope, receive, send_with_id)
                raise
            except Exception:
                access_log.exception("request.failed")
                raise
            finally:
                seconds = time.perf_counter() - started
                method = scope["method"] if scope["method"] in _METHODS else "OTHER"
                route = route_template(scope)
                self.metrics.observe_request(method, route, status, seconds)
                log_access(
                    "request",
                    method=method,
                    route=route,
                    path=scope["path"],
                    status=status,
                    duration_ms=round(seconds * 1000, 2),
                    request_id=request_id,
                )

    async def _websocket(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        started = time.perf_counter()
        close_code: int | None = None

        async def watch_close(message: Message) -> None:
            nonlocal close_code
            if message["type"] == "websocket.close":
                close_code = message.get("code", 1000)
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, watch_close)
            finally:
                access_log.info(
                    "websocket",
                    route=route_template(scope),
                    path=scope["path"],
                    close_code=close_code,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )


async def _restarting(scope: Scope, receive: Receive, send: Send) -> None:
    response = problem(
        503,
        "service_restarting",
        "the server is restarting; try again",
        headers={"Retry-After": "1", "Connection": "close"},
    )
    await response(scope, receive, send)
