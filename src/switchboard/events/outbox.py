from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.db.session import PendingEvent
from switchboard.events.models import EventRecipient, EventRecord
from switchboard.kit.clock import utcnow


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
        result = await session.execute(insert(EventRecord).returning(EventRecord.id), rows[0])
    else:
        result = await session.execute(
            insert(EventRecord).returning(EventRecord.id, sort_by_parameter_order=True), rows
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
        await session.execute(insert(EventRecipient), recipients)
    return ids
