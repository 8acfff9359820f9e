from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select

from switchboard.appeals.models import Appeal
from switchboard.db.params import chunked
from switchboard.db.session import Uow
from switchboard.dialogs.models import Dialog, Participant
from switchboard.events.publish import Audience
from switchboard.people.models import Client


async def dialog_audience_txn(uow: Uow, dialog_id: int) -> Audience:
    """Who may see a dialog right now (SPEC 7.2-7.3): its person, its manager (PM dialogs),
    invited colleagues, the holder of its open appeal, and supervisors."""
    return (await dialog_audiences_txn(uow, [dialog_id]))[dialog_id]


async def dialog_audiences_txn(uow: Uow, dialog_ids: Collection[int]) -> dict[int, Audience]:
    """`dialog_audience_txn` for many dialogs in three statements (a routing burst)."""
    wanted = sorted(set(dialog_ids))
    audiences: dict[int, Audience] = {}
    for chunk in chunked(wanted):
        rows = await uow.session.execute(
            select(Dialog.id, Dialog.person_id, Dialog.kind, Client.personal_manager_id)
            .join(Client, Client.id == Dialog.client_id)
            .where(Dialog.id.in_(chunk))
        )
        for row in rows:
            employees: set[int] = set()
            if row.kind == "personal_manager" and row.personal_manager_id is not None:
                employees.add(row.personal_manager_id)
            audiences[row.id] = Audience(employee_ids=employees, person_ids={row.person_id})
        invited = await uow.session.execute(
            select(Participant.dialog_id, Participant.employee_id).where(
                Participant.dialog_id.in_(chunk)
            )
        )
        for dialog_id, employee_id in invited:
            audiences[dialog_id].employee_ids.add(employee_id)
        holders = await uow.session.execute(
            select(Appeal.dialog_id, Appeal.assignee_id).where(
                Appeal.dialog_id.in_(chunk), Appeal.status == "assigned"
            )
        )
        for dialog_id, holder in holders:
            if holder is not None:
                audiences[dialog_id].employee_ids.add(holder)
    return audiences
