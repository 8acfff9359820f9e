"""Bank secrecy (SPEC 7.2-7.3): who may see and act on a dialog.

Everyone else gets 404 — for an action, too, even a caller who may read the dialog (the table of
SPEC 7.3: "everyone else gets 404"). A missing *permission* (API.md) is 403.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from switchboard.appeals.models import Appeal
from switchboard.auth.principals import Principal
from switchboard.db.session import Uow
from switchboard.dialogs.models import Dialog, Participant
from switchboard.events.publish import Audience
from switchboard.kit.errors import NotFound
from switchboard.people.models import Client


@dataclass
class DialogAccess:
    dialog: Dialog
    client: Client
    open_appeal: Appeal | None
    is_person: bool  # the dialog's own person
    is_manager: bool  # responsible PM of a PM dialog
    is_participant: bool
    is_holder: bool  # holds the open appeal
    is_supervisor: bool
    participant_ids: set[int] = field(default_factory=set)

    def audience(self) -> Audience:
        """Who may see the dialog as it stands (SPEC 7.2): the same rule as
        `dialog_audience_txn`, from what was loaded already."""
        employees = set(self.participant_ids)
        if self.dialog.kind == "personal_manager" and self.client.personal_manager_id is not None:
            employees.add(self.client.personal_manager_id)
        if self.open_appeal is not None and self.open_appeal.assignee_id is not None:
            employees.add(self.open_appeal.assignee_id)
        return Audience(employee_ids=employees, person_ids={self.dialog.person_id})

    @property
    def may_read(self) -> bool:
        return (
            self.is_person
            or self.is_manager
            or self.is_participant
            or self.is_holder
            or self.is_supervisor
        )

    def require_invite(self) -> None:
        if not (self.is_manager or self.is_supervisor):
            raise NotFound(
                "dialog_not_found", "only the dialog's personal manager or a supervisor may"
            )


async def dialog_access_txn(
    uow: Uow, principal: Principal, dialog_id: int, *, lock_appeal: bool = False
) -> DialogAccess:
    dialog = await uow.session.get(Dialog, dialog_id)
    if dialog is None:
        raise NotFound("dialog_not_found", f"no dialog {dialog_id}")
    client = await uow.session.get(Client, dialog.client_id)
    assert client is not None
    stmt = select(Appeal).where(Appeal.dialog_id == dialog.id, Appeal.status != "closed")
    if lock_appeal and not uow.is_sqlite:
        stmt = stmt.with_for_update()
    open_appeal = await uow.session.scalar(stmt.execution_options(populate_existing=True))
    employee = principal.employee
    access = DialogAccess(
        dialog=dialog,
        client=client,
        open_appeal=open_appeal,
        is_person=principal.person is not None and principal.person.id == dialog.person_id,
        is_manager=employee is not None
        and dialog.kind == "personal_manager"
        and client.personal_manager_id == employee.id,
        is_participant=False,
        is_holder=employee is not None
        and open_appeal is not None
        and open_appeal.status == "assigned"
        and open_appeal.assignee_id == employee.id,
        is_supervisor=employee is not None and employee.has("supervise"),
    )
    access.participant_ids = set(
        (
            await uow.session.execute(
                select(Participant.employee_id).where(Participant.dialog_id == dialog.id)
            )
        )
        .scalars()
        .all()
    )
    access.is_participant = employee is not None and employee.id in access.participant_ids
    if not access.may_read:
        raise NotFound("dialog_not_found", f"no dialog {dialog_id}")
    return access
