from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from switchboard.db.engine import create_engine, is_sqlite_url

# Advisory lock keys (PostgreSQL). Taken in this order, never the other way round.
ROUTING_LOCK = 0x5357_0001
EVENT_APPEND_LOCK = 0x5357_0002
MIGRATION_LOCK = 0x5357_0003


@dataclass
class PendingEvent:
    type: str
    data: dict[str, Any]
    dialog_id: int | None
    employee_ids: set[int] = field(default_factory=set)
    person_ids: set[int] = field(default_factory=set)
    supervisors: bool = True
    all_employees: bool = False


class Database:
    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 20,
        connect_timeout: float = 3.0,
        command_timeout: float = 10.0,
        pool_timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.engine: AsyncEngine = create_engine(
            url,
            pool_size=pool_size,
            connect_timeout=connect_timeout,
            command_timeout=command_timeout,
            pool_timeout=pool_timeout,
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self.is_sqlite = is_sqlite_url(url)
        # Told the newest event id after every commit that wrote events (the broker).
        self.commit_listeners: list[Callable[[int], None]] = []
        # Handed the events themselves, with their ids (this process's hub).
        self.event_listeners: list[Callable[[list[tuple[int, PendingEvent]]], None]] = []
        # Shown the events of every commit (the metrics count assignments by reason).
        self.event_observers: list[Callable[[list[PendingEvent]], None]] = []

    def announce(self, events: list[tuple[int, PendingEvent]]) -> None:
        """After a commit that wrote events: to this process's hub (the events themselves), to
        the observers (metrics), then to the broker (the newest id)."""
        for hand_out in self.event_listeners:
            hand_out(events)
        for observer in self.event_observers:
            observer([event for _, event in events])
        for listener in self.commit_listeners:
            listener(events[-1][0])

    async def dispose(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def uow(self) -> AsyncIterator[Uow]:
        async with self.sessionmaker() as session:
            uow = Uow(session, is_sqlite=self.is_sqlite, database=self)
            try:
                yield uow
            finally:
                if not uow.committed:
                    try:
                        await session.rollback()
                    except Exception:
                        # The connection is gone (the database rolls back on its own); raising
                        # here would break a response already on its way, or hide the real error.
                        await session.invalidate()


class Uow:
    """One transaction: services change state and queue events; only the edge commits.

    Events are appended at commit, under a lock on PostgreSQL, so that event ids become visible
    in the order they were handed out (API.md "Real time").
    """

    def __init__(
        self,
        session: AsyncSession,
        *,
        is_sqlite: bool,
        database: Database | None = None,
    ) -> None:
        self.session = session
        self._database = database
        self.is_sqlite = is_sqlite
        self.events: list[PendingEvent] = []
        self.committed = False
        self._routing_locked = False

    def emit(self, event: PendingEvent) -> None:
        self.events.append(event)

    async def lock_routing_txn(self) -> None:
        """Serialise routing decisions across processes (SPEC 9; ARCHITECTURE rule 4)."""
        if self._routing_locked:
            return
        if not self.is_sqlite:
            await self.session.execute(
                text("SELECT pg_advisory_xact_lock(:k)"), {"k": ROUTING_LOCK}
            )
        self._routing_locked = True

    async def commit(self) -> list[int]:
        from switchboard.events.outbox import append_events_txn

        ids: list[int] = []
        if self.events:
            if not self.is_sqlite:
                await self.session.execute(
                    text("SELECT pg_advisory_xact_lock(:k)"), {"k": EVENT_APPEND_LOCK}
                )
            ids = await append_events_txn(self.session, self.events)
        await self.session.commit()
        self.committed = True
        events, self.events = self.events, []
        self._routing_locked = False
        if ids and self._database is not None:
            self._database.announce(list(zip(ids, events, strict=True)))
        return ids

    async def rollback(self) -> None:
        await self.session.rollback()
        self.events = []
        self._routing_locked = False
