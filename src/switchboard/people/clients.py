"""Clients, their persons, and their personal managers (SPEC 6)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError

from switchboard.appeals.models import Appeal
from switchboard.auth.principals import Actor, Principal
from switchboard.auth.tokens import TokenSigner
from switchboard.db.params import chunked
from switchboard.db.session import Uow
from switchboard.dialogs.models import Dialog, Participant
from switchboard.events.publish import Audience, emit
from switchboard.kit.clock import utcnow
from switchboard.kit.errors import BadRequest, Conflict, NotFound
from switchboard.kit.schemas import EmployeeStatusRef
from switchboard.kit.text import fold
from switchboard.people.audit import audit_txn
from switchboard.people.models import Client, Employee, Person, PersonalManagerChange
from switchboard.people.schemas import (
    ClientCreate,
    ClientOut,
    MoveOut,
    PersonCreate,
    PersonUpdate,
    TokenOut,
)
from switchboard.routing import engine


async def client_out_txn(uow: Uow, client: Client) -> ClientOut:
    manager = None
    if client.personal_manager_id is not None:
        employee = await uow.session.get(Employee, client.personal_manager_id)
        if employee is not None:
            manager = EmployeeStatusRef(
                id=employee.id, full_name=employee.full_name, status=employee.status
            )
    return ClientOut(
        id=client.id,
        kind=client.kind,
        name=client.name,
        external_id=client.external_id,
        personal_manager=manager,
    )


async def create_client_txn(uow: Uow, actor: Actor, data: ClientCreate) -> Client:
    if data.external_id is not None:
        taken = await uow.session.scalar(
            select(exists().where(Client.external_id == data.external_id))
        )
        if taken:
            raise Conflict("external_id_taken", "a client with this external_id exists")
    client = Client(
        kind=data.kind,
        name=data.name,
        name_folded=fold(data.name),
        external_id=data.external_id,
    )
    try:
        async with uow.session.begin_nested():
            uow.session.add(client)
            await uow.session.flush()
    except IntegrityError:
        # The same external_id raced in on another connection.
        raise Conflict("external_id_taken", "a client with this external_id exists") from None
    audit_txn(uow, actor, "client_created", client_id=client.id)
    return client


async def may_see_client_txn(uow: Uow, principal: Principal, client: Client) -> bool:
    employee = principal.employee
    if employee is None:
        return principal.client is not None and principal.client.id == client.id
    if any(
        employee.has(p)
        for p in ("supervise", "manage_clients", "manage_personal_managers", "issue_person_tokens")
    ):
        return True
    if client.personal_manager_id == employee.id:
        return True
    involved = await uow.session.scalar(
        select(
            exists()
            .where(Dialog.client_id == client.id)
            .where(
                exists().where(
                    Participant.dialog_id == Dialog.id, Participant.employee_id == employee.id
                )
                | exists().where(
                    Appeal.dialog_id == Dialog.id,
                    Appeal.status == "assigned",
                    Appeal.assignee_id == employee.id,
                )
            )
        )
    )
    return bool(involved)


async def visible_client_txn(uow: Uow, principal: Principal, client_id: int) -> Client:
    client = await uow.session.get(Client, client_id)
    if client is None or not await may_see_client_txn(uow, principal, client):
        raise NotFound("client_not_found", f"no client {client_id}")
    return client


async def create_person_txn(uow: Uow, actor: Actor, client_id: int, data: PersonCreate) -> Person:
    client = await uow.session.get(Client, client_id)
    if client is None:
        raise NotFound("client_not_found", f"no client {client_id}")
    if data.external_id is not None:
        taken = await uow.session.scalar(
            select(exists().where(Person.external_id == data.external_id))
        )
        if taken:
            raise Conflict("external_id_taken", "a person with this external_id exists")
    person = Person(client_id=client.id, name=data.name, external_id=data.external_id)
    try:
        async with uow.session.begin_nested():
            uow.session.add(person)
            await uow.session.flush()
    except IntegrityError:
        # The same external_id raced in on another connection.
        raise Conflict("external_id_taken", "a person with this external_id exists") from None
    audit_txn(uow, actor, "person_created", client_id=client.id, person_id=person.id)
    return person


async def update_person_txn(uow: Uow, actor: Actor, person_id: int, data: PersonUpdate) -> Person:
    person = await uow.session.get(Person, person_id)
    if person is None:
        raise NotFound("person_not_found", f"no person {person_id}")
    if data.name is not None:
        person.name = data.name
    if data.is_enabled is not None and data.is_enabled != person.is_enabled:
        person.is_enabled = data.is_enabled
        if not data.is_enabled:
            person.token_version += 1
        audit_txn(
            uow,
            actor,
            "person_enabled" if data.is_enabled else "person_disabled",
            client_id=person.client_id,
            person_id=person.id,
        )
    await uow.session.flush()
    return person


async def issue_person_token_txn(
    uow: Uow, actor: Actor, signer: TokenSigner, person_id: int, ttl_seconds: int
) -> TokenOut:
    person = await uow.session.get(Person, person_id)
    if person is None:
        raise NotFound("person_not_found", f"no person {person_id}")
    if not person.is_enabled:
        raise Conflict("person_disabled", "this person is disabled")
    token, expires_in = signer.issue("person", person.id, person.token_version, ttl_seconds)
    audit_txn(
        uow,
        actor,
        "person_token_issued",
        client_id=person.client_id,
        person_id=person.id,
        expires_in=expires_in,
    )
    return TokenOut(access_token=token, expires_in=expires_in)


async def _target_manager_txn(uow: Uow, employee_id: int | None) -> Employee | None:
    if employee_id is None:
        return None
    employee = await uow.session.get(Employee, employee_id)
    if employee is None:
        raise BadRequest("employee_not_found", f"no employee {employee_id}")
    if not employee.is_enabled:
        raise BadRequest("employee_disabled", "a disabled employee cannot be a manager")
    return employee


async def change_manager_txn(
    uow: Uow, actor: Actor, client: Client, new_pm_id: int | None
) -> PersonalManagerChange:
    """Set, change or remove a client's manager; open appeals follow SPEC 6.

    The caller holds the routing lock (manager changes reroute).
    """
    (change,) = await change_managers_txn(uow, actor, [client], new_pm_id)
    return change


async def change_managers_txn(
    uow: Uow, actor: Actor, clients: Sequence[Client], new_pm_id: int | None
) -> list[PersonalManagerChange]:
    """`change_manager_txn` for many clients at once (a portfolio move): a handful of statements
    for all of them, not a handful per client, so the routing lock is held for a moment.

    Returns each client's change; one whose manager is already `new_pm_id` changes nothing and
    its change is not recorded.
    """
    now = utcnow()
    changes: list[PersonalManagerChange] = []
    moving: list[tuple[Client, PersonalManagerChange]] = []
    for client in clients:
        change = PersonalManagerChange(
            client_id=client.id,
            previous_employee_id=client.personal_manager_id,
            employee_id=new_pm_id,
            changed_by=actor.id if actor.type == "employee" else None,
            changed_at=now,
        )
        changes.append(change)
        if client.personal_manager_id != new_pm_id:
            moving.append((client, change))
    if not moving:
        return changes
    for client, change in moving:
        client.personal_manager_id = new_pm_id
        uow.session.add(change)
        audit_txn(
            uow,
            actor,
            "personal_manager_changed",
            client_id=client.id,
            employee_id=new_pm_id,
            related_employee_id=change.previous_employee_id,
            previous_employee_id=change.previous_employee_id,
        )
    await uow.session.flush()
    ids = [client.id for client, _ in moving]
    persons: dict[int, set[int]] = {}
    for chunk in chunked(ids):
        rows = await uow.session.execute(
            select(Person.client_id, Person.id).where(Person.client_id.in_(chunk))
        )
        for client_id, person_id in rows:
            persons.setdefault(client_id, set()).add(person_id)
    for client, change in moving:
        previous = change.previous_employee_id
        emit(
            uow,
            "personal_manager.changed",
            change_out(change),
            Audience(
                employee_ids={e for e in (previous, new_pm_id) if e is not None},
                person_ids=persons.get(client.id, set()),
            ),
        )
    await engine.managers_changed_txn(uow, ids, new_pm_id, actor)
    # The dialogs' copy of the manager, last: a message takes its appeal's row before its
    # dialog's, so the dialogs' rows are taken after every appeal the change moves.
    for chunk in chunked(ids):
        await uow.session.execute(
            update(Dialog)
            .where(Dialog.client_id.in_(chunk), Dialog.kind == "personal_manager")
            .values(responsible_id=new_pm_id)
        )
    return changes


def change_out(change: PersonalManagerChange) -> dict[str, object]:
    return {
        "client_id": change.client_id,
        "personal_manager_id": change.employee_id,
        "previous_personal_manager_id": change.previous_employee_id,
        "changed_at": change.changed_at.isoformat().replace("+00:00", "Z"),
        "changed_by": change.changed_by,
    }


async def set_manager_txn(
    uow: Uow, actor: Actor, client_id: int, employee_id: int | None
) -> PersonalManagerChange:
    await uow.lock_routing_txn()
    client = await uow.session.get(Client, client_id, populate_existing=True)
    if client is None:
        raise NotFound("client_not_found", f"no client {client_id}")
    await _target_manager_txn(uow, employee_id)
    return await change_manager_txn(uow, actor, client, employee_id)


async def move_portfolio_txn(uow: Uow, actor: Actor, from_id: int, to_id: int) -> MoveOut:
    """Every client of one manager to another, in one transaction (the caller rolls back a dry
    run). Counts what stays with its holder and what moves."""
    await uow.lock_routing_txn()
    source = await uow.session.get(Employee, from_id)
    if source is None:
        raise BadRequest("employee_not_found", f"no employee {from_id}")
    await _target_manager_txn(uow, to_id)
    if from_id == to_id:
        raise BadRequest("same_employee", "from_employee_id and to_employee_id are the same")
    clients = (
        (
            await uow.session.execute(
                select(Client)
                .where(Client.personal_manager_id == from_id)
                .order_by(Client.id)
                .execution_options(populate_existing=True)
            )
        )
        .scalars()
        .all()
    )
    client_ids = [c.id for c in clients]
    open_before = await _open_pm_appeals_by_holder_txn(uow, client_ids)
    await change_managers_txn(uow, actor, clients, to_id)
    open_after = await _open_pm_appeals_by_holder_txn(uow, client_ids)
    staying = sum(1 for aid, holder in open_before.items() if open_after.get(aid) == holder)
    return MoveOut(
        clients=len(clients),
        open_appeals_staying=staying,
        queued_appeals_moving=len(open_before) - staying,
        dry_run=False,
    )


async def _open_pm_appeals_by_holder_txn(
    uow: Uow, client_ids: list[int]
) -> dict[int, tuple[str, int | None]]:
    found: dict[int, tuple[str, int | None]] = {}
    for chunk in chunked(client_ids):
        rows = await uow.session.execute(
            select(Appeal.id, Appeal.status, Appeal.assignee_id, Appeal.waiting_for_id).where(
                Appeal.client_id.in_(chunk),
                Appeal.kind == "personal_manager",
                Appeal.status != "closed",
            )
        )
        for r in rows:
            found[r.id] = (
                ("assigned", r.assignee_id)
                if r.status == "assigned"
                else ("queued", r.waiting_for_id)
            )
    return found


async def count_clients_txn(uow: Uow, employee_id: int) -> int:
    return int(
        await uow.session.scalar(
            select(func.count())
            .select_from(Client)
            .where(Client.personal_manager_id == employee_id)
        )
        or 0
    )
