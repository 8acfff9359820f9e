"""Test database and app fixtures.

The schema is built once per session with the migrations (never create_all). Each test then gets
a clean database: on SQLite a copy of the migrated file, on PostgreSQL the tables truncated.
Set SWITCHBOARD_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test for PostgreSQL.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from switchboard.app import create_app
from switchboard.auth import passwords
from switchboard.config import Settings
from switchboard.db.engine import is_sqlite_url, sync_url
from switchboard.db.migrate import upgrade
from switchboard.db.models import metadata
from tests.support import World

# Argon2 with its production cost takes ~50 ms a hash; the tests create hundreds of logins.
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

TEST_DATABASE_URL = os.environ.get("SWITCHBOARD_TEST_DATABASE_URL", "")


def _is_postgres() -> bool:
    return bool(TEST_DATABASE_URL) and not is_sqlite_url(TEST_DATABASE_URL)


def _admin_engine(url: str):  # type: ignore[no-untyped-def]
    return create_engine(
        sync_url(url).replace("+asyncpg", "+psycopg2"), isolation_level="AUTOCOMMIT"
    )


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if _is_postgres():
        # A database of this run's own, so that concurrent runs never share tables.
        name = f"switchboard_test_{os.getpid()}"
        base = make_url(sync_url(TEST_DATABASE_URL))
        admin = _admin_engine(TEST_DATABASE_URL)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.set(database=name).render_as_string(hide_password=False)
        asyncio.run(upgrade(url))
        yield url
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        return
    path = tmp_path_factory.mktemp("db") / "template.db"
    asyncio.run(upgrade(f"sqlite:///{path}"))
    yield str(path)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "postgres_only: needs several connections to one PostgreSQL (deselected on SQLite)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _is_postgres():
        return
    kept = [i for i in items if i.get_closest_marker("postgres_only") is None]
    deselected = [i for i in items if i.get_closest_marker("postgres_only") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


_TABLES = [t.name for t in metadata.sorted_tables]


def _reset_postgres(url: str) -> None:
    engine = create_engine(sync_url(url).replace("+asyncpg", "+psycopg2"))
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(_TABLES)} RESTART IDENTITY CASCADE"))
        conn.execute(
            text(
                "INSERT INTO settings (id, default_general_limit, requeue_general_on_inactive,"
                " pm_appeals_count_toward_limit, offline_grace_seconds)"
                " VALUES (1, 3, true, false, 60)"
            )
        )
    engine.dispose()


def _fresh_database(template: str, folder: Path) -> str:
    if _is_postgres():
        _reset_postgres(template)
        return template
    path = folder / f"switchboard-{next(_fresh_numbers)}.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


_fresh_numbers = itertools.count(1)


@pytest.fixture
def database_url(migrated_template: str, tmp_path: Path) -> str:
    return _fresh_database(migrated_template, tmp_path)


@pytest.fixture
def fresh_database(migrated_template: str, tmp_path: Path) -> Callable[[], str]:
    """For tests that need many clean databases in one test (stateful machines)."""
    return lambda: _fresh_database(migrated_template, tmp_path)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, secret_key="test-secret-key", redis_url=None)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[object]:
    application = create_app(settings, run_sweeper_task=False)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def api(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def world(api: httpx.AsyncClient, app: object) -> World:
    return await World.start(api, app)
