"""The periodic healing sweep: routes whatever is left queued while its target is available."""

from __future__ import annotations

import structlog

from switchboard.db.session import Database
from switchboard.routing import engine

log = structlog.get_logger(__name__)


async def sweep_once(db: Database) -> int:
    async with db.uow() as uow:
        moved = await engine.sweep_txn(uow)
        await uow.commit()
    if moved:
        log.info("sweep.routed", appeals=moved)
    return moved
