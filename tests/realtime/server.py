"""Real `switchboard serve` processes for the real-time tests."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets

ADMIN_LOGIN = "root"
ADMIN_PASSWORD = "root-password-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    database_url: str
    redis_url: str | None
    workdir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/v1/ws"

    def start(self) -> None:
        self.port = self.port or free_port()
        env = {
            **os.environ,
            "SWITCHBOARD_DATABASE_URL": self.database_url,
            "SWITCHBOARD_SECRET_KEY": "realtime-test-secret",
            "SWITCHBOARD_ADMIN_LOGIN": ADMIN_LOGIN,
            "SWITCHBOARD_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "SWITCHBOARD_SWEEP_INTERVAL_SECONDS": "0.3",
            "SWITCHBOARD_EVENT_POLL_SECONDS": "0.5",
            **self.extra_env,
        }
        env.pop("SWITCHBOARD_REDIS_URL", None)
        if self.redis_url:
            env["SWITCHBOARD_REDIS_URL"] = self.redis_url
        log = open(self.workdir / f"server-{self.port}.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "switchboard.cli", "serve", "--port", str(self.port)],
            cwd=self.workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log_tail()}")

    def log_tail(self) -> str:
        path = self.workdir / f"server-{self.port}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


class Socket:
    """A WebSocket client that collects the events it receives."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.events: list[dict[str, Any]] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.connection:
                message = json.loads(raw)
                if "id" in message:
                    self.events.append(message)
        except websockets.ConnectionClosed:
            pass

    async def wait_for(self, predicate: Any, timeout: float = 2.0) -> dict[str, Any]:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events:
                if predicate(event):
                    return event
            await asyncio.sleep(0.02)
        raise AssertionError(f"no matching event within {timeout}s; got {self.events}")

    async def close(self) -> None:
        await self.connection.close()
        await self._reader


@asynccontextmanager
async def open_socket(
    server: Server, token: str, after: int | None = None
) -> AsyncIterator[Socket]:
    url = f"{server.ws_url}?token={token}"
    if after is not None:
        url += f"&after={after}"
    connection = await websockets.connect(url, open_timeout=5)
    sock = Socket(connection)
    try:
        yield sock
    finally:
        await sock.close()
