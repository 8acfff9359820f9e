"""SPEC 9.1-9.4 checked straight against the database, for the race and stateful tests."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select

from switchboard.appeals.models import Appeal
from switchboard.db.session import Database
from switchboard.dialogs.models import Dialog
from switchboard.people.models import Client, Employee, PersonalManagerChange, RoutingSettings


@dataclass
class Snapshot:
    appeals: list[Appeal]
    employees: dict[int, Employee]
    clients: dict[int, Client]
    previous_managers: dict[int, set[int]]
    settings: RoutingSettings
    dialogs: list[Dialog]


async def snapshot(db: Database) -> Snapshot:
    async with db.uow() as uow:
        s = uow.session
        appeals = list((await s.execute(select(Appeal))).scalars().all())
        employees = {e.id: e for e in (await s.execute(select(Employee))).scalars().all()}
        clients = {c.id: c for c in (await s.execute(select(Client))).scalars().all()}
        previous: dict[int, set[int]] = {}
        for change in (await s.execute(select(PersonalManagerChange))).scalars().all():
            if change.previous_employee_id is not None:
                previous.setdefault(change.client_id, set()).add(change.previous_employee_id)
        settings = await s.get(RoutingSettings, 1)
        assert settings is not None
        dialogs = list((await s.execute(select(Dialog))).scalars().all())
        s.expunge_all()  # plain objects: the rollback at the end must not expire them
        return Snapshot(appeals, employees, clients, previous, settings, dialogs)


def violations(snap: Snapshot, *, check_limits: bool = True) -> list[str]:
    problems: list[str] = []
    open_appeals = [a for a in snap.appeals if a.status != "closed"]

    def active(eid: int | None) -> bool:
        e = snap.employees.get(eid) if eid is not None else None
        return e is not None and e.is_enabled and e.status == "active"

    # 2.2: the responsible employee of every PM dialog is its client's manager (the copy the
    # Inbox reads beside the ordering key never disagrees with the client's row)
    for d in snap.dialogs:
        expected = snap.clients[d.client_id].personal_manager_id
        if d.kind == "general":
            expected = None
        if d.responsible_id != expected:
            problems.append(
                f"2.2 dialog {d.id} responsible {d.responsible_id}, expected {expected}"
            )
    # 9.1
    per_dialog = Counter(a.dialog_id for a in open_appeals)
    problems += [f"9.1 dialog {d} has {n} open appeals" for d, n in per_dialog.items() if n > 1]
    for a in open_appeals:
        if (a.status == "assigned") != (a.assignee_id is not None):
            problems.append(f"9.1 appeal {a.id} is {a.status} with assignee {a.assignee_id}")
    # 9.2
    load: Counter[int] = Counter()
    for a in open_appeals:
        if a.status == "assigned" and (
            a.kind == "general" or snap.settings.pm_appeals_count_toward_limit
        ):
            assert a.assignee_id is not None
            load[a.assignee_id] += 1

    def limit(e: Employee) -> int:
        return (
            e.general_limit if e.general_limit is not None else snap.settings.default_general_limit
        )

    if check_limits:
        for eid, n in load.items():
            e = snap.employees[eid]
            if "general_chat" in e.permissions and n > limit(e):
                problems.append(f"9.2 employee {eid} holds {n} general appeals over {limit(e)}")
    # 9.3
    for a in open_appeals:
        if a.kind != "personal_manager" or a.status != "assigned":
            continue
        pm = snap.clients[a.client_id].personal_manager_id
        if a.assignee_id == pm:
            continue
        earlier = snap.previous_managers.get(a.client_id, set())
        if a.assignee_id not in earlier or not active(a.assignee_id):
            problems.append(
                f"9.3 PM appeal {a.id} held by {a.assignee_id}, current PM {pm}, "
                f"active={active(a.assignee_id)}"
            )
    # 9.4
    for a in open_appeals:
        if a.status != "queued":
            continue
        if a.kind == "personal_manager":
            pm = snap.clients[a.client_id].personal_manager_id
            if active(pm):
                problems.append(f"9.4 PM appeal {a.id} queued while its manager {pm} is active")
            if a.waiting_for_id != pm:
                problems.append(f"PM appeal {a.id} waits for {a.waiting_for_id}, manager is {pm}")
        else:
            for e in snap.employees.values():
                if active(e.id) and "general_chat" in e.permissions and load[e.id] < limit(e):
                    problems.append(
                        f"9.4 general appeal {a.id} queued while employee {e.id} has room"
                    )
                    break
    return problems
