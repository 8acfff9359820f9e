"""The routing rules of SPEC 4-6 as pure functions over plain data.

Nothing here touches the database or the clock: the engine loads a snapshot, asks the policy
what to do, and applies the answer. Every decision names its reason code (SPEC 8).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

GENERAL = "general"
PERSONAL_MANAGER = "personal_manager"

# SPEC 8
NO_ELIGIBLE_OPERATOR = "no_eligible_operator"
WAITING_FOR_PERSONAL_MANAGER = "waiting_for_personal_manager"
NO_PERSONAL_MANAGER = "no_personal_manager"
RETURNED_OPERATOR_INACTIVE = "returned_operator_inactive"
RETURNED_BY_EMPLOYEE = "returned_by_employee"
ROUTED = "routed"
PERSONAL_MANAGER_ACTIVE = "personal_manager_active"
HANDOVER = "handover_to_new_personal_manager"
TRANSFERRED = "transferred"
OPENED_BY_EMPLOYEE = "opened_by_employee"
CLOSED_BY_EMPLOYEE = "closed_by_employee"
CLOSED_BY_PERSON = "closed_by_person"
PERSONAL_MANAGER_CHANGED = "personal_manager_changed"

QUEUED_REASONS = frozenset(
    {
        NO_ELIGIBLE_OPERATOR,
        WAITING_FOR_PERSONAL_MANAGER,
        NO_PERSONAL_MANAGER,
        RETURNED_OPERATOR_INACTIVE,
        RETURNED_BY_EMPLOYEE,
    }
)
ASSIGNED_REASONS = frozenset(
    {ROUTED, PERSONAL_MANAGER_ACTIVE, HANDOVER, TRANSFERRED, OPENED_BY_EMPLOYEE}
)
CLOSED_REASONS = frozenset({CLOSED_BY_EMPLOYEE, CLOSED_BY_PERSON})

Kind = Literal["general", "personal_manager"]
Status = Literal["queued", "assigned"]


@dataclass(frozen=True)
class Operator:
    """An employee as general routing sees them (SPEC 4.2-4.3)."""

    id: int
    active: bool  # status `active` and enabled
    general_chat: bool
    limit: int  # effective: their own, else the default setting
    load: int  # open appeals counted toward the limit
    last_assigned_seq: int | None  # order of their last general assignment; None: never


@dataclass(frozen=True)
class OpenAppeal:
    id: int
    kind: Kind
    status: Status
    assignee_id: int | None
    last_assignee_id: int | None
    waiting_for_id: int | None
    reason: str
    personal_manager_id: int | None  # the client's current manager


@dataclass(frozen=True)
class Assign:
    appeal_id: int
    employee_id: int
    reason: str


@dataclass(frozen=True)
class Queue:
    appeal_id: int
    waiting_for_id: int | None
    reason: str


Decision = Assign | Queue
IsActive = Callable[[int], bool]


def is_eligible(op: Operator) -> bool:
    """SPEC 4.2: may receive one more general appeal now."""
    return op.active and op.general_chat and op.load < op.limit


def route_personal_manager(appeal: OpenAppeal, is_active: IsActive) -> Decision | None:
    """Where a PM appeal that its holder no longer keeps must be (SPEC 5.1, 5.3, 6.2, 6.4-6.6).

    The target is always the client's current manager; nobody else, ever. Returns None when
    the appeal is already where it must be (a routing attempt that changes nothing records
    nothing).
    """
    target = appeal.personal_manager_id
    if target is None:
        if appeal.status == "queued" and appeal.reason == NO_PERSONAL_MANAGER:
            return None
        return Queue(appeal.id, None, NO_PERSONAL_MANAGER)
    if is_active(target):
        if appeal.status == "assigned" and appeal.assignee_id == target:
            return None
        previous = appeal.assignee_id if appeal.status == "assigned" else appeal.last_assignee_id
        handover = previous is not None and previous != target
        return Assign(appeal.id, target, HANDOVER if handover else PERSONAL_MANAGER_ACTIVE)
    if (
        appeal.status == "queued"
        and appeal.waiting_for_id == target
        and appeal.reason == WAITING_FOR_PERSONAL_MANAGER
    ):
        return None
    return Queue(appeal.id, target, WAITING_FOR_PERSONAL_MANAGER)


def on_open_personal_manager(appeal: OpenAppeal, is_active: IsActive) -> Decision:
    """A new PM appeal: to the manager at once if active, else it waits for them (SPEC 5.1)."""
    decision = route_personal_manager(appeal, is_active)
    assert decision is not None, "a new appeal is always placed"
    return decision


def on_leave_active(
    employee_id: int,
    held: Iterable[OpenAppeal],
    is_active: IsActive,
    *,
    requeue_general: bool,
) -> list[Decision]:
    """The employee left `active` (or was disabled): what happens to what they hold.

    General appeals return to the queue in their original order (SPEC 4.5); PM appeals go to
    the client's current manager if active, else wait for them (SPEC 5.4, 6.2, 6.5, 6.6).
    """

    def still_active(eid: int) -> bool:
        return eid != employee_id and is_active(eid)

    decisions: list[Decision] = []
    for appeal in sorted(held, key=lambda a: a.id):
        if appeal.status != "assigned" or appeal.assignee_id != employee_id:
            continue
        if appeal.kind == GENERAL:
            if requeue_general:
                decisions.append(Queue(appeal.id, None, RETURNED_OPERATOR_INACTIVE))
            continue
        decision = route_personal_manager(appeal, still_active)
        if decision is not None:
            decisions.append(decision)
    return decisions


def on_general_chat_revoked(employee_id: int, held: Iterable[OpenAppeal]) -> list[Decision]:
    """SPEC 4.7: losing `general_chat` counts as leaving `active` for general routing."""
    return [
        Queue(a.id, None, RETURNED_OPERATOR_INACTIVE)
        for a in sorted(held, key=lambda a: a.id)
        if a.kind == GENERAL and a.status == "assigned" and a.assignee_id == employee_id
    ]


def on_become_active(employee_id: int, waiting: Iterable[OpenAppeal]) -> list[Decision]:
    """PM appeals waiting for this employee as their client's manager go to them (SPEC 5.1)."""

    def active(eid: int) -> bool:
        return eid == employee_id

    decisions: list[Decision] = []
    for appeal in sorted(waiting, key=lambda a: a.id):
        if appeal.kind != PERSONAL_MANAGER or appeal.status != "queued":
            continue
        if appeal.personal_manager_id != employee_id:
            continue
        decision = route_personal_manager(appeal, active)
        if decision is not None:
            decisions.append(decision)
    return decisions


def on_manager_changed(open_appeals: Iterable[OpenAppeal], is_active: IsActive) -> list[Decision]:
    """The client's manager changed (SPEC 6.1-6.6); `personal_manager_id` is the new one.

    An appeal held by an `active` employee stays with them; one held by someone not `active`
    goes on at once (6.3); a queued one now waits for the new manager (6.4).
    """
    decisions: list[Decision] = []
    for appeal in sorted(open_appeals, key=lambda a: a.id):
        if appeal.kind != PERSONAL_MANAGER:
            continue
        if appeal.status == "assigned":
            assert appeal.assignee_id is not None
            if is_active(appeal.assignee_id):
                continue
        decision = route_personal_manager(appeal, is_active)
        if decision is not None:
            decisions.append(decision)
    return decisions


def route_general(
    queue: Sequence[OpenAppeal], operators: Iterable[Operator], next_seq: int
) -> list[Assign]:
    """SPEC 4.1-4.3: oldest queued general appeal to the least-loaded eligible operator.

    Ties go to whoever has waited longest since their last general assignment (never-assigned
    first), then to the lowest id. `next_seq` orders the assignments made here.
    """
    # A heap keyed by fairness: the chosen operator's key only grows (one more appeal, the
    # newest sequence number), so popping the least and pushing it back is the same choice as
    # scanning everyone for every appeal, in O(log n) instead of O(n).
    heap = [(_fairness(op), op) for op in operators if is_eligible(op)]
    heapq.heapify(heap)
    assignments: list[Assign] = []
    for appeal in sorted(queue, key=lambda a: a.id):
        if appeal.kind != GENERAL or appeal.status != "queued":
            continue
        if not heap:
            break
        _, chosen = heapq.heappop(heap)
        assignments.append(Assign(appeal.id, chosen.id, ROUTED))
        chosen = replace(chosen, load=chosen.load + 1, last_assigned_seq=next_seq)
        next_seq += 1
        if is_eligible(chosen):
            heapq.heappush(heap, (_fairness(chosen), chosen))
    return assignments


def _fairness(op: Operator) -> tuple[int, int, int, int]:
    never = op.last_assigned_seq is None
    return (op.load, 0 if never else 1, op.last_assigned_seq or 0, op.id)


def free_capacity(operators: Iterable[Operator]) -> int:
    """How many general appeals routing could hand out right now."""
    return sum(op.limit - op.load for op in operators if is_eligible(op))
