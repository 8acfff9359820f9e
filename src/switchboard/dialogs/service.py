"""Dialogs, messages, participants and read marks (SPEC 2, 3.1, 3.3, 5.5, 7)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from switchboard.appeals.models import Appeal
from switchboard.auth.principals import Principal
from switchboard.db.session import Uow
from switchboard.dialogs.access import DialogAccess, dialog_access_txn
from switchboard.dialogs.audience import dialog_audience_txn
from switchboard.dialogs.models import Dialog, Message, Participant, ReadMark
from switchboard.dialogs.serialize import message_out_txn, open_appeal_of_txn
from switchboard.events.publish import emit
from switchboard.kit.clock import utcnow
from switchboard.kit.errors import BadRequest, Conflict, NotFound
from switchboard.people.audit import audit_txn
from switchboard.people.models import Client, Employee, Person
from switchboard.routing import engine


async def get_or_create_dialog_txn(
    uow: Uow, principal: Principal, kind: str, person_id: int | None
) -> tuple[Dialog, bool]:
    """SPEC 7.3 "create": a person their own; a manager the PM dialogs of their clients;
    a supervisor any. Returns the dialog and whether it was created."""
    if principal.person is not None:
        person = principal.person
        if person_id is not None and person_id != person.id:
            raise NotFound("person_not_found", f"no person {person_id}")
    else:
        employee = principal.require_employee()
        if person_id is None:
            raise BadRequest("validation_error", "person_id: required for an employee")
        found = await uow.session.get(Person, person_id)
        if found is None:
            raise NotFound("person_not_found", f"no person {person_id}")
        person = found
        client = await uow.session.get(Client, person.client_id)
        assert client is not None
        allowed = employee.has("supervise") or (
            kind == "personal_manager" and client.personal_manager_id == employee.id
        )
        if not allowed:
            raise NotFound("person_not_found", f"no person {person_id}")
    existing = await uow.session.scalar(
        select(Dialog).where(Dialog.person_id == person.id, Dialog.kind == kind)
    )
    if existing is not None:
        return existing, False
    client = await uow.session.get(Client, person.client_id)
    assert client is not None
    if kind == "personal_manager" and client.personal_manager_id is None:
        raise Conflict(
            "no_personal_manager",
            "this client has no personal manager: write in the general chat",
        )
    # 201 only for the request that created it; one that lost a race gets the dialog and 200.
    return await _insert_dialog_txn(uow, person, kind)


async def create_dialog_txn(uow: Uow, person: Person, kind: str) -> Dialog:
    dialog, _ = await _insert_dialog_txn(uow, person, kind)
    return dialog


async def _insert_dialog_txn(uow: Uow, person: Person, kind: str) -> tuple[Dialog, bool]:
    responsible = None
    if kind == "personal_manager":
        # Read under the routing lock, which every change of manager holds: a change either
        # committed before this read or waits for this insert to commit (docs/decisions.md).
        await uow.lock_routing_txn()
        responsible = await uow.session.scalar(
            select(Client.personal_manager_id).where(Client.id == person.client_id)
        )
    now = utcnow()
    dialog = Dialog(
        person_id=person.id,
        client_id=person.client_id,
        kind=kind,
        responsible_id=responsible,
        created_at=now,
        last_activity_at=now,
    )
    try:
        async with uow.session.begin_nested():
            uow.session.add(dialog)
            await uow.session.flush()
    except IntegrityError:
        # Created meanwhile by a concurrent request: one dialog per person and kind.
        found = await uow.session.scalar(
            select(Dialog).where(Dialog.person_id == person.id, Dialog.kind == kind)
        )
        assert found is not None
        return found, False
    return dialog, True


@dataclass
class Posted:
    message: Message
    created: bool


async def _existing_by_key_txn(
    uow: Uow, principal: Principal, client_message_id: str
) -> Message | None:
    if principal.person is not None:
        cond = Message.author_person_id == principal.person.id
    else:
        assert principal.employee is not None
        cond = Message.author_employee_id == principal.employee.id
    return await uow.session.scalar(
        select(Message).where(cond, Message.client_message_id == client_message_id)
    )


async def post_message_txn(
    uow: Uow, principal: Principal, dialog_id: int, text: str, client_message_id: str | None
) -> Posted:
    """Store a message; a message into a dialog with no open appeal opens one (SPEC 3.1, 3.3).

    Posting never moves an open appeal (SPEC 7.3).
    """
    access = await dialog_access_txn(uow, principal, dialog_id, lock_appeal=True)
    if client_message_id is not None:
        earlier = await _existing_by_key_txn(uow, principal, client_message_id)
        if earlier is not None:
            if earlier.text != text or earlier.dialog_id != dialog_id:
                raise Conflict(
                    "idempotency_conflict",
                    "this client_message_id was already used for a different message",
                )
            return Posted(earlier, created=False)
    appeal = access.open_appeal
    opened = appeal is None
    if appeal is None:
        appeal = await _open_for_message_txn(uow, principal, access)
    now = utcnow()
    employee = principal.employee
    message = Message(
        dialog_id=dialog_id,
        appeal_id=appeal.id,
        author_type="employee" if employee is not None else "person",
        author_employee_id=employee.id if employee is not None else None,
        author_person_id=principal.person.id if principal.person is not None else None,
        text=text,
        client_message_id=client_message_id,
        created_at=now,
    )
    uow.session.add(message)
    await uow.session.flush()
    dialog = access.dialog
    dialog.last_message_id = message.id
    dialog.last_message_at = now
    dialog.last_activity_at = now
    await _advance_read_mark_txn(uow, principal, dialog_id, message.id)
    # A freshly opened appeal may have a holder the access check did not know.
    audience = await dialog_audience_txn(uow, dialog_id) if opened else access.audience()
    out = await message_out_txn(uow, message)
    emit(uow, "message.created", out.model_dump(mode="json"), audience)
    return Posted(message, created=True)


async def _open_for_message_txn(uow: Uow, principal: Principal, access: DialogAccess) -> Appeal:
    dialog, client = access.dialog, access.client
    # Re-read under the routing lock: a concurrent first message may have opened one.
    await uow.lock_routing_txn()
    appeal = await open_appeal_of_txn(uow, dialog.id)
    if appeal is not None:
        return appeal
    fresh = await uow.session.get(Client, client.id, populate_existing=True)
    assert fresh is not None
    client = fresh
    if dialog.kind == "personal_manager" and client.personal_manager_id is None:
        raise Conflict(
            "no_personal_manager",
            "this client has no personal manager: write in the general chat",
        )
    self_assign: int | None = None
    employee = principal.employee
    if employee is not None and (
        dialog.kind == "general" or client.personal_manager_id == employee.id
    ):
        self_assign = employee.id
    return await engine.open_appeal_txn(
        uow,
        dialog_id=dialog.id,
        client_id=client.id,
        kind=dialog.kind,
        actor=principal.actor,
        self_assign_to=self_assign,
    )


async def _advance_read_mark_txn(
    uow: Uow, principal: Principal, dialog_id: int, message_id: int
) -> None:
    """Move the reader's mark forward to `message_id` (never back): one upsert."""
    reader_id = principal.actor.id
    assert reader_id is not None
    values = {
        "dialog_id": dialog_id,
        "reader_type": "employee" if principal.employee is not None else "person",
        "reader_id": reader_id,
        "last_read_message_id": message_id,
    }
    column = ReadMark.__table__.c.last_read_message_id
    if uow.is_sqlite:
        lite = sqlite_insert(ReadMark).values(**values)
        stmt: Any = lite.on_conflict_do_update(
            index_elements=["dialog_id", "reader_type", "reader_id"],
            set_={"last_read_message_id": func.max(column, lite.excluded.last_read_message_id)},
        )
    else:
        pg = postgresql_insert(ReadMark).values(**values)
        stmt = pg.on_conflict_do_update(
            index_elements=["dialog_id", "reader_type", "reader_id"],
            set_={"last_read_message_id": func.greatest(column, pg.excluded.last_read_message_id)},
        )
    await uow.session.execute(stmt)


async def mark_read_txn(uow: Uow, principal: Principal, dialog_id: int, up_to: int) -> None:
    await dialog_access_txn(uow, principal, dialog_id)
    if up_to > 0:
        message = await uow.session.get(Message, up_to)
        if message is None or message.dialog_id != dialog_id:
            raise BadRequest("message_not_found", f"no message {up_to} in this dialog")
    await _advance_read_mark_txn(uow, principal, dialog_id, up_to)


async def add_participant_txn(
    uow: Uow, principal: Principal, dialog_id: int, employee_id: int
) -> tuple[Participant, bool]:
    access = await dialog_access_txn(uow, principal, dialog_id)
    if access.dialog.kind != "personal_manager":
        raise Conflict(
            "not_a_personal_manager_dialog", "colleagues are invited into personal-manager chats"
        )
    access.require_invite()
    target = await uow.session.get(Employee, employee_id)
    if target is None:
        raise BadRequest("employee_not_found", f"no employee {employee_id}")
    if not target.is_enabled:
        raise BadRequest("employee_disabled", "a disabled employee cannot be invited")
    existing = await uow.session.get(Participant, (dialog_id, employee_id))
    if existing is not None:
        return existing, False
    participant = Participant(
        dialog_id=dialog_id,
        employee_id=employee_id,
        invited_by=principal.actor.id,
        invited_at=utcnow(),
    )
    try:
        async with uow.session.begin_nested():
            uow.session.add(participant)
            await uow.session.flush()
    except IntegrityError:
        # Invited meanwhile by a concurrent request: answer with that invitation.
        found = await uow.session.get(Participant, (dialog_id, employee_id))
        assert found is not None
        return found, False
    audit_txn(
        uow,
        principal.actor,
        "participant_added",
        employee_id=employee_id,
        client_id=access.client.id,
        dialog_id=dialog_id,
    )
    audience = await dialog_audience_txn(uow, dialog_id)
    emit(
        uow,
        "dialog.participant_added",
        _participant_event(dialog_id, target, participant),
        audience,
    )
    return participant, True


async def remove_participant_txn(
    uow: Uow, principal: Principal, dialog_id: int, employee_id: int
) -> None:
    access = await dialog_access_txn(uow, principal, dialog_id)
    is_self = principal.employee is not None and principal.employee.id == employee_id
    if not is_self:
        if principal.person is not None:
            raise NotFound("dialog_not_found", "persons do not manage participants")
        access.require_invite()
    participant = await uow.session.get(Participant, (dialog_id, employee_id))
    if participant is None:
        raise NotFound("participant_not_found", f"employee {employee_id} is not invited here")
    target = await uow.session.get(Employee, employee_id)
    assert target is not None
    audience = await dialog_audience_txn(uow, dialog_id)
    await uow.session.delete(participant)
    await uow.session.flush()
    audit_txn(
        uow,
        principal.actor,
        "participant_removed",
        employee_id=employee_id,
        client_id=access.client.id,
        dialog_id=dialog_id,
    )
    emit(
        uow,
        "dialog.participant_removed",
        _participant_event(dialog_id, target, participant),
        audience,
    )


def _participant_event(
    dialog_id: int, employee: Employee, participant: Participant
) -> dict[str, object]:
    return {
        "dialog_id": dialog_id,
        "employee_id": employee.id,
        "full_name": employee.full_name,
        "status": employee.status,
        "invited_by": participant.invited_by,
        "invited_at": participant.invited_at.isoformat().replace("+00:00", "Z"),
    }


async def person_dialogs_txn(uow: Uow, principal: Principal) -> list[tuple[Dialog, Client]]:
    """The person's dialogs: the general one always; the PM one when it exists or can."""
    person = principal.require_person()
    client = await uow.session.get(Client, person.client_id)
    assert client is not None
    dialogs = {
        d.kind: d
        for d in (await uow.session.execute(select(Dialog).where(Dialog.person_id == person.id)))
        .scalars()
        .all()
    }
    if "general" not in dialogs:
        dialogs["general"] = await create_dialog_txn(uow, person, "general")
    if "personal_manager" not in dialogs and client.personal_manager_id is not None:
        dialogs["personal_manager"] = await create_dialog_txn(uow, person, "personal_manager")
    pm_dialog = dialogs.get("personal_manager")
    # API.md: the PM dialog only while the client has a PM or the dialog has history.
    if (
        pm_dialog is not None
        and client.personal_manager_id is None
        and pm_dialog.last_message_id is None
    ):
        del dialogs["personal_manager"]
    order = ["personal_manager", "general"]
    return [(dialogs[k], client) for k in order if k in dialogs]
