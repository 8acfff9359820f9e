from __future__ import annotations

from sqlalchemy import select

from switchboard.appeals.models import Appeal
from switchboard.db.session import Uow
from switchboard.dialogs.models import Dialog, Participant
from switchboard.events.publish import Audience
from switchboard.people.models import Client


async def dialog_audience_txn(uow: Uow, dialog_id: int) -> Audience:
    """Who may see a dialog right now (SPEC 7.2-7.3): its person, its manager (PM dialogs),
    invited colleagues, the holder of its open appeal, and supervisors."""
    row = (
        await uow.session.execute(
            select(Dialog.person_id, Dialog.kind, Client.personal_manager_id)
            .join(Client, Client.id == Dialog.client_id)
            .where(Dialog.id == dialog_id)
        )
    ).one()
    employees: set[int] = set()
    if row.kind == "personal_manager" and row.personal_manager_id is not None:
        employees.add(row.personal_manager_id)
    employees.update(
        (
            await uow.session.execute(
                select(Participant.employee_id).where(Participant.dialog_id == dialog_id)
            )
        ).scalars()
    )
    holder = await uow.session.scalar(
        select(Appeal.assignee_id).where(Appeal.dialog_id == dialog_id, Appeal.status == "assigned")
    )
    if holder is not None:
        employees.add(holder)
    return Audience(employee_ids=employees, person_ids={row.person_id})
