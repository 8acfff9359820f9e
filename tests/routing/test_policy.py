"""Table-driven unit tests of the pure routing policy (SPEC 4, 5, 6, 8, 9).

No database, no HTTP: every case builds plain `Operator`/`OpenAppeal` values and checks the
decisions. Reason codes are spelled out here as SPEC 8 writes them (not imported from the policy),
so a renamed constant fails loudly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.routing import policy
from switchboard.routing.policy import (
    Assign,
    Decision,
    IsActive,
    OpenAppeal,
    Operator,
    Queue,
    free_capacity,
    is_eligible,
    on_become_active,
    on_general_chat_revoked,
    on_leave_active,
    on_manager_changed,
    on_open_personal_manager,
    route_general,
    route_personal_manager,
)

# SPEC 8, verbatim.
NO_ELIGIBLE_OPERATOR = "no_eligible_operator"
WAITING_FOR_PM = "waiting_for_personal_manager"
NO_PM = "no_personal_manager"
RETURNED_OPERATOR_INACTIVE = "returned_operator_inactive"
RETURNED_BY_EMPLOYEE = "returned_by_employee"
ROUTED = "routed"
PM_ACTIVE = "personal_manager_active"
HANDOVER = "handover_to_new_personal_manager"
TRANSFERRED = "transferred"
OPENED_BY_EMPLOYEE = "opened_by_employee"

# Employees used across the tables: A, B, C are managers in turn; X is an unrelated operator.
A, B, C, X = 1, 2, 3, 9


# --------------------------------------------------------------------------------------------
# builders


def op(
    id: int,
    *,
    active: bool = True,
    general_chat: bool = True,
    limit: int = 3,
    load: int = 0,
    seq: int | None = None,
) -> Operator:
    return Operator(
        id=id,
        active=active,
        general_chat=general_chat,
        limit=limit,
        load=load,
        last_assigned_seq=seq,
    )


def gen(
    id: int,
    *,
    assignee: int | None = None,
    reason: str | None = None,
) -> OpenAppeal:
    status = "assigned" if assignee is not None else "queued"
    return OpenAppeal(
        id=id,
        kind="general",
        status=status,
        assignee_id=assignee,
        last_assignee_id=assignee,
        waiting_for_id=None,
        reason=reason or (ROUTED if assignee is not None else NO_ELIGIBLE_OPERATOR),
        personal_manager_id=None,
    )


def pm_held(id: int, *, holder: int, pm: int | None, reason: str = PM_ACTIVE) -> OpenAppeal:
    """A PM appeal assigned to `holder`; the client's current manager is `pm`."""
    return OpenAppeal(
        id=id,
        kind="personal_manager",
        status="assigned",
        assignee_id=holder,
        last_assignee_id=holder,
        waiting_for_id=None,
        reason=reason,
        personal_manager_id=pm,
    )


def pm_queued(
    id: int,
    *,
    pm: int | None,
    waiting_for: int | None,
    reason: str | None = None,
    last: int | None = None,
) -> OpenAppeal:
    """A queued PM appeal waiting for `waiting_for`; the client's current manager is `pm`."""
    if reason is None:
        reason = WAITING_FOR_PM if waiting_for is not None else NO_PM
    return OpenAppeal(
        id=id,
        kind="personal_manager",
        status="queued",
        assignee_id=None,
        last_assignee_id=last,
        waiting_for_id=waiting_for,
        reason=reason,
        personal_manager_id=pm,
    )


def fresh_pm(id: int, *, pm: int | None) -> OpenAppeal:
    """A PM appeal just opened, as the engine builds it before routing it."""
    return OpenAppeal(id, "personal_manager", "queued", None, None, None, "", pm)


def active_set(*ids: int) -> IsActive:
    wanted = frozenset(ids)
    return lambda eid: eid in wanted


def apply(appeal: OpenAppeal, decision: Decision) -> OpenAppeal:
    """What the engine persists for a decision (engine.apply_txn)."""
    assert decision.appeal_id == appeal.id
    if isinstance(decision, Assign):
        return OpenAppeal(
            appeal.id,
            appeal.kind,
            "assigned",
            decision.employee_id,
            decision.employee_id,
            None,
            decision.reason,
            appeal.personal_manager_id,
        )
    return OpenAppeal(
        appeal.id,
        appeal.kind,
        "queued",
        None,
        appeal.last_assignee_id,
        decision.waiting_for_id,
        decision.reason,
        appeal.personal_manager_id,
    )


def pairs(assignments: Iterable[Assign]) -> list[tuple[int, int]]:
    return [(a.appeal_id, a.employee_id) for a in assignments]


# --------------------------------------------------------------------------------------------
# SPEC 8: the reason codes


def test_spec_8_reason_code_sets_are_the_specified_ones() -> None:
    assert {
        NO_ELIGIBLE_OPERATOR,
        WAITING_FOR_PM,
        NO_PM,
        RETURNED_OPERATOR_INACTIVE,
        RETURNED_BY_EMPLOYEE,
    } == policy.QUEUED_REASONS
    assert {
        ROUTED,
        PM_ACTIVE,
        HANDOVER,
        TRANSFERRED,
        OPENED_BY_EMPLOYEE,
    } == policy.ASSIGNED_REASONS
    assert {"closed_by_employee", "closed_by_person"} == policy.CLOSED_REASONS
    # informational only: never an appeal's reason
    assert policy.PERSONAL_MANAGER_CHANGED == "personal_manager_changed"
    assert policy.PERSONAL_MANAGER_CHANGED not in (
        policy.QUEUED_REASONS | policy.ASSIGNED_REASONS | policy.CLOSED_REASONS
    )


# --------------------------------------------------------------------------------------------
# SPEC 4.2: eligibility and free capacity


@pytest.mark.parametrize(
    ("operator", "eligible"),
    [
        pytest.param(op(1, limit=2, load=0), True, id="active_general_chat_below_limit"),
        pytest.param(op(1, limit=2, load=1), True, id="one_below_limit"),
        pytest.param(op(1, limit=2, load=2), False, id="at_limit"),
        pytest.param(op(1, limit=1, load=3), False, id="over_a_lowered_limit"),
        pytest.param(op(1, limit=0, load=0), False, id="limit_zero_means_no_general_appeals"),
        pytest.param(op(1, active=False), False, id="not_active"),
        pytest.param(op(1, general_chat=False), False, id="without_general_chat"),
    ],
)
def test_spec_4_2_operator_eligibility(operator: Operator, eligible: bool) -> None:
    assert is_eligible(operator) is eligible


@pytest.mark.parametrize(
    ("operators", "capacity"),
    [
        pytest.param([], 0, id="nobody"),
        pytest.param([op(1, limit=3, load=1)], 2, id="one_operator"),
        pytest.param([op(1, limit=3, load=1), op(2, limit=2, load=0)], 4, id="summed"),
        pytest.param([op(1, limit=3, active=False)], 0, id="inactive_counts_nothing"),
        pytest.param([op(1, limit=3, general_chat=False)], 0, id="no_general_chat_counts_nothing"),
        pytest.param([op(1, limit=0)], 0, id="limit_zero"),
        pytest.param(
            [op(1, limit=1, load=4), op(2, limit=2, load=1)],
            1,
            id="over_limit_operator_never_subtracts",
        ),
    ],
)
def test_spec_4_2_free_capacity(operators: list[Operator], capacity: int) -> None:
    assert free_capacity(operators) == capacity


# --------------------------------------------------------------------------------------------
# SPEC 4.1-4.3: general routing

ROUTE_GENERAL_CASES = [
    pytest.param(
        [gen(7), gen(3), gen(5)],
        [op(1, limit=1)],
        [(3, 1)],
        id="spec_4_1_oldest_queued_first",
    ),
    pytest.param(
        [gen(7), gen(3), gen(5)],
        [op(1, limit=5)],
        [(3, 1), (5, 1), (7, 1)],
        id="spec_4_1_queue_order_is_oldest_first",
    ),
    pytest.param(
        [gen(1)],
        [op(1, load=2), op(2, load=0), op(3, load=1)],
        [(1, 2)],
        id="spec_4_3_fewest_open_general_appeals_wins",
    ),
    pytest.param(
        [gen(1)],
        [op(1, load=1, seq=None), op(2, load=0, seq=99)],
        [(1, 2)],
        id="spec_4_3_load_beats_fairness",
    ),
    pytest.param(
        [gen(1)],
        [op(1, seq=1), op(5, seq=None), op(3, seq=2)],
        [(1, 5)],
        id="spec_4_3_ties_go_to_never_assigned_first",
    ),
    pytest.param(
        [gen(1)],
        [op(1, seq=9), op(2, seq=3), op(3, seq=7)],
        [(1, 2)],
        id="spec_4_3_ties_go_to_longest_since_last_assignment",
    ),
    pytest.param(
        [gen(1)],
        [op(4), op(2), op(3)],
        [(1, 2)],
        id="spec_4_3_ties_among_never_assigned_go_to_lowest_id",
    ),
    pytest.param(
        [gen(1)],
        [op(4, seq=5), op(2, seq=5)],
        [(1, 2)],
        id="spec_4_3_full_tie_goes_to_lowest_id",
    ),
    pytest.param(
        [gen(1), gen(2), gen(3), gen(4)],
        [op(1, limit=2), op(2, limit=2)],
        [(1, 1), (2, 2), (3, 1), (4, 2)],
        id="spec_4_3_assignments_in_one_run_rotate_fairly",
    ),
    pytest.param(
        [gen(1), gen(2)],
        [op(1, load=1, seq=5), op(2, load=0, seq=None)],
        [(1, 2), (2, 1)],
        id="spec_4_3_an_assignment_made_now_is_the_most_recent",
    ),
    pytest.param(
        [gen(1), gen(2)],
        [op(1, limit=0), op(2, limit=0)],
        [],
        id="spec_4_3_limit_zero_gets_no_general_appeals",
    ),
    pytest.param(
        [gen(1), gen(2), gen(3)],
        [op(1, limit=0), op(2, limit=1)],
        [(1, 2)],
        id="spec_4_3_limit_zero_operator_skipped_for_another",
    ),
    pytest.param(
        [gen(i) for i in range(1, 6)],
        [op(1, limit=2, load=1), op(2, limit=1, load=0)],
        [(1, 2), (2, 1)],
        id="spec_4_2_limits_respected",
    ),
    pytest.param(
        [gen(1), gen(2)],
        [op(1, limit=2, load=5)],
        [],
        id="spec_4_3_lowered_limit_over_load_gets_nothing",
    ),
    pytest.param(
        [gen(1)],
        [op(1, active=False), op(2, general_chat=False)],
        [],
        id="spec_4_2_inactive_or_without_general_chat_never_routed_to",
    ),
    pytest.param(
        [gen(1)],
        [op(1, active=False, load=0), op(2, load=2)],
        [(1, 2)],
        id="spec_4_2_inactive_least_loaded_is_passed_over",
    ),
    pytest.param(
        [
            pm_queued(1, pm=A, waiting_for=A),
            pm_queued(2, pm=None, waiting_for=None),
            gen(3),
        ],
        [op(A), op(X)],
        [(3, A)],
        id="spec_4_3_queued_pm_appeals_never_block_general_routing",
    ),
    pytest.param(
        [pm_queued(1, pm=A, waiting_for=A), pm_queued(2, pm=B, waiting_for=B)],
        [op(A), op(B)],
        [],
        id="spec_5_3_general_routing_never_takes_pm_appeals",
    ),
    pytest.param(
        [gen(1, assignee=X), gen(2)],
        [op(1)],
        [(2, 1)],
        id="spec_4_1_assigned_appeals_are_not_in_the_queue",
    ),
    pytest.param(
        [gen(i) for i in range(1, 6)],
        [op(1, limit=1), op(2, limit=1, active=False), op(3, limit=1)],
        [(1, 1), (2, 3)],
        id="spec_4_3_stops_when_no_capacity_is_left",
    ),
    pytest.param([], [op(1)], [], id="empty_queue_changes_nothing"),
    pytest.param([gen(1)], [], [], id="no_operators_changes_nothing"),
]


@pytest.mark.parametrize(("queue", "operators", "expected"), ROUTE_GENERAL_CASES)
def test_spec_4_route_general(
    queue: list[OpenAppeal], operators: list[Operator], expected: list[tuple[int, int]]
) -> None:
    assignments = route_general(queue, operators, next_seq=100)
    assert pairs(assignments) == expected
    assert all(a.reason == ROUTED for a in assignments)


@pytest.mark.parametrize(("queue", "operators", "expected"), ROUTE_GENERAL_CASES)
def test_spec_9_2_route_general_never_exceeds_a_limit(
    queue: list[OpenAppeal], operators: list[Operator], expected: list[tuple[int, int]]
) -> None:
    assignments = route_general(queue, operators, next_seq=100)
    by_id = {o.id: o for o in operators}
    for oid, operator in by_id.items():
        given = sum(1 for a in assignments if a.employee_id == oid)
        if given:
            assert operator.load + given <= operator.limit
            assert operator.active and operator.general_chat
    # 4.3/9.4: it stops only when the queue or the capacity is exhausted
    queued_general = [a for a in queue if a.kind == "general" and a.status == "queued"]
    assert len(assignments) == min(len(queued_general), free_capacity(operators))


def test_spec_4_3_route_general_each_appeal_given_once() -> None:
    assignments = route_general([gen(i) for i in range(1, 9)], [op(1), op(2), op(3)], 1)
    ids = [a.appeal_id for a in assignments]
    assert ids == sorted(set(ids)) == list(range(1, 9))
    assert sorted(a.employee_id for a in assignments) == [1, 1, 1, 2, 2, 2, 3, 3]


def test_spec_4_3_route_general_uses_next_seq_for_later_ties() -> None:
    # 1 and 2 tie on load after the first assignment; the one assigned first in this run (at
    # next_seq) has waited less than one last assigned at seq 5, but more than one at seq 50.
    operators = [op(1, load=1, seq=5), op(2, load=0, seq=None), op(3, load=1, seq=50)]
    assignments = route_general([gen(1), gen(2), gen(3)], operators, next_seq=51)
    assert pairs(assignments) == [(1, 2), (2, 1), (3, 3)]


def _route_general_by_scanning(
    queue: list[OpenAppeal], operators: list[Operator], next_seq: int
) -> list[tuple[int, int]]:
    """SPEC 4.2-4.3 read literally: for each queued appeal, oldest first, look at every operator
    and take the least loaded eligible one, then whoever waited longest, then the lowest id."""
    pool = {o.id: o for o in operators}
    chosen: list[tuple[int, int]] = []
    for appeal in sorted(queue, key=lambda a: a.id):
        if appeal.kind != "general" or appeal.status != "queued":
            continue
        eligible = [o for o in pool.values() if o.active and o.general_chat and o.load < o.limit]
        if not eligible:
            break
        best = min(
            eligible,
            key=lambda o: (
                o.load,
                o.last_assigned_seq is not None,
                o.last_assigned_seq or 0,
                o.id,
            ),
        )
        chosen.append((appeal.id, best.id))
        pool[best.id] = replace(best, load=best.load + 1, last_assigned_seq=next_seq)
        next_seq += 1
    return chosen


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(
            st.booleans(),  # active
            st.booleans(),  # general_chat
            st.integers(0, 4),  # limit
            st.integers(0, 5),  # load
            st.none() | st.integers(1, 20),  # last assigned seq
        ),
        max_size=8,
    ),
    st.integers(0, 25),
    st.integers(21, 40),
)
def test_spec_4_3_route_general_is_the_scan_of_every_operator_for_every_appeal(
    specs: list[tuple[bool, bool, int, int, int | None]], queued: int, next_seq: int
) -> None:
    operators = [
        op(i, active=a, general_chat=g, limit=lim, load=load, seq=seq)
        for i, (a, g, lim, load, seq) in enumerate(specs, start=1)
    ]
    queue = [gen(i) for i in range(1, queued + 1)]
    assert pairs(route_general(queue, operators, next_seq)) == _route_general_by_scanning(
        queue, operators, next_seq
    )


# --------------------------------------------------------------------------------------------
# SPEC 5.1, 5.3, 6.2, 6.4-6.6: where a PM appeal must be


ROUTE_PM_CASES = [
    # the client has a manager who is active
    pytest.param(
        fresh_pm(1, pm=A),
        active_set(A),
        Assign(1, A, PM_ACTIVE),
        id="spec_5_1_new_appeal_to_active_pm_at_once",
    ),
    pytest.param(
        pm_queued(1, pm=A, waiting_for=A),
        active_set(A),
        Assign(1, A, PM_ACTIVE),
        id="spec_5_1_waiting_appeal_to_pm_who_became_active",
    ),
    pytest.param(
        pm_queued(1, pm=A, waiting_for=A, last=A),
        active_set(A),
        Assign(1, A, PM_ACTIVE),
        id="spec_8_back_to_its_own_previous_assignee_is_not_a_handover",
    ),
    pytest.param(
        pm_queued(1, pm=B, waiting_for=B, last=A),
        active_set(B),
        Assign(1, B, HANDOVER),
        id="spec_8_handover_after_waiting_in_the_queue",
    ),
    pytest.param(
        pm_held(1, holder=A, pm=B),
        active_set(B),
        Assign(1, B, HANDOVER),
        id="spec_6_2_handover_at_once_to_active_new_pm",
    ),
    pytest.param(
        pm_held(1, holder=A, pm=A),
        active_set(A),
        None,
        id="spec_8_already_with_its_active_pm_records_nothing",
    ),
    pytest.param(
        pm_queued(1, pm=B, waiting_for=A),
        active_set(A, B),
        Assign(1, B, PM_ACTIVE),
        id="spec_6_4_never_assigned_appeal_to_new_pm_is_not_a_handover",
    ),
    # the client has a manager who is not active
    pytest.param(
        fresh_pm(1, pm=A),
        active_set(X),
        Queue(1, A, WAITING_FOR_PM),
        id="spec_5_1_new_appeal_waits_for_inactive_pm",
    ),
    pytest.param(
        pm_queued(1, pm=A, waiting_for=A),
        active_set(X),
        None,
        id="spec_8_already_waiting_for_its_pm_records_nothing",
    ),
    pytest.param(
        pm_queued(1, pm=B, waiting_for=A),
        active_set(A),
        Queue(1, B, WAITING_FOR_PM),
        id="spec_6_4_waiting_for_old_pm_now_waits_for_new_pm",
    ),
    pytest.param(
        pm_queued(1, pm=B, waiting_for=None),
        active_set(),
        Queue(1, B, WAITING_FOR_PM),
        id="spec_6_6_no_pm_appeal_waits_for_appointed_pm",
    ),
    pytest.param(
        pm_held(1, holder=A, pm=B),
        active_set(X),
        Queue(1, B, WAITING_FOR_PM),
        id="spec_6_2_waits_for_inactive_new_pm",
    ),
    pytest.param(
        pm_held(1, holder=A, pm=A),
        active_set(X),
        Queue(1, A, WAITING_FOR_PM),
        id="spec_5_4_inactive_holder_who_is_pm_waits_for_themself",
    ),
    pytest.param(
        pm_held(1, holder=A, pm=C),
        active_set(A, B, X),
        Queue(1, C, WAITING_FOR_PM),
        id="spec_5_3_no_fallback_to_other_active_employees",
    ),
    # the client has no manager
    pytest.param(
        fresh_pm(1, pm=None),
        active_set(A, B, C, X),
        Queue(1, None, NO_PM),
        id="spec_6_6_new_appeal_without_pm_queues_no_personal_manager",
    ),
    pytest.param(
        pm_held(1, holder=A, pm=None),
        active_set(B, C, X),
        Queue(1, None, NO_PM),
        id="spec_6_6_removed_pm_appeal_queues_no_personal_manager",
    ),
    pytest.param(
        pm_queued(1, pm=None, waiting_for=A),
        active_set(A),
        Queue(1, None, NO_PM),
        id="spec_6_6_waiting_appeal_after_removal_queues_no_personal_manager",
    ),
    pytest.param(
        pm_queued(1, pm=None, waiting_for=None),
        active_set(A, B, C, X),
        None,
        id="spec_8_already_queued_without_pm_records_nothing",
    ),
]


@pytest.mark.parametrize(("appeal", "is_active", "expected"), ROUTE_PM_CASES)
def test_spec_5_route_personal_manager(
    appeal: OpenAppeal, is_active: IsActive, expected: Decision | None
) -> None:
    assert route_personal_manager(appeal, is_active) == expected


@pytest.mark.parametrize(("appeal", "is_active", "expected"), ROUTE_PM_CASES)
def test_spec_5_3_pm_appeal_only_ever_goes_to_the_current_pm(
    appeal: OpenAppeal, is_active: IsActive, expected: Decision | None
) -> None:
    decision = route_personal_manager(appeal, is_active)
    if isinstance(decision, Assign):
        assert decision.employee_id == appeal.personal_manager_id
        assert is_active(decision.employee_id)
    if isinstance(decision, Queue):
        assert decision.waiting_for_id == appeal.personal_manager_id
        assert decision.reason == (NO_PM if appeal.personal_manager_id is None else WAITING_FOR_PM)


@pytest.mark.parametrize(("appeal", "is_active", "expected"), ROUTE_PM_CASES)
def test_spec_10_route_personal_manager_twice_moves_nothing_twice(
    appeal: OpenAppeal, is_active: IsActive, expected: Decision | None
) -> None:
    decision = route_personal_manager(appeal, is_active)
    if decision is None:
        return
    assert route_personal_manager(apply(appeal, decision), is_active) is None


# --------------------------------------------------------------------------------------------
# SPEC 5.1: opening a PM appeal


@pytest.mark.parametrize(
    ("pm", "is_active", "expected"),
    [
        pytest.param(A, active_set(A), Assign(7, A, PM_ACTIVE), id="pm_active_at_once"),
        pytest.param(A, active_set(B, X), Queue(7, A, WAITING_FOR_PM), id="pm_not_active_waits"),
        pytest.param(None, active_set(A, B), Queue(7, None, NO_PM), id="no_pm_queues_no_pm"),
    ],
)
def test_spec_5_1_on_open_personal_manager(
    pm: int | None, is_active: IsActive, expected: Decision
) -> None:
    assert on_open_personal_manager(fresh_pm(7, pm=pm), is_active) == expected


# --------------------------------------------------------------------------------------------
# SPEC 4.5, 5.4, 6.2, 6.5, 6.6: an employee leaves `active`


LEAVE_ACTIVE_CASES = [
    pytest.param(
        A,
        [gen(9, assignee=A), gen(2, assignee=A), gen(5, assignee=A)],
        active_set(),
        True,
        [
            Queue(2, None, RETURNED_OPERATOR_INACTIVE),
            Queue(5, None, RETURNED_OPERATOR_INACTIVE),
            Queue(9, None, RETURNED_OPERATOR_INACTIVE),
        ],
        id="spec_4_5_general_requeued_in_original_order",
    ),
    pytest.param(
        A,
        [gen(9, assignee=A), gen(2, assignee=A, reason=TRANSFERRED)],
        active_set(X),
        False,
        [],
        id="spec_4_5_general_kept_when_requeue_setting_off",
    ),
    pytest.param(
        A,
        [gen(1, assignee=X), gen(2), gen(3, assignee=A)],
        active_set(X),
        True,
        [Queue(3, None, RETURNED_OPERATOR_INACTIVE)],
        id="spec_4_5_only_what_the_leaver_holds_moves",
    ),
    pytest.param(
        A,
        [pm_held(4, holder=A, pm=A)],
        active_set(B, X),
        True,
        [Queue(4, A, WAITING_FOR_PM)],
        id="spec_5_4_pm_appeal_waits_for_its_own_pm",
    ),
    pytest.param(
        A,
        [pm_held(4, holder=A, pm=A)],
        active_set(A, B, X),
        True,
        [Queue(4, A, WAITING_FOR_PM)],
        id="spec_5_4_leaver_counts_as_inactive_even_if_snapshot_says_active",
    ),
    pytest.param(
        A,
        [pm_held(4, holder=A, pm=A)],
        active_set(),
        False,
        [Queue(4, A, WAITING_FOR_PM)],
        id="spec_5_4_pm_appeal_requeued_whatever_the_general_setting",
    ),
    pytest.param(
        A,
        [pm_held(4, holder=A, pm=B)],
        active_set(B),
        True,
        [Assign(4, B, HANDOVER)],
        id="spec_6_2_to_active_current_pm_with_handover",
    ),
    pytest.param(
        A,
        [pm_held(4, holder=A, pm=B)],
        active_set(X),
        True,
        [Queue(4, B, WAITING_FOR_PM)],
        id="spec_6_2_waits_for_inactive_current_pm",
    ),
    pytest.param(
        A,
        [pm_held(4, holder=A, pm=C)],
        active_set(B, C),
        True,
        [Assign(4, C, HANDOVER)],
        id="spec_6_5_after_a_b_c_goes_to_c",
    ),
    pytest.param(
        A,
        [pm_held(4, holder=A, pm=C)],
        active_set(B),
        True,
        [Queue(4, C, WAITING_FOR_PM)],
        id="spec_6_5_after_a_b_c_waits_for_c_not_b",
    ),
    pytest.param(
        A,
        [pm_held(4, holder=A, pm=None)],
        active_set(B, X),
        True,
        [Queue(4, None, NO_PM)],
        id="spec_6_6_removed_pm_queues_no_personal_manager",
    ),
    pytest.param(
        A,
        [pm_held(4, holder=B, pm=A), pm_queued(5, pm=A, waiting_for=A)],
        active_set(B),
        True,
        [],
        id="spec_5_4_pm_appeals_not_held_by_the_leaver_stay",
    ),
    pytest.param(
        A,
        [
            pm_held(8, holder=A, pm=B),
            gen(3, assignee=A),
            pm_held(6, holder=A, pm=A),
            gen(1, assignee=A),
        ],
        active_set(B),
        True,
        [
            Queue(1, None, RETURNED_OPERATOR_INACTIVE),
            Queue(3, None, RETURNED_OPERATOR_INACTIVE),
            Queue(6, A, WAITING_FOR_PM),
            Assign(8, B, HANDOVER),
        ],
        id="spec_4_5_5_4_mixed_holdings_in_id_order",
    ),
    pytest.param(
        A,
        [pm_held(4, holder=A, pm=A, reason=OPENED_BY_EMPLOYEE)],
        active_set(),
        True,
        [Queue(4, A, WAITING_FOR_PM)],
        id="spec_5_4_appeal_opened_by_writing_first_goes_back_too",
    ),
    pytest.param(A, [], active_set(), True, [], id="holding_nothing_records_nothing"),
]


@pytest.mark.parametrize(
    ("employee", "held", "is_active", "requeue", "expected"), LEAVE_ACTIVE_CASES
)
def test_spec_on_leave_active(
    employee: int,
    held: list[OpenAppeal],
    is_active: IsActive,
    requeue: bool,
    expected: list[Decision],
) -> None:
    assert on_leave_active(employee, held, is_active, requeue_general=requeue) == expected


@pytest.mark.parametrize(
    ("employee", "held", "is_active", "requeue", "expected"), LEAVE_ACTIVE_CASES
)
def test_spec_9_3_leaving_never_hands_a_pm_appeal_to_a_non_pm(
    employee: int,
    held: list[OpenAppeal],
    is_active: IsActive,
    requeue: bool,
    expected: list[Decision],
) -> None:
    by_id = {a.id: a for a in held}
    for decision in on_leave_active(employee, held, is_active, requeue_general=requeue):
        appeal = by_id[decision.appeal_id]
        assert appeal.assignee_id == employee
        if isinstance(decision, Assign):
            assert appeal.kind == "personal_manager"
            assert decision.employee_id == appeal.personal_manager_id != employee


# --------------------------------------------------------------------------------------------
# SPEC 5.1, 6.2: an employee becomes `active`

BECOME_ACTIVE_CASES = [
    pytest.param(
        A,
        [pm_queued(5, pm=A, waiting_for=A), pm_queued(2, pm=A, waiting_for=A)],
        [Assign(2, A, PM_ACTIVE), Assign(5, A, PM_ACTIVE)],
        id="spec_5_1_waiting_appeals_go_to_the_pm_in_id_order",
    ),
    pytest.param(
        A,
        [pm_queued(5, pm=A, waiting_for=A, last=A)],
        [Assign(5, A, PM_ACTIVE)],
        id="spec_5_4_returns_to_its_pm_without_handover",
    ),
    pytest.param(
        B,
        [pm_queued(5, pm=B, waiting_for=B, last=A)],
        [Assign(5, B, HANDOVER)],
        id="spec_6_2_new_pm_becoming_active_gets_handover",
    ),
    pytest.param(
        A,
        [pm_queued(5, pm=B, waiting_for=B, last=A)],
        [],
        id="spec_6_2_previous_pm_becoming_active_gets_nothing_back",
    ),
    pytest.param(
        A,
        [pm_queued(5, pm=None, waiting_for=None, last=A)],
        [],
        id="spec_6_6_no_pm_appeal_stays_queued",
    ),
    pytest.param(
        A,
        [gen(1), gen(2)],
        [],
        id="spec_4_general_appeals_are_not_its_business",
    ),
    pytest.param(
        A,
        [pm_held(3, holder=A, pm=A), pm_held(4, holder=B, pm=A)],
        [],
        id="assigned_pm_appeals_do_not_move",
    ),
    pytest.param(A, [], [], id="nothing_waiting_records_nothing"),
]


@pytest.mark.parametrize(("employee", "waiting", "expected"), BECOME_ACTIVE_CASES)
def test_spec_on_become_active(
    employee: int, waiting: list[OpenAppeal], expected: list[Decision]
) -> None:
    assert on_become_active(employee, waiting) == expected


# --------------------------------------------------------------------------------------------
# SPEC 6.1-6.6: the client's manager changes (personal_manager_id is the NEW manager)

MANAGER_CHANGED_CASES = [
    pytest.param(
        [pm_held(1, holder=A, pm=B)],
        active_set(A, B),
        [],
        id="spec_6_1_a_to_b_active_a_keeps_it",
    ),
    pytest.param(
        [pm_held(1, holder=A, pm=B)],
        active_set(A),
        [],
        id="spec_6_1_a_keeps_it_even_when_b_is_not_active",
    ),
    pytest.param(
        [pm_held(1, holder=A, pm=B, reason=OPENED_BY_EMPLOYEE)],
        active_set(B),
        [Assign(1, B, HANDOVER)],
        id="spec_6_3_a_not_active_at_change_goes_to_active_b_at_once",
    ),
    pytest.param(
        [pm_held(1, holder=A, pm=B, reason=OPENED_BY_EMPLOYEE)],
        active_set(X),
        [Queue(1, B, WAITING_FOR_PM)],
        id="spec_6_3_a_not_active_at_change_waits_for_b",
    ),
    pytest.param(
        [pm_queued(1, pm=B, waiting_for=A)],
        active_set(X),
        [Queue(1, B, WAITING_FOR_PM)],
        id="spec_6_4_queued_waiting_for_a_now_waits_for_b",
    ),
    pytest.param(
        [pm_queued(1, pm=B, waiting_for=A)],
        active_set(B),
        [Assign(1, B, PM_ACTIVE)],
        id="spec_6_4_queued_never_assigned_to_active_b_at_once",
    ),
    pytest.param(
        [pm_queued(1, pm=B, waiting_for=A, last=A)],
        active_set(B),
        [Assign(1, B, HANDOVER)],
        id="spec_6_4_queued_once_held_by_a_to_active_b_is_a_handover",
    ),
    pytest.param(
        [pm_held(1, holder=A, pm=C)],
        active_set(A, B, C),
        [],
        id="spec_6_5_a_b_c_active_a_still_keeps_it",
    ),
    pytest.param(
        [pm_queued(1, pm=C, waiting_for=B, last=A)],
        active_set(A, B),
        [Queue(1, C, WAITING_FOR_PM)],
        id="spec_6_5_a_b_c_waiting_for_b_now_waits_for_c",
    ),
    pytest.param(
        [pm_queued(1, pm=C, waiting_for=B, last=A)],
        active_set(C),
        [Assign(1, C, HANDOVER)],
        id="spec_6_5_a_b_c_waiting_for_b_to_active_c",
    ),
    pytest.param(
        [pm_held(1, holder=A, pm=A)],
        active_set(A, B),
        [],
        id="spec_6_5_a_b_a_nothing_moves",
    ),
    pytest.param(
        [pm_queued(1, pm=A, waiting_for=B, last=A)],
        active_set(A),
        [Assign(1, A, PM_ACTIVE)],
        id="spec_6_5_a_b_a_back_to_active_a_is_not_a_handover",
    ),
    pytest.param(
        [pm_queued(1, pm=A, waiting_for=B, last=A)],
        active_set(B),
        [Queue(1, A, WAITING_FOR_PM)],
        id="spec_6_5_a_b_a_waits_for_a_again",
    ),
    pytest.param(
        [pm_held(1, holder=A, pm=None)],
        active_set(A),
        [],
        id="spec_6_6_removal_active_a_keeps_it",
    ),
    pytest.param(
        [pm_held(1, holder=A, pm=None, reason=OPENED_BY_EMPLOYEE)],
        active_set(B),
        [Queue(1, None, NO_PM)],
        id="spec_6_6_removal_inactive_a_queues_no_personal_manager",
    ),
    pytest.param(
        [pm_queued(1, pm=None, waiting_for=A)],
        active_set(A),
        [Queue(1, None, NO_PM)],
        id="spec_6_6_removal_waiting_appeal_queues_no_personal_manager",
    ),
    pytest.param(
        [pm_queued(1, pm=B, waiting_for=None)],
        active_set(B),
        [Assign(1, B, PM_ACTIVE)],
        id="spec_6_6_appointed_active_pm_gets_no_pm_appeal",
    ),
    pytest.param(
        [pm_queued(1, pm=B, waiting_for=None, last=A)],
        active_set(A),
        [Queue(1, B, WAITING_FOR_PM)],
        id="spec_6_6_appointed_inactive_pm_is_waited_for",
    ),
    pytest.param(
        [gen(1), gen(2, assignee=A)],
        active_set(),
        [],
        id="spec_2_4_general_appeals_untouched",
    ),
    pytest.param(
        [
            pm_queued(5, pm=B, waiting_for=A),
            pm_held(2, holder=A, pm=B),
            pm_held(3, holder=C, pm=B, reason=OPENED_BY_EMPLOYEE),
            pm_queued(4, pm=B, waiting_for=B),
        ],
        active_set(A, B),
        [Assign(3, B, HANDOVER), Assign(4, B, PM_ACTIVE), Assign(5, B, PM_ACTIVE)],
        id="spec_6_several_appeals_in_id_order",
    ),
]


@pytest.mark.parametrize(("appeals", "is_active", "expected"), MANAGER_CHANGED_CASES)
def test_spec_6_on_manager_changed(
    appeals: list[OpenAppeal], is_active: IsActive, expected: list[Decision]
) -> None:
    assert on_manager_changed(appeals, is_active) == expected


@pytest.mark.parametrize(("appeals", "is_active", "expected"), MANAGER_CHANGED_CASES)
def test_spec_10_manager_change_twice_moves_nothing_twice(
    appeals: list[OpenAppeal], is_active: IsActive, expected: list[Decision]
) -> None:
    decisions = {d.appeal_id: d for d in on_manager_changed(appeals, is_active)}
    after = [apply(a, decisions[a.id]) if a.id in decisions else a for a in appeals]
    assert on_manager_changed(after, is_active) == []


# --------------------------------------------------------------------------------------------
# SPEC 6 as sequences of steps, driven through the policy like the engine does


def test_spec_6_2_a_to_b_then_a_leaves_then_b_becomes_active() -> None:
    appeal = on_open_personal_manager(fresh_pm(1, pm=A), active_set(A))
    assert appeal == Assign(1, A, PM_ACTIVE)
    held = apply(fresh_pm(1, pm=A), appeal)
    # A -> B while A is active: A keeps it (6.1)
    changed = replace(held, personal_manager_id=B)
    assert on_manager_changed([changed], active_set(A)) == []
    # A leaves active, B is not active: it waits for B (6.2)
    [queued] = on_leave_active(A, [changed], active_set(), requeue_general=True)
    assert queued == Queue(1, B, WAITING_FOR_PM)
    waiting = apply(changed, queued)
    # A coming back gets nothing; B becoming active gets it with a handover (6.2, 8)
    assert on_become_active(A, [waiting]) == []
    assert on_become_active(B, [waiting]) == [Assign(1, B, HANDOVER)]


def test_spec_5_4_pm_leaves_and_returns_gets_it_back_without_handover() -> None:
    held = apply(fresh_pm(1, pm=A), Assign(1, A, PM_ACTIVE))
    [queued] = on_leave_active(A, [held], active_set(B, C, X), requeue_general=True)
    assert queued == Queue(1, A, WAITING_FOR_PM)
    waiting = apply(held, queued)
    assert on_become_active(B, [waiting]) == []
    assert on_become_active(A, [waiting]) == [Assign(1, A, PM_ACTIVE)]


# --------------------------------------------------------------------------------------------
# SPEC 4.7: general_chat taken away


REVOKE_CASES = [
    pytest.param(
        A,
        [gen(8, assignee=A), gen(3, assignee=A, reason=TRANSFERRED), gen(5, assignee=A)],
        [
            Queue(3, None, RETURNED_OPERATOR_INACTIVE),
            Queue(5, None, RETURNED_OPERATOR_INACTIVE),
            Queue(8, None, RETURNED_OPERATOR_INACTIVE),
        ],
        id="spec_4_7_general_appeals_return_in_original_order",
    ),
    pytest.param(
        A,
        [pm_held(1, holder=A, pm=A), pm_held(2, holder=A, pm=B), gen(3, assignee=A)],
        [Queue(3, None, RETURNED_OPERATOR_INACTIVE)],
        id="spec_4_7_pm_appeals_are_kept",
    ),
    pytest.param(
        A,
        [gen(1, assignee=B), gen(2), gen(3, assignee=A)],
        [Queue(3, None, RETURNED_OPERATOR_INACTIVE)],
        id="spec_4_7_only_the_revoked_employees_appeals",
    ),
    pytest.param(A, [gen(1, assignee=B)], [], id="holding_nothing_records_nothing"),
]


@pytest.mark.parametrize(("employee", "held", "expected"), REVOKE_CASES)
def test_spec_4_7_on_general_chat_revoked(
    employee: int, held: list[OpenAppeal], expected: list[Decision]
) -> None:
    assert on_general_chat_revoked(employee, held) == expected


# --------------------------------------------------------------------------------------------
# SPEC 8: a routing attempt that changes nothing records nothing


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            lambda: route_personal_manager(pm_held(1, holder=A, pm=A), active_set(A)),
            id="route_pm_already_with_active_pm",
        ),
        pytest.param(
            lambda: route_personal_manager(pm_queued(1, pm=A, waiting_for=A), active_set()),
            id="route_pm_already_waiting_for_inactive_pm",
        ),
        pytest.param(
            lambda: route_personal_manager(pm_queued(1, pm=None, waiting_for=None), active_set(A)),
            id="route_pm_already_queued_without_pm",
        ),
        pytest.param(
            lambda: route_general([gen(1, assignee=A)], [op(B)], 1),
            id="route_general_nothing_queued",
        ),
        pytest.param(
            lambda: route_general([gen(1)], [op(A, load=3, limit=3)], 1),
            id="route_general_nobody_eligible",
        ),
        pytest.param(
            lambda: route_general([pm_queued(1, pm=A, waiting_for=A)], [op(A)], 1),
            id="route_general_only_pm_appeals_queued",
        ),
        pytest.param(
            lambda: on_leave_active(A, [gen(1, assignee=A)], active_set(), requeue_general=False),
            id="leave_active_keeping_general",
        ),
        pytest.param(
            lambda: on_leave_active(
                A, [pm_held(1, holder=B, pm=A)], active_set(B), requeue_general=True
            ),
            id="leave_active_holding_nothing",
        ),
        pytest.param(
            lambda: on_become_active(A, [pm_queued(1, pm=B, waiting_for=B)]),
            id="become_active_nothing_waits_for_them",
        ),
        pytest.param(
            lambda: on_manager_changed([pm_held(1, holder=A, pm=B)], active_set(A)),
            id="manager_changed_holder_still_active",
        ),
        pytest.param(
            lambda: on_manager_changed([pm_queued(1, pm=B, waiting_for=B)], active_set()),
            id="manager_changed_already_waiting_for_new_pm",
        ),
        pytest.param(
            lambda: on_general_chat_revoked(A, [pm_held(1, holder=A, pm=A)]),
            id="general_chat_revoked_holding_only_pm_appeals",
        ),
    ],
)
def test_spec_8_a_routing_attempt_that_changes_nothing_records_nothing(
    call: Callable[[], object],
) -> None:
    result = call()
    assert result is None or result == []
