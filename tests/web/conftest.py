"""Browser tests: a real `switchboard serve` process and Debian's Chromium driven by Playwright.

Never a downloaded browser: Chromium comes from Debian's package (`.ci/run` installs it).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, async_playwright, expect

from tests.realtime.server import ADMIN_LOGIN, ADMIN_PASSWORD, Server
from tests.support import World
from tests.web.ui import CHROMIUM, CHROMIUM_ARGS, UI

expect.set_options(timeout=10_000)
HAVE_CHROMIUM = Path(CHROMIUM).exists()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    srv = Server(database_url, None, tmp_path)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def server_url(server: Server) -> str:
    return server.url


@pytest.fixture
async def world(server: Server) -> AsyncIterator[World]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as api:
        yield await World.connect(api, ADMIN_LOGIN, ADMIN_PASSWORD)


@pytest.fixture
async def ui(browser: Browser, server: Server, request: pytest.FixtureRequest) -> AsyncIterator[UI]:
    session = UI(browser, server.url, request.node.name)
    yield session
    await session.close()
    # Nothing may have broken in any page, and no script may have opened a dialog.
    assert session.page_errors == [], session.page_errors
    assert session.dialogs == [], session.dialogs
