"""Which events a reader may see (their audience, fixed when the change happened)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select

from switchboard.auth.principals import Principal
from switchboard.db.session import Uow
from switchboard.events.models import EventRecipient, EventRecord


@dataclass(frozen=True)
class Reader:
    """A principal reduced to what decides which events it may see."""

    type: str  # "e" | "p"
    id: int
    supervisor: bool

    @staticmethod
    def of(principal: Principal) -> Reader:
        if principal.employee is not None:
            return Reader("e", principal.employee.id, principal.employee.has("supervise"))
        assert principal.person is not None
        return Reader("p", principal.person.id, False)

    def may_see(self, event: FeedEvent) -> bool:
        if self.type == "e" and (event.all_employees or (event.supervisors and self.supervisor)):
            return True
        return (self.type, self.id) in event.recipients


@dataclass(frozen=True)
class FeedEvent:
    id: int
    type: str
    data: dict[str, Any]
    supervisors: bool
    all_employees: bool
    recipients: frozenset[tuple[str, int]]

    def wire(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "data": self.data}

    @cached_property
    def wire_text(self) -> str:
        """The wire shape as JSON, encoded once for every connection that gets it."""
        return json.dumps(self.wire(), ensure_ascii=False, separators=(",", ":"))


def _visible_to(reader: Reader, after: int) -> ColumnElement[bool]:
    listed = EventRecord.id.in_(
        select(EventRecipient.event_id).where(
            EventRecipient.reader_type == reader.type,
            EventRecipient.reader_id == reader.id,
            EventRecipient.event_id > after,
        )
    )
    conditions: list[ColumnElement[bool]] = [listed]
    if reader.type == "e":
        conditions.append(EventRecord.all_employees.is_(True))
        if reader.supervisor:
            conditions.append(EventRecord.supervisors.is_(True))
    return or_(false(), *conditions)


async def events_for_txn(uow: Uow, reader: Reader, after: int, limit: int) -> list[dict[str, Any]]:
    """The reader's events with id > after, oldest first, in the wire shape."""
    rows = await uow.session.execute(
        select(EventRecord.id, EventRecord.type, EventRecord.data)
        .where(EventRecord.id > after, _visible_to(reader, after))
        .order_by(EventRecord.id)
        .limit(limit)
    )
    return [{"id": r.id, "type": r.type, "data": r.data} for r in rows]


async def all_events_after_txn(uow: Uow, after: int, limit: int) -> list[FeedEvent]:
    """Every event with id > after, with its audience: what a process fans out."""
    events = (
        await uow.session.execute(
            select(
                EventRecord.id,
                EventRecord.type,
                EventRecord.data,
                EventRecord.supervisors,
                EventRecord.all_employees,
            )
            .where(EventRecord.id > after)
            .order_by(EventRecord.id)
            .limit(limit)
        )
    ).all()
    if not events:
        return []
    ids = [e.id for e in events]
    readers: dict[int, set[tuple[str, int]]] = {i: set() for i in ids}
    rows = await uow.session.execute(
        select(EventRecipient.event_id, EventRecipient.reader_type, EventRecipient.reader_id).where(
            EventRecipient.event_id >= ids[0], EventRecipient.event_id <= ids[-1]
        )
    )
    for event_id, reader_type, reader_id in rows:
        if event_id in readers:
            readers[event_id].add((reader_type, reader_id))
    return [
        FeedEvent(e.id, e.type, e.data, e.supervisors, e.all_employees, frozenset(readers[e.id]))
        for e in events
    ]


async def last_event_id_txn(uow: Uow) -> int:
    from sqlalchemy import func

    return int(await uow.session.scalar(select(func.max(EventRecord.id))) or 0)
