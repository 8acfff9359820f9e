from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def async_url(url: str) -> str:
    """Accept plain and driver forms: sqlite:///x.db, postgresql://..., postgresql+asyncpg://..."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif backend in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    else:
        raise ValueError(f"unsupported database: {backend}")
    return parsed.render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    parsed = make_url(async_url(url))
    if parsed.get_backend_name() == "sqlite":
        parsed = parsed.set(drivername="sqlite")
    return parsed.render_as_string(hide_password=False)


def is_sqlite_url(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(
    url: str,
    *,
    pool_size: int = 20,
    connect_timeout: float = 3.0,
    command_timeout: float | None = 10.0,
    pool_timeout: float = 5.0,
) -> AsyncEngine:
    """Every wait on PostgreSQL is bounded (docs/operations.md): a request facing an unreachable
    database fails fast with 503 instead of hanging.

    No pre-ping: on asyncpg it costs three round trips (BEGIN, ping, ROLLBACK) per checkout. A
    connection found dead in use fails its request with 503 and invalidates the pool, so the
    requests after it reconnect.

    No overflow: connections beyond the pool's size would be closed as soon as they are given
    back, and under a steady load above the pool's size the process would spend its time opening
    connections and preparing statements on them again. A request beyond the pool waits for a
    connection (at most `pool_timeout`) instead."""
    full = async_url(url)
    if is_sqlite_url(full):
        engine = create_async_engine(full, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    connect_args: dict[str, float] = {"timeout": connect_timeout}
    if command_timeout is not None:
        connect_args["command_timeout"] = command_timeout
    return create_async_engine(
        full,
        pool_size=pool_size,
        max_overflow=0,
        pool_recycle=1800,
        pool_timeout=pool_timeout,
        connect_args=connect_args,
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE so writers serialise up front."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
