from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.db.session import PendingEvent
from switchboard.events.models import EventRecord
from switchboard.kit.clock import utcnow


async def append_events_txn(session: AsyncSession, events: list[PendingEvent]) -> list[int]:
    now = utcnow()
    rows = [
        {
            "type": e.type,
            "data": e.data,
            "dialog_id": e.dialog_id,
            "employee_ids": sorted(e.employee_ids),
            "person_ids": sorted(e.person_ids),
            "supervisors": e.supervisors,
            "all_employees": e.all_employees,
            "created_at": now,
        }
        for e in events
    ]
    ids: list[int] = []
    for row in rows:
        result = await session.execute(insert(EventRecord).values(**row).returning(EventRecord.id))
        ids.append(int(result.scalar_one()))
    return ids
