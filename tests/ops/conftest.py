from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.realtime.server import Server


class Servers:
    """Real `switchboard serve` processes, each stopped at the end of the test (even one that
    failed to become ready)."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.started: list[Server] = []

    def make(
        self,
        env: dict[str, str] | None = None,
        *,
        database: str | None = None,
        redis: str | None = None,
    ) -> Server:
        server = Server(database or self.database_url, redis, self.workdir, dict(env or {}))
        self.started.append(server)
        return server

    def __call__(
        self,
        env: dict[str, str] | None = None,
        *,
        database: str | None = None,
        redis: str | None = None,
    ) -> Server:
        server = self.make(env, database=database, redis=redis)
        server.start()
        return server

    def stop_all(self) -> None:
        for server in self.started:
            server.stop()


@pytest.fixture
def start_server(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    servers = Servers(database_url, tmp_path)
    yield servers
    servers.stop_all()
