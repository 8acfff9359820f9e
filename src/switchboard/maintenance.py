"""A process's background duties: heal routing, keep presence, prune old events.

Each duty is a database transaction that is safe on any number of processes at once; nothing
here keeps state in memory that a restart would lose.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import structlog
from sqlalchemy import delete

from switchboard.db.session import Database
from switchboard.events.models import EventRecord
from switchboard.kit.clock import utcnow
from switchboard.people import presence
from switchboard.routing.sweep import sweep_once

log = structlog.get_logger(__name__)
PRUNE_EVERY_SECONDS = 600.0


async def presence_sweep_once(db: Database, heartbeat_seconds: float) -> list[int]:
    async with db.uow() as uow:
        offline = await presence.presence_sweep_txn(uow, heartbeat_seconds)
        await uow.commit()
    if offline:
        log.info("presence.set_offline", employees=offline)
    return offline


async def prune_events(db: Database, retention_seconds: int) -> None:
    async with db.uow() as uow:
        cutoff = utcnow() - timedelta(seconds=retention_seconds)
        await uow.session.execute(delete(EventRecord).where(EventRecord.created_at < cutoff))
        await uow.commit()


async def run_maintenance(
    db: Database,
    process_id: str,
    *,
    interval_seconds: float,
    retention_seconds: int,
    heartbeat_seconds: float,
) -> None:
    last_heartbeat = 0.0
    last_prune = 0.0
    while True:
        now = time.monotonic()
        duties: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            ("sweep", lambda: sweep_once(db)),
            ("presence", lambda: presence_sweep_once(db, heartbeat_seconds)),
        ]
        if now - last_heartbeat >= heartbeat_seconds:
            duties.insert(0, ("heartbeat", lambda: presence.heartbeat(db, process_id)))
            last_heartbeat = now
        if now - last_prune >= PRUNE_EVERY_SECONDS:
            duties.append(("prune", lambda: prune_events(db, retention_seconds)))
            last_prune = now
        for name, duty in duties:
            try:
                await duty()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: the next round tries again
                log.warning("maintenance.failed", duty=name, error=str(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.sleep(interval_seconds)
