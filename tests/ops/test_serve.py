"""A real `switchboard serve`: its log lines, its live metrics, and graceful shutdown on SIGTERM
(docs/operations.md; close code 1012 in docs/realtime.md)."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import time
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import select

from switchboard.db.session import Database
from switchboard.dialogs.models import Message
from tests.ops.metrics_text import scrape
from tests.realtime.server import ADMIN_LOGIN, ADMIN_PASSWORD, Server, open_socket
from tests.support import World


async def _world(server: Server, api: httpx.AsyncClient) -> World:
    return await World.connect(api, ADMIN_LOGIN, ADMIN_PASSWORD)


def _log_lines(server: Server) -> list[dict[str, Any]]:
    path = server.workdir / f"server-{server.port}.log"
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # every line is JSON, or this fails


async def test_logs_are_json_lines_with_request_ids_and_no_tokens(
    start_server: Callable[..., Server],
) -> None:
    server = start_server()  # stdout is a file, not a terminal: JSON
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as api:
        world = await _world(server, api)
        manager = await world.manager(status="active")
        answered = await api.get(
            "/api/v1/me", headers={**manager.headers, "X-Request-ID": "probe-7f3a"}
        )
        assert answered.headers["x-request-id"] == "probe-7f3a"
        async with open_socket(server, manager.token) as sock:
            live = await scrape(api)
            assert live.value("switchboard_websocket_connections") == 1
            await sock.close()
        for _ in range(50):
            if (await scrape(api)).value("switchboard_websocket_connections") == 0:
                break
            await asyncio.sleep(0.1)
        assert (await scrape(api)).value("switchboard_websocket_connections") == 0
    server.stop()
    lines = _log_lines(server)
    assert any(line.get("event") == "Application startup complete." for line in lines)
    probe = [line for line in lines if line.get("request_id") == "probe-7f3a"]
    assert [(p["event"], p["route"], p["status"]) for p in probe] == [
        ("request", "/api/v1/me", 200)
    ]
    sockets = [line for line in lines if line.get("event") == "websocket"]
    assert sockets and sockets[0]["route"] == "/api/v1/ws"
    text = (server.workdir / f"server-{server.port}.log").read_text()
    assert manager.token not in text and world.admin.token not in text


async def _in_flight_post(
    server: Server, path: str, token: str, body: bytes
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A request the server has started (it asked for the body with 100 Continue) and that
    waits for its body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Expect: 100-continue\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert interim.startswith(b"HTTP/1.1 100"), interim
    return reader, writer


def _refuses_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return False
    except OSError:
        return True


async def _wait_exit(server: Server, seconds: float) -> None:
    """The process ends, after its orderly shutdown (uvicorn then re-raises SIGTERM, so the exit
    status says what stopped it)."""
    assert server.process is not None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        code = server.process.poll()
        if code is not None:
            assert code in (0, -signal.SIGTERM), code
            events = [line.get("event") for line in _log_lines(server)]
            assert "Application shutdown complete." in events
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"still running {seconds}s after SIGTERM: {server.log_tail()}")


async def test_sigterm_finishes_in_flight_requests_and_closes_websockets_with_1012(
    start_server: Callable[..., Server], database_url: str
) -> None:
    server = start_server({"SWITCHBOARD_SHUTDOWN_TIMEOUT_SECONDS": "10"})
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as api:
        world = await _world(server, api)
        manager = await world.manager(status="active")
        person = (await world.client(manager=manager)).persons[0]
        dialog = await world.dialog(person, "personal_manager")
    body = json.dumps({"text": "отправлено до SIGTERM", "client_message_id": "in-flight"}).encode()
    async with open_socket(server, manager.token) as sock:
        reader, writer = await _in_flight_post(
            server, f"/api/v1/dialogs/{dialog['id']}/messages", person.token, body
        )
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)

        await asyncio.wait_for(sock._reader, 5)  # the server closed it
        assert sock.connection.close_code == 1012
        for _ in range(60):
            if _refuses_connections(server.port):
                break
            await asyncio.sleep(0.05)
        assert _refuses_connections(server.port)
        assert server.process.poll() is None  # still finishing the request in flight

        writer.write(body)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 201"), head
        writer.close()
    await _wait_exit(server, 10)

    db = Database(database_url)
    try:
        async with db.uow() as uow:
            stored = (
                await uow.session.scalars(
                    select(Message.text).where(Message.client_message_id == "in-flight")
                )
            ).all()
    finally:
        await db.dispose()
    assert stored == ["отправлено до SIGTERM"]


async def test_a_request_that_never_finishes_does_not_hold_shutdown_beyond_its_bound(
    start_server: Callable[..., Server],
) -> None:
    server = start_server({"SWITCHBOARD_SHUTDOWN_TIMEOUT_SECONDS": "1"})
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as api:
        world = await _world(server, api)
        person = (await world.client()).persons[0]
        dialog = await world.dialog(person, "general")
    reader, writer = await _in_flight_post(
        server, f"/api/v1/dialogs/{dialog['id']}/messages", person.token, b'{"text": "never sent"}'
    )
    assert server.process is not None
    server.process.send_signal(signal.SIGTERM)
    await _wait_exit(server, 8)  # 1 s for the request, then the application's own shutdown
    events = [line.get("event", "") for line in _log_lines(server)]
    assert any(e.startswith("Cancel 1 running task(s)") for e in events), events
    answer = await asyncio.wait_for(reader.read(), 5)
    assert answer.startswith(b"HTTP/1.1 503"), answer  # not a bare 500: "try again"
    assert b"service_restarting" in answer and b"application/problem+json" in answer
    writer.close()
