from __future__ import annotations

from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.db.session import PendingEvent
from switchboard.events.models import EventRecipient, EventRecord
from switchboard.kit.clock import utcnow

# The tables themselves: the ORM's bulk-insert bookkeeping per row buys nothing here.
_EVENTS = cast(Table, EventRecord.__table__)
_RECIPIENTS = cast(Table, EventRecipient.__table__)


async def append_events_txn(session: AsyncSession, events: list[PendingEvent]) -> list[int]:
    """Insert the transaction's events and their recipients; returns the new ids in order.

    One INSERT for all the events (ids drawn in the order they were emitted, returned in that
    order) and one for all their recipients.
    """
    now = utcnow()
    rows = [
        {
            "type": event.type,
            "data": event.data,
            "dialog_id": event.dialog_id,
            "supervisors": event.supervisors,
            "all_employees": event.all_employees,
            "created_at": now,
        }
        for event in events
    ]
    if len(rows) == 1:
        result = await session.execute(insert(_EVENTS).returning(_EVENTS.c.id), rows[0])
    else:
        result = await session.execute(
            insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True), rows
        )
    ids = [int(i) for i in result.scalars().all()]
    recipients: list[dict[str, object]] = []
    for event_id, event in zip(ids, events, strict=True):
        recipients += [
            {"event_id": event_id, "reader_type": "e", "reader_id": e} for e in event.employee_ids
        ]
        recipients += [
            {"event_id": event_id, "reader_type": "p", "reader_id": p} for p in event.person_ids
        ]
    if recipients:
        await session.execute(insert(_RECIPIENTS), recipients)
    return ids
