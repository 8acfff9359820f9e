from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.realtime.server import ADMIN_LOGIN, ADMIN_PASSWORD, Server
from tests.support import World

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    srv = Server(database_url, None, tmp_path)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
async def live(server: Server) -> AsyncIterator[World]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as api:
        yield await World.connect(api, ADMIN_LOGIN, ADMIN_PASSWORD)


FAST_PRESENCE = {"SWITCHBOARD_PRESENCE_HEARTBEAT_SECONDS": "0.5"}


@pytest.fixture
def two_servers(database_url: str, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    first = Server(database_url, REDIS_URL, tmp_path, dict(FAST_PRESENCE))
    first.start()
    second = Server(database_url, REDIS_URL, tmp_path, dict(FAST_PRESENCE))
    second.start()
    yield first, second
    first.stop()
    second.stop()


@pytest.fixture
async def live2(two_servers: tuple[Server, Server]) -> AsyncIterator[World]:
    async with httpx.AsyncClient(base_url=two_servers[0].url, timeout=10) as api:
        yield await World.connect(api, ADMIN_LOGIN, ADMIN_PASSWORD)
