"""Applies the routing policy inside the transaction of the change that triggered it.

Every function here is `_txn`: it runs inside the caller's unit of work, takes the routing lock
first (one fixed order on every process), loads a fresh snapshot, asks `policy` what to do,
persists the answer with its history and events, and never commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from switchboard.appeals.models import Appeal, AppealEvent
from switchboard.auth.principals import Actor
from switchboard.db.params import chunked
from switchboard.db.session import Uow
from switchboard.dialogs.audience import dialog_audience_txn, dialog_audiences_txn
from switchboard.events.publish import Audience, emit_appeal_event, emit_appeal_events
from switchboard.kit.clock import utcnow
from switchboard.people.models import Client, Employee, RoutingSettings
from switchboard.routing import policy
from switchboard.routing.policy import Assign, Decision, OpenAppeal, Operator, Queue


async def settings_txn(uow: Uow) -> RoutingSettings:
    row = await uow.session.get(RoutingSettings, 1, populate_existing=True)
    if row is None:  # the migration inserts it; a wiped table gets the defaults back
        row = RoutingSettings(id=1)
        uow.session.add(row)
        await uow.session.flush()
    return row


async def employee_txn(uow: Uow, employee_id: int) -> Employee | None:
    return await uow.session.get(Employee, employee_id, populate_existing=True)


async def is_active_txn(uow: Uow, employee_id: int) -> bool:
    employee = await employee_txn(uow, employee_id)
    return employee is not None and employee.is_enabled and employee.status == "active"


async def _active_map(uow: Uow, ids: Iterable[int | None]) -> dict[int, bool]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await uow.session.execute(
        select(Employee.id, Employee.status, Employee.is_enabled).where(Employee.id.in_(wanted))
    )
    active = {r.id: r.status == "active" and r.is_enabled for r in rows}
    return {i: active.get(i, False) for i in wanted}


def _plain(appeal: Appeal, personal_manager_id: int | None) -> OpenAppeal:
    assert appeal.status in ("queued", "assigned")
    return OpenAppeal(
        id=appeal.id,
        kind="general" if appeal.kind == "general" else "personal_manager",
        status="queued" if appeal.status == "queued" else "assigned",
        assignee_id=appeal.assignee_id,
        last_assignee_id=appeal.last_assignee_id,
        waiting_for_id=appeal.waiting_for_id,
        reason=appeal.reason,
        personal_manager_id=personal_manager_id,
    )


async def _open_appeals_with_pm(uow: Uow, *conditions: object) -> list[tuple[Appeal, int | None]]:
    stmt = (
        select(Appeal, Client.personal_manager_id)
        .join(Client, Client.id == Appeal.client_id)
        .where(Appeal.status != "closed", *conditions)  # type: ignore[arg-type]
        .order_by(Appeal.id)
        .execution_options(populate_existing=True)
    )
    return [(row[0], row[1]) for row in (await uow.session.execute(stmt)).all()]


def record_history_txn(
    uow: Uow,
    appeal: Appeal,
    event: str,
    reason: str | None,
    employee_id: int | None,
    actor: Actor,
) -> None:
    uow.session.add(
        AppealEvent(
            appeal_id=appeal.id,
            at=utcnow(),
            event=event,
            reason=reason,
            employee_id=employee_id,
            actor_type=actor.type,
            actor_id=actor.id,
        )
    )


def _history_row(
    appeal_id: int,
    at: datetime,
    event: str,
    reason: str | None,
    employee_id: int | None,
    actor: Actor,
) -> dict[str, object]:
    """A row of `appeal_history` for a statement that writes many (`record_history_txn`, one)."""
    return {
        "appeal_id": appeal_id,
        "at": at,
        "event": event,
        "reason": reason,
        "employee_id": employee_id,
        "actor_type": actor.type,
        "actor_id": actor.id,
    }


async def _next_assignment_seq_txn(uow: Uow) -> int:
    current = await uow.session.scalar(select(func.max(Employee.last_general_assigned_seq)))
    return int(current or 0) + 1


_APPEALS = cast(Table, Appeal.__table__)
_HISTORY = cast(Table, AppealEvent.__table__)
_EMPLOYEES = cast(Table, Employee.__table__)
# One statement per kind of decision, run once per row (executemany): the ORM's unit of work
# costs more than the database does for a burst of a thousand decisions.
_WRITE_ASSIGNED = (
    update(_APPEALS)
    .where(_APPEALS.c.id == bindparam("appeal_id"))
    .values(
        status="assigned",
        assignee_id=bindparam("employee_id"),
        last_assignee_id=bindparam("employee_id"),
        waiting_for_id=None,
        reason=bindparam("reason"),
        assigned_at=bindparam("at"),
    )
)
_WRITE_QUEUED = (
    update(_APPEALS)
    .where(_APPEALS.c.id == bindparam("appeal_id"))
    .values(
        status="queued",
        assignee_id=None,
        waiting_for_id=bindparam("employee_id"),
        reason=bindparam("reason"),
        queued_at=bindparam("at"),
    )
)
_WRITE_SEQ = (
    update(_EMPLOYEES)
    .where(_EMPLOYEES.c.id == bindparam("employee_id"))
    .values(last_general_assigned_seq=bindparam("seq"))
)


async def apply_txn(
    uow: Uow, appeals: dict[int, Appeal], decisions: Sequence[Decision], actor: Actor
) -> None:
    """Persist decisions: the appeal rows, their history, and each event to its audience.

    A handful of statements for the whole batch, whatever its size: a manager's 1,000 waiting
    appeals, or a shift's first routing pass, are written with one statement per kind of row,
    and the loaded appeals are told their new values as the database now holds them.
    """
    if not decisions:
        return
    await uow.session.flush()  # what the caller changed before goes first (history order)
    now = utcnow()
    seq: int | None = None
    last_seq: dict[int, int] = {}  # employee → the sequence number of their newest assignment
    assigned: list[dict[str, object]] = []
    queued: list[dict[str, object]] = []
    history: list[dict[str, object]] = []
    moves: list[tuple[Appeal, str, int | None]] = []
    for decision in decisions:
        appeal = appeals[decision.appeal_id]
        previous_holder = appeal.assignee_id
        target: int | None
        if isinstance(decision, Assign):
            target, event = decision.employee_id, "assigned"
            values: dict[str, object] = {
                "status": "assigned",
                "assignee_id": target,
                "last_assignee_id": target,
                "waiting_for_id": None,
                "reason": decision.reason,
                "assigned_at": now,
            }
            if appeal.kind == "general":
                if seq is None:
                    seq = await _next_assignment_seq_txn(uow)
                last_seq[target] = seq
                seq += 1
        else:
            target, event = decision.waiting_for_id, "queued"
            values = {
                "status": "queued",
                "assignee_id": None,
                "waiting_for_id": target,
                "reason": decision.reason,
                "queued_at": now,
            }
        (assigned if event == "assigned" else queued).append(
            {"appeal_id": appeal.id, "employee_id": target, "reason": decision.reason, "at": now}
        )
        for name, value in values.items():
            set_committed_value(appeal, name, value)
        history.append(_history_row(appeal.id, now, event, decision.reason, target, actor))
        moves.append((appeal, f"appeal.{event}", previous_holder))
    for statement, rows in ((_WRITE_ASSIGNED, assigned), (_WRITE_QUEUED, queued)):
        if rows:
            await uow.session.execute(statement, rows)
    await uow.session.execute(insert(_HISTORY), history)
    if last_seq:
        await uow.session.execute(
            _WRITE_SEQ, [{"employee_id": e, "seq": n} for e, n in last_seq.items()]
        )
        for employee_id, number in last_seq.items():
            loaded = uow.session.identity_map.get(identity_key(Employee, employee_id))
            if loaded is not None:
                set_committed_value(loaded, "last_general_assigned_seq", number)
    audiences = await dialog_audiences_txn(uow, [appeal.dialog_id for appeal, _, _ in moves])
    appeal_events: list[tuple[str, Appeal, Audience]] = []
    for appeal, event_type, previous_holder in moves:
        audience = audiences[appeal.dialog_id]
        if previous_holder is not None:
            audience = replace(audience, employee_ids=audience.employee_ids | {previous_holder})
        appeal_events.append((event_type, appeal, audience))
    await emit_appeal_events(uow, appeal_events)


async def open_appeal_txn(
    uow: Uow,
    *,
    dialog_id: int,
    client_id: int,
    kind: str,
    actor: Actor,
    self_assign_to: int | None,
) -> Appeal:
    """A message into a dialog with no open appeal opens one and routes it (SPEC 3.1, 3.3)."""
    await uow.lock_routing_txn()
    now = utcnow()
    appeal = Appeal(
        dialog_id=dialog_id,
        client_id=client_id,
        kind=kind,
        status="queued",
        reason=policy.NO_ELIGIBLE_OPERATOR
        if kind == "general"
        else policy.WAITING_FOR_PERSONAL_MANAGER,
        opened_at=now,
        queued_at=now,
    )
    uow.session.add(appeal)
    await uow.session.flush()
    record_history_txn(uow, appeal, "opened", None, None, actor)
    audience = await dialog_audience_txn(uow, dialog_id)
    await emit_appeal_event(uow, "appeal.opened", appeal, audience)

    if self_assign_to is not None:
        await apply_txn(
            uow,
            {appeal.id: appeal},
            [Assign(appeal.id, self_assign_to, policy.OPENED_BY_EMPLOYEE)],
            actor,
        )
        return appeal
    if kind == "personal_manager":
        client = await uow.session.get(Client, client_id, populate_existing=True)
        assert client is not None
        pm = client.personal_manager_id
        active = await _active_map(uow, [pm])
        fresh = OpenAppeal(appeal.id, "personal_manager", "queued", None, None, None, "", pm)
        decision = policy.on_open_personal_manager(fresh, lambda eid: active.get(eid, False))
        await apply_txn(uow, {appeal.id: appeal}, [decision], actor)
        return appeal
    assigned = await route_general_txn(uow, actor)
    if appeal.id not in assigned:
        await apply_txn(
            uow,
            {appeal.id: appeal},
            [Queue(appeal.id, None, policy.NO_ELIGIBLE_OPERATOR)],
            actor,
        )
    return appeal


async def operators_txn(uow: Uow, settings: RoutingSettings) -> list[Operator]:
    """Active, enabled holders of `general_chat` with their load; plain rows, not entities
    (two hundred operators are read on every routing pass)."""
    rows = (
        await uow.session.execute(
            select(
                Employee.id,
                Employee.permissions,
                Employee.general_limit,
                Employee.last_general_assigned_seq,
            ).where(Employee.is_enabled.is_(True), Employee.status == "active")
        )
    ).all()
    operators = [r for r in rows if "general_chat" in (r.permissions or [])]
    if not operators:
        return []
    kinds = (
        ["general", "personal_manager"] if settings.pm_appeals_count_toward_limit else ["general"]
    )
    loads = dict(
        (
            await uow.session.execute(
                select(Appeal.assignee_id, func.count())
                .where(
                    Appeal.status == "assigned",
                    Appeal.kind.in_(kinds),
                    Appeal.assignee_id.in_([e.id for e in operators]),
                )
                .group_by(Appeal.assignee_id)
            )
        ).all()
    )
    return [
        Operator(
            id=e.id,
            active=True,
            general_chat=True,
            limit=e.general_limit
            if e.general_limit is not None
            else settings.default_general_limit,
            load=int(loads.get(e.id, 0)),
            last_assigned_seq=e.last_general_assigned_seq,
        )
        for e in operators
    ]


async def route_general_txn(uow: Uow, actor: Actor) -> set[int]:
    """Hand queued general appeals to eligible operators (SPEC 4.1-4.3); returns those moved."""
    await uow.lock_routing_txn()
    settings = await settings_txn(uow)
    operators = await operators_txn(uow, settings)
    capacity = policy.free_capacity(operators)
    if capacity <= 0:
        return set()
    queued = (
        (
            await uow.session.execute(
                select(Appeal)
                .where(Appeal.status == "queued", Appeal.kind == "general")
                .order_by(Appeal.id)
                .limit(capacity)
                .execution_options(populate_existing=True)
            )
        )
        .scalars()
        .all()
    )
    if not queued:
        return set()
    by_id = {a.id: a for a in queued}
    next_seq = await _next_assignment_seq_txn(uow)
    decisions = policy.route_general([_plain(a, None) for a in queued], operators, next_seq)
    await apply_txn(uow, by_id, decisions, actor)
    return {d.appeal_id for d in decisions}


async def employee_left_active_txn(
    uow: Uow, employee_id: int, actor: Actor, *, disabled: bool = False, route: bool = True
) -> None:
    """SPEC 4.5, 5.4, 6.2: what an employee held when they left `active` (or were disabled:
    a disabled employee keeps nothing, whatever `requeue_general_on_inactive` says).
    `route=False` leaves the general routing pass to the caller (several changes, one pass)."""
    await uow.lock_routing_txn()
    settings = await settings_txn(uow)
    held = await _open_appeals_with_pm(
        uow, Appeal.status == "assigned", Appeal.assignee_id == employee_id
    )
    if held:
        active = await _active_map(uow, [pm for _, pm in held])
        decisions = policy.on_leave_active(
            employee_id,
            [_plain(a, pm) for a, pm in held],
            lambda eid: active.get(eid, False),
            requeue_general=disabled or settings.requeue_general_on_inactive,
        )
        await apply_txn(uow, {a.id: a for a, _ in held}, decisions, actor)
    if route:
        await route_general_txn(uow, actor)


async def general_chat_revoked_txn(uow: Uow, employee_id: int, actor: Actor) -> None:
    await uow.lock_routing_txn()
    held = await _open_appeals_with_pm(
        uow,
        Appeal.status == "assigned",
        Appeal.assignee_id == employee_id,
        Appeal.kind == "general",
    )
    decisions = policy.on_general_chat_revoked(employee_id, [_plain(a, pm) for a, pm in held])
    await apply_txn(uow, {a.id: a for a, _ in held}, decisions, actor)
    await route_general_txn(uow, actor)


async def employees_became_active_txn(uow: Uow, changes: Sequence[tuple[int, Actor]]) -> None:
    """SPEC 5.1, 6.2 for several employees who just became active (each once): the PM appeals
    waiting for each are theirs, read in one statement. Each employee's consequence touches only
    their own clients' appeals, so doing them together is doing them one after another."""
    await uow.lock_routing_txn()
    waiting = await _open_appeals_with_pm(
        uow,
        Appeal.status == "queued",
        Appeal.kind == "personal_manager",
        Client.personal_manager_id.in_([employee_id for employee_id, _ in changes]),
    )
    by_manager: dict[int, list[Appeal]] = {}
    for appeal, pm in waiting:
        assert pm is not None  # the statement selected them by their manager
        by_manager.setdefault(pm, []).append(appeal)
    for employee_id, actor in changes:
        mine = by_manager.get(employee_id)
        if mine:
            decisions = policy.on_become_active(employee_id, [_plain(a, employee_id) for a in mine])
            await apply_txn(uow, {a.id: a for a in mine}, decisions, actor)


async def managers_changed_txn(
    uow: Uow, client_ids: Sequence[int], new_pm_id: int | None, actor: Actor
) -> None:
    """SPEC 6: the open PM appeals of clients whose manager just changed to `new_pm_id` (one
    client, or a whole portfolio: the same statements either way)."""
    await uow.lock_routing_txn()
    rows: list[tuple[Appeal, int | None]] = []
    for chunk in chunked(client_ids):
        rows += await _open_appeals_with_pm(
            uow, Appeal.client_id.in_(chunk), Appeal.kind == "personal_manager"
        )
    if not rows:
        return
    now = utcnow()
    await uow.session.execute(
        insert(_HISTORY),
        [
            _history_row(
                appeal.id,
                now,
                "personal_manager_changed",
                policy.PERSONAL_MANAGER_CHANGED,
                new_pm_id,
                actor,
            )
            for appeal, _ in rows
        ],
    )
    active = await _active_map(uow, [new_pm_id, *(a.assignee_id for a, _ in rows)])
    decisions = policy.on_manager_changed(
        [_plain(a, new_pm_id) for a, _ in rows], lambda eid: active.get(eid, False)
    )
    await apply_txn(uow, {a.id: a for a, _ in rows}, decisions, actor)


async def sweep_txn(uow: Uow) -> int:
    """Route whatever is left queued while its target is available (SPEC 9.4, 10).

    Returns the number of appeals it moved. Idempotent: a settled state moves nothing.
    """
    await uow.lock_routing_txn()
    actor = Actor.system()
    # Only those whose manager is active now: appeals waiting for an absent manager are the
    # normal state of a big bank, and reading them all on every pass would be the sweep's cost.
    active_managers = select(Employee.id).where(
        Employee.status == "active", Employee.is_enabled.is_(True)
    )
    waiting = await _open_appeals_with_pm(
        uow,
        Appeal.status == "queued",
        Appeal.kind == "personal_manager",
        Client.personal_manager_id.in_(active_managers),
    )
    active = await _active_map(uow, [pm for _, pm in waiting])
    decisions: list[Decision] = []
    for appeal, pm in waiting:
        if pm is not None and active.get(pm, False):
            decision = policy.route_personal_manager(_plain(appeal, pm), lambda eid: active[eid])
            if decision is not None:
                decisions.append(decision)
    await apply_txn(uow, {a.id: a for a, _ in waiting}, decisions, actor)
    return len(decisions) + len(await route_general_txn(uow, actor))
