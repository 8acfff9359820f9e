"""Status changes made through the API, applied together when they arrive together.

Every status change takes the routing lock and ends with a general routing pass, so changes
queue behind each other; when a shift starts and two hundred operators press «Активен» within
a second, each would read every active operator, route, and commit on its own. The lane gathers
the changes that arrive while a transaction is running and applies them in the next one, in
order, with one routing pass for all (`service.set_statuses_txn`): a group commit. Each request
is answered once the transaction holding its change has committed, as before; a refused change
gets its own error and leaves the others standing.

The waiting requests hold no database connection: the endpoint gives its own back before it
joins the lane, so a burst does not exhaust the pool.
"""

from __future__ import annotations

import asyncio

import structlog

from switchboard.db.errors import database_away
from switchboard.db.session import Database
from switchboard.kit.errors import DomainError, Unavailable
from switchboard.people.service import StatusChange, set_statuses_txn

log = structlog.get_logger(__name__)

_Waiting = tuple[StatusChange, "asyncio.Future[str]"]


class StatusLane:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._waiting: list[_Waiting] = []
        self._worker: asyncio.Task[None] | None = None
        self.transactions = 0  # how many transactions the lane has run (for tests)

    async def change(self, change: StatusChange) -> str:
        """Apply one change; returns the employee's status once it is committed, or raises the
        error that refused it."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiting.append((change, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        # A request that goes away does not cancel the change: it is already on its way.
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        batch: list[_Waiting] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                failure = await self._apply(batch)
                if failure is None:
                    continue
                if len(batch) == 1 or database_away(failure):
                    # A change alone, or nobody's change can be written now (503): each hears
                    # so at once.
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(failure)
                    continue
                # The transaction failed as a whole: each change alone, so one change's
                # failure does not become everyone's.
                for waiting in batch:
                    alone = await self._apply([waiting])
                    if alone is not None and not waiting[1].done():
                        waiting[1].set_exception(alone)
        finally:
            # Cancelled (the server is stopping): whoever still waits is told to try again.
            for _, future in [*batch, *self._waiting]:
                if not future.done():
                    future.set_exception(
                        Unavailable("service_unavailable", "the server is stopping; try again")
                    )

    async def _apply(self, batch: list[_Waiting]) -> BaseException | None:
        """One transaction for the batch, answering each change; the failure if it failed as a
        whole (its futures are then left to the caller)."""
        self.transactions += 1
        try:
            async with self.db.uow() as uow:
                outcomes = await set_statuses_txn(uow, [change for change, _ in batch])
                # Each answer is the status as that change left it (a later change in the same
                # batch may have changed the same employee again).
                answers = [
                    outcome if isinstance(outcome, DomainError) else change.status
                    for (change, _), outcome in zip(batch, outcomes, strict=True)
                ]
                await uow.commit()
        except Exception as exc:
            if len(batch) > 1:
                log.warning("status_lane.batch_failed", size=len(batch), error=repr(exc)[:300])
            return exc
        for (_, future), answer in zip(batch, answers, strict=True):
            if future.done():
                continue
            if isinstance(answer, DomainError):
                future.set_exception(answer)
            else:
                future.set_result(answer)
        return None
