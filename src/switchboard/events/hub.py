"""A process's fan-out: reads new events from the database once, hands each to the live
connections whose reader may see it, in id order."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from switchboard.db.session import Database, PendingEvent
from switchboard.events.feed import FeedEvent, Reader, all_events_after_txn, last_event_id_txn

log = structlog.get_logger(__name__)
PAGE = 500


class Subscriber:
    """One live connection's mailbox. A reader too slow to keep up is told to reconnect."""

    def __init__(self, reader: Reader, capacity: int = 10_000) -> None:
        self.reader = reader
        self.queue: asyncio.Queue[FeedEvent] = asyncio.Queue(maxsize=capacity)
        self.overflowed = asyncio.Event()

    def offer(self, event: FeedEvent) -> None:
        if self.overflowed.is_set() or not self.reader.may_see(event):
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed.set()


class EventHub:
    def __init__(self, db: Database, *, poll_interval: float = 1.0) -> None:
        self.db = db
        self.poll_interval = poll_interval
        self.last_id = 0
        self.announced = 0  # the newest id known committed (told by a commit or by Redis)
        self.subscribers: set[Subscriber] = set()
        # The same connections by who may see what: an event costs its audience, not everyone.
        self._by_reader: dict[tuple[str, int], set[Subscriber]] = {}
        self._supervisors: set[Subscriber] = set()
        self._employees: set[Subscriber] = set()
        self._must_read = True  # told "look at the database" without an id
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        async with self.db.uow() as uow:
            self.last_id = await last_event_id_txn(uow)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def wake(self, event_id: int = 0) -> None:
        if event_id:
            self.announced = max(self.announced, event_id)
        else:
            self._must_read = True
        self._wake.set()

    def committed_here(self, events: list[tuple[int, PendingEvent]]) -> None:
        """Events this process just committed: when they follow on from the last one handed
        out, hand them out from memory — no read. Otherwise (another process's events came in
        between, or a rolled-back id left a gap) the database decides."""
        if not events or events[-1][0] <= self.last_id:
            return
        if events[0][0] != self.last_id + 1:
            self.wake(events[-1][0])
            return
        for event_id, pending in events:
            recipients = frozenset(
                [("e", e) for e in pending.employee_ids] + [("p", p) for p in pending.person_ids]
            )
            self._offer(
                FeedEvent(
                    event_id,
                    pending.type,
                    pending.data,
                    pending.supervisors,
                    pending.all_employees,
                    recipients,
                )
            )
        self.last_id = events[-1][0]
        self.announced = max(self.announced, self.last_id)

    def _offer(self, event: FeedEvent) -> None:
        if event.all_employees:
            targets = set(self._employees)
        elif event.supervisors:
            targets = set(self._supervisors)
        else:
            targets = set()
        for reader in event.recipients:
            targets.update(self._by_reader.get(reader, ()))
        for subscriber in targets:
            subscriber.offer(event)  # which checks `may_see` once more

    def subscribe(self, reader: Reader) -> Subscriber:
        subscriber = Subscriber(reader)
        self.subscribers.add(subscriber)
        self._by_reader.setdefault((reader.type, reader.id), set()).add(subscriber)
        if reader.type == "e":
            self._employees.add(subscriber)
            if reader.supervisor:
                self._supervisors.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)
        key = (subscriber.reader.type, subscriber.reader.id)
        same = self._by_reader.get(key)
        if same is not None:
            same.discard(subscriber)
            if not same:
                del self._by_reader[key]
        self._employees.discard(subscriber)
        self._supervisors.discard(subscriber)

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)
            except TimeoutError:
                self._must_read = True  # a process that cannot tell us (no Redis) may have
            self._wake.clear()
            if not self._must_read and self.announced <= self.last_id:
                continue  # everything announced was handed out from memory
            self._must_read = False
            try:
                await self.deliver_new()
            except Exception as exc:  # the database is away: try again on the next tick
                log.warning("hub.fetch_failed", error=str(exc))

    async def deliver_new(self) -> None:
        if not self.subscribers and self.announced > self.last_id:
            # Nobody to hand anything to: skip what is known committed. One who subscribes
            # from now on replays it from the database (events/api.py `_catch_up`).
            self.last_id = self.announced
            return
        while True:
            async with self.db.uow() as uow:
                events = await all_events_after_txn(uow, self.last_id, PAGE)
            for event in events:
                if event.id <= self.last_id:
                    continue  # handed out from memory meanwhile
                self._offer(event)
                self.last_id = event.id
            if len(events) < PAGE:
                return
