from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import select

from switchboard.appeals.models import Appeal
from switchboard.appeals.serialize import Names, appeal_out_txn
from switchboard.db.session import Uow
from switchboard.dialogs.models import Dialog, Message, Participant
from switchboard.dialogs.schemas import (
    DialogClient,
    DialogOut,
    DialogPerson,
    MessageAuthor,
    MessageOut,
    ParticipantOut,
    PersonDialogOut,
)
from switchboard.kit.i18n import dialog_label
from switchboard.kit.schemas import EmployeeStatusRef
from switchboard.people.models import Client, Employee, Person


class MessageFields(Protocol):
    """A message as an entity or as a row of its columns."""

    @property
    def id(self) -> int: ...
    @property
    def dialog_id(self) -> int: ...
    @property
    def appeal_id(self) -> int | None: ...
    @property
    def author_type(self) -> str: ...
    @property
    def author_person_id(self) -> int | None: ...
    @property
    def author_employee_id(self) -> int | None: ...
    @property
    def text(self) -> str: ...
    @property
    def client_message_id(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...


MESSAGE_COLUMNS = (
    Message.id,
    Message.dialog_id,
    Message.appeal_id,
    Message.author_type,
    Message.author_person_id,
    Message.author_employee_id,
    Message.text,
    Message.client_message_id,
    Message.created_at,
)


def message_out(message: MessageFields, names: Names) -> MessageOut:
    """A message of a list page, its author's name from the page's `names`."""
    if message.author_type == "person":
        assert message.author_person_id is not None
        author = MessageAuthor(
            type="person",
            id=message.author_person_id,
            name=names.persons.get(message.author_person_id, ""),
        )
    elif message.author_type == "employee":
        assert message.author_employee_id is not None
        author = MessageAuthor(
            type="employee",
            id=message.author_employee_id,
            name=names.employees.get(message.author_employee_id, ""),
        )
    else:
        author = MessageAuthor(type="system", id=None, name="Switchboard")
    return MessageOut(
        id=message.id,
        dialog_id=message.dialog_id,
        appeal_id=message.appeal_id,
        author=author,
        text=message.text,
        client_message_id=message.client_message_id,
        created_at=message.created_at,
    )


async def message_out_txn(uow: Uow, message: Message) -> MessageOut:
    if message.author_type == "person":
        assert message.author_person_id is not None
        person = await uow.session.get(Person, message.author_person_id)
        author = MessageAuthor(
            type="person", id=message.author_person_id, name=person.name if person else ""
        )
    elif message.author_type == "employee":
        assert message.author_employee_id is not None
        employee = await uow.session.get(Employee, message.author_employee_id)
        author = MessageAuthor(
            type="employee",
            id=message.author_employee_id,
            name=employee.full_name if employee else "",
        )
    else:
        author = MessageAuthor(type="system", id=None, name="Switchboard")
    return MessageOut(
        id=message.id,
        dialog_id=message.dialog_id,
        appeal_id=message.appeal_id,
        author=author,
        text=message.text,
        client_message_id=message.client_message_id,
        created_at=message.created_at,
    )


async def responsible_txn(uow: Uow, dialog: Dialog, client: Client) -> EmployeeStatusRef | None:
    if dialog.kind != "personal_manager" or client.personal_manager_id is None:
        return None
    employee = await uow.session.get(Employee, client.personal_manager_id)
    if employee is None:
        return None
    return EmployeeStatusRef(id=employee.id, full_name=employee.full_name, status=employee.status)


async def open_appeal_of_txn(uow: Uow, dialog_id: int) -> Appeal | None:
    return await uow.session.scalar(
        select(Appeal)
        .where(Appeal.dialog_id == dialog_id, Appeal.status != "closed")
        .execution_options(populate_existing=True)
    )


async def participants_txn(uow: Uow, dialog_id: int) -> list[ParticipantOut]:
    rows = await uow.session.execute(
        select(Participant, Employee)
        .join(Employee, Employee.id == Participant.employee_id)
        .where(Participant.dialog_id == dialog_id)
        .order_by(Participant.invited_at, Participant.employee_id)
    )
    return [
        ParticipantOut(
            employee_id=e.id,
            full_name=e.full_name,
            status=e.status,
            invited_by=p.invited_by,
            invited_at=p.invited_at,
        )
        for p, e in rows
    ]


async def dialog_out_txn(uow: Uow, dialog: Dialog, lang: str) -> DialogOut:
    client = await uow.session.get(Client, dialog.client_id)
    person = await uow.session.get(Person, dialog.person_id)
    assert client is not None and person is not None
    appeal = await open_appeal_of_txn(uow, dialog.id)
    return DialogOut(
        id=dialog.id,
        kind=dialog.kind,
        label=dialog_label(dialog.kind, lang),
        client=DialogClient(id=client.id, kind=client.kind, name=client.name),
        person=DialogPerson(id=person.id, name=person.name),
        responsible=await responsible_txn(uow, dialog, client),
        participants=await participants_txn(uow, dialog.id),
        open_appeal=await appeal_out_txn(uow, appeal) if appeal else None,
        created_at=dialog.created_at,
        last_message_at=dialog.last_message_at,
    )


async def person_dialog_out_txn(
    uow: Uow, dialog: Dialog, client: Client, lang: str
) -> PersonDialogOut:
    appeal = await open_appeal_of_txn(uow, dialog.id)
    return PersonDialogOut(
        id=dialog.id,
        kind=dialog.kind,
        label=dialog_label(dialog.kind, lang),
        responsible=await responsible_txn(uow, dialog, client),
        open_appeal=await appeal_out_txn(uow, appeal) if appeal else None,
    )
