from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.db.session import PendingEvent
from switchboard.events.models import EventRecipient, EventRecord
from switchboard.kit.clock import utcnow


async def append_events_txn(session: AsyncSession, events: list[PendingEvent]) -> list[int]:
    """Insert the transaction's events and their recipients; returns the new ids in order."""
    now = utcnow()
    ids: list[int] = []
    recipients: list[dict[str, object]] = []
    for event in events:
        event_id = int(
            (
                await session.execute(
                    insert(EventRecord)
                    .values(
                        type=event.type,
                        data=event.data,
                        dialog_id=event.dialog_id,
                        supervisors=event.supervisors,
                        all_employees=event.all_employees,
                        created_at=now,
                    )
                    .returning(EventRecord.id)
                )
            ).scalar_one()
        )
        ids.append(event_id)
        recipients += [
            {"event_id": event_id, "reader_type": "e", "reader_id": e} for e in event.employee_ids
        ]
        recipients += [
            {"event_id": event_id, "reader_type": "p", "reader_id": p} for p in event.person_ids
        ]
    if recipients:
        await session.execute(insert(EventRecipient), recipients)
    return ids
