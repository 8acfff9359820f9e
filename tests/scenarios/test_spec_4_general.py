"""SPEC §4: general chat routing — the existing behaviour, unchanged by the PM feature."""

from __future__ import annotations

from typing import Any

from tests.scenarios.steps import (
    GENERAL,
    PM,
    assigned_to,
    employee_dialog,
    patch_employee,
    patch_settings,
    pm_client,
    problem,
    refused,
    routing,
    transfer,
    waiting_for,
)
from tests.support import World, ok


async def _general_appeals(world: World, n: int) -> list[dict[str, Any]]:
    """n persons of n clients each open a general appeal, oldest first."""
    appeals = []
    for i in range(n):
        person = (await world.client()).persons[0]
        appeals.append(await world.ask(person, GENERAL, f"Вопрос {i + 1}"))
    return appeals


async def _assignees(world: World, appeals: list[dict[str, Any]]) -> list[int | None]:
    result = []
    for appeal in appeals:
        fresh = await world.appeal(appeal["id"])
        result.append(fresh["assignee"]["id"] if fresh["assignee"] else None)
    return result


async def test_spec_4_1_queue_is_served_oldest_first(world: World) -> None:
    appeals = await _general_appeals(world, 3)
    for appeal in appeals:
        waiting_for(appeal, None, "no_eligible_operator")
    queue = await world.queue()
    assert [q["id"] for q in queue] == [a["id"] for a in appeals]

    operator = await world.operator(limit=1)
    assert await _assignees(world, appeals) == [operator.id, None, None]
    await world.close(operator, appeals[0]["id"])
    assert await _assignees(world, appeals[1:]) == [operator.id, None]
    await world.close(operator, appeals[1]["id"])
    assert await _assignees(world, appeals[2:]) == [operator.id]


async def test_spec_4_2_limit_is_respected(world: World) -> None:
    operator = await world.operator(limit=2)
    appeals = await _general_appeals(world, 3)
    assert await _assignees(world, appeals) == [operator.id, operator.id, None]
    waiting_for(await world.appeal(appeals[2]["id"]), None, "no_eligible_operator")


async def test_spec_4_2_only_active_operators_with_general_chat_are_eligible(
    world: World,
) -> None:
    no_permission = await world.employee([], status="active")
    on_break = await world.operator(status="break")
    offline = await world.operator(status="offline")
    supervisor = await world.employee(["supervise"], status="active")
    appeals = await _general_appeals(world, 2)
    assert await _assignees(world, appeals) == [None, None]
    await world.set_status(on_break, "active")
    assert await _assignees(world, appeals) == [on_break.id, on_break.id]
    del no_permission, offline, supervisor


async def test_spec_4_2_null_limit_means_the_default_setting(world: World) -> None:
    settings = ok(await world.api.get("/api/v1/settings", headers=world.admin.headers))
    assert settings["default_general_limit"] == 3
    await patch_settings(world, default_general_limit=1)
    operator = await world.operator(limit=None)
    assert (
        ok(await world.api.get(f"/api/v1/employees/{operator.id}", headers=operator.headers))[
            "general_limit"
        ]
        is None
    )
    appeals = await _general_appeals(world, 3)
    assert await _assignees(world, appeals) == [operator.id, None, None]

    # A setting change routes at once (SPEC 4.4).
    await patch_settings(world, default_general_limit=2)
    assert await _assignees(world, appeals) == [operator.id, operator.id, None]

    # An own limit wins over the default; back to null uses the default again.
    await patch_employee(world, operator, general_limit=3)
    assert await _assignees(world, appeals) == [operator.id] * 3
    await patch_employee(world, operator, general_limit=None)
    assert await _assignees(world, appeals) == [operator.id] * 3  # lowering moves nothing


async def test_spec_4_3_least_loaded_operator_first(world: World) -> None:
    first = await world.operator(limit=5)
    appeals = await _general_appeals(world, 2)
    assert await _assignees(world, appeals) == [first.id, first.id]
    second = await world.operator(limit=5)
    more = await _general_appeals(world, 3)
    # `second` holds fewer until they are level at 2-2; the tie then goes to `first`, whose
    # last general assignment is the older one.
    assert await _assignees(world, more) == [second.id, second.id, first.id]


async def test_spec_4_3_ties_never_assigned_first_then_longest_waiting(world: World) -> None:
    low = await world.operator(status="break")  # the lower id
    high = await world.operator()
    a = (await _general_appeals(world, 1))[0]
    assigned_to(a, high, "routed")
    await world.set_status(low, "active")  # nothing queued: nothing moves
    await world.close(high, a["id"])

    # Both hold none; `low` was never assigned: `low` first.
    b = (await _general_appeals(world, 1))[0]
    assigned_to(b, low, "routed")
    await world.close(low, b["id"])

    # Both hold none, both assigned before: `high` has waited longer, despite the higher id.
    c = (await _general_appeals(world, 1))[0]
    assigned_to(c, high, "routed")
    await world.close(high, c["id"])

    d = (await _general_appeals(world, 1))[0]
    assigned_to(d, low, "routed")


async def test_spec_4_3_ties_between_never_assigned_go_to_lowest_id(world: World) -> None:
    ops = [await world.operator(status="break", limit=1) for _ in range(3)]
    appeals = await _general_appeals(world, 3)
    for op in reversed(ops):
        await world.set_status(op, "active")
    # Each activation routes the oldest queued appeal to the operator who just came.
    assert await _assignees(world, appeals) == [ops[2].id, ops[1].id, ops[0].id]
    for appeal, op in zip(appeals, reversed(ops), strict=True):
        await world.close(op, appeal["id"])
    for op in ops:
        await patch_employee(world, op, general_limit=3)
    # All level at 0 and all assigned before: the one assigned longest ago (ops[2], the highest
    # id) first, then ops[1] before the lower id ops[0].
    later = await _general_appeals(world, 3)
    assert await _assignees(world, later) == [ops[2].id, ops[1].id, ops[0].id]

    fresh = [await world.operator(status="break") for _ in range(2)]
    for op in fresh:
        await world.set_status(op, "active")
    more = await _general_appeals(world, 2)
    # Never-assigned operators with zero load: lowest id first.
    assert await _assignees(world, more) == [fresh[0].id, fresh[1].id]


async def test_spec_4_3_queued_pm_appeals_never_block_general_routing(world: World) -> None:
    manager = await world.manager(status="offline")
    _, person = await pm_client(world, manager)
    pm_appeal = await world.ask(person, PM)
    waiting_for(pm_appeal, manager, "waiting_for_personal_manager")
    general = await world.ask(person, GENERAL)
    later = (await _general_appeals(world, 1))[0]
    operator = await world.operator(limit=2)
    assigned_to(await world.appeal(general["id"]), operator, "routed")
    assigned_to(await world.appeal(later["id"]), operator, "routed")
    waiting_for(await world.appeal(pm_appeal["id"]), manager, "waiting_for_personal_manager")


async def test_spec_4_3_limit_zero_means_no_general_appeals(world: World) -> None:
    await world.operator(limit=0)
    appeals = await _general_appeals(world, 2)
    assert await _assignees(world, appeals) == [None, None]
    for appeal in appeals:
        waiting_for(await world.appeal(appeal["id"]), None, "no_eligible_operator")


async def test_spec_4_3_lowering_a_limit_moves_nothing(world: World) -> None:
    operator = await world.operator(limit=3)
    appeals = await _general_appeals(world, 4)
    assert await _assignees(world, appeals) == [operator.id] * 3 + [None]
    await patch_employee(world, operator, general_limit=1)
    assert await _assignees(world, appeals) == [operator.id] * 3 + [None]
    # Closing one leaves two open, still at or above the limit: nothing new arrives.
    await world.close(operator, appeals[0]["id"])
    await world.close(operator, appeals[1]["id"])
    assert await _assignees(world, appeals[2:]) == [operator.id, None]
    await world.close(operator, appeals[2]["id"])
    assert await _assignees(world, appeals[3:]) == [operator.id]


async def test_spec_4_3_transferred_and_self_opened_appeals_count(world: World) -> None:
    sender = await world.operator(limit=5)
    receiver = await world.employee(["general_chat", "supervise"], general_limit=2)
    await world.set_status(receiver, "active")

    # `receiver` opens one by writing first (supervisors may create any dialog).
    person = (await world.client()).persons[0]
    dialog = ok(await employee_dialog(world, receiver, person, GENERAL), 200, 201)
    own = await world.write(receiver, dialog["id"], "Банк пишет первым")
    assigned_to(await world.appeal(own["appeal_id"]), receiver, "opened_by_employee")

    # `sender` (least loaded: 0 vs 1) gets the next one and transfers it to `receiver`.
    moved = (await _general_appeals(world, 1))[0]
    assigned_to(moved, sender, "routed")
    ok(await transfer(world, sender, moved["id"], receiver))
    assigned_to(await world.appeal(moved["id"]), receiver, "transferred")

    # `receiver` is now at their limit of 2: routing gives them nothing more.
    await world.set_status(sender, "break")  # sender holds nothing general any more
    later = (await _general_appeals(world, 1))[0]
    waiting_for(await world.appeal(later["id"]), None, "no_eligible_operator")


async def test_spec_4_4_raising_a_limit_routes_at_once(world: World) -> None:
    operator = await world.operator(limit=1)
    appeals = await _general_appeals(world, 3)
    assert await _assignees(world, appeals) == [operator.id, None, None]
    await patch_employee(world, operator, general_limit=3)
    assert await _assignees(world, appeals) == [operator.id] * 3


async def test_spec_4_4_becoming_active_routes(world: World) -> None:
    operator = await world.operator(status="offline")
    appeals = await _general_appeals(world, 2)
    assert await _assignees(world, appeals) == [None, None]
    await world.set_status(operator, "active")
    assert await _assignees(world, appeals) == [operator.id, operator.id]


async def test_spec_4_4_granting_general_chat_routes(world: World) -> None:
    employee = await world.employee([], status="active", general_limit=2)
    appeals = await _general_appeals(world, 2)
    assert await _assignees(world, appeals) == [None, None]
    await patch_employee(world, employee, permissions=["general_chat"])
    assert await _assignees(world, appeals) == [employee.id, employee.id]


async def test_spec_4_4_closing_and_returning_route_the_next(world: World) -> None:
    operator = await world.operator(limit=1)
    appeals = await _general_appeals(world, 3)
    await world.close(operator, appeals[0]["id"])
    assigned_to(await world.appeal(appeals[1]["id"]), operator, "routed")
    other = await world.operator(limit=1)
    assigned_to(await world.appeal(appeals[2]["id"]), other, "routed")
    del other


async def test_spec_4_5_leaving_active_requeues_in_original_order(world: World) -> None:
    leaving = await world.operator(limit=3)
    appeals = await _general_appeals(world, 4)
    assert await _assignees(world, appeals) == [leaving.id] * 3 + [None]

    await world.set_status(leaving, "break")

    queue = await world.queue()
    assert [q["id"] for q in queue] == [a["id"] for a in appeals]
    assert [q["reason"] for q in queue] == ["returned_operator_inactive"] * 3 + [
        "no_eligible_operator"
    ]
    for appeal in appeals[:3]:
        history = await world.history(appeal["id"])
        assert routing(history)[-1] == ("returned_operator_inactive", None)

    # In their original order: the next operator gets the oldest first.
    taker = await world.operator(limit=2)
    assert await _assignees(world, appeals) == [taker.id, taker.id, None, None]
    assert routing(await world.history(appeals[0]["id"]))[-1] == ("routed", taker.id)


async def test_spec_4_5_going_offline_requeues_too(world: World) -> None:
    leaving = await world.operator()
    appeal = (await _general_appeals(world, 1))[0]
    assigned_to(appeal, leaving, "routed")
    await world.set_status(leaving, "offline")
    waiting_for(await world.appeal(appeal["id"]), None, "returned_operator_inactive")


async def test_spec_4_5_requeue_setting_off_keeps_appeals(world: World) -> None:
    settings = ok(await world.api.get("/api/v1/settings", headers=world.admin.headers))
    assert settings["requeue_general_on_inactive"] is True
    await patch_settings(world, requeue_general_on_inactive=False)
    operator = await world.operator()
    appeal = (await _general_appeals(world, 1))[0]
    await world.set_status(operator, "break")
    assigned_to(await world.appeal(appeal["id"]), operator, "routed")


async def test_spec_4_6_assignee_transfers_to_an_eligible_operator(world: World) -> None:
    sender = await world.operator()
    appeal = (await _general_appeals(world, 1))[0]
    assigned_to(appeal, sender, "routed")
    receiver = await world.operator()

    moved = ok(await transfer(world, sender, appeal["id"], receiver))
    assigned_to(moved, receiver, "transferred")
    history = await world.history(appeal["id"])
    last = history[-1]
    assert (last["reason"], last["employee_id"]) == ("transferred", receiver.id)
    assert last["actor"] == {"type": "employee", "id": sender.id}
    # The sender no longer holds it and loses sight of the general dialog (SPEC 7.3).
    problem(
        await world.api.get(f"/api/v1/dialogs/{appeal['dialog_id']}", headers=sender.headers),
        404,
    )


async def test_spec_4_6_supervisor_transfers(world: World) -> None:
    sender = await world.operator()
    appeal = (await _general_appeals(world, 1))[0]
    receiver = await world.operator()
    supervisor = await world.supervisor()
    moved = ok(await transfer(world, supervisor, appeal["id"], receiver))
    assigned_to(moved, receiver, "transferred")
    del sender


async def test_spec_4_6_transfer_to_an_unavailable_operator_is_409(world: World) -> None:
    sender = await world.operator()
    appeal = (await _general_appeals(world, 1))[0]
    assigned_to(appeal, sender, "routed")
    on_break = await world.operator(status="break")
    offline = await world.operator(status="offline")
    no_permission = await world.employee([], status="active")
    full = await world.operator(limit=1)
    busy = (await _general_appeals(world, 1))[0]
    assigned_to(busy, full, "routed")
    zero = await world.operator(limit=0)

    for target in (on_break, offline, no_permission, full, zero):
        problem(
            await transfer(world, sender, appeal["id"], target), 409, "transfer_target_unavailable"
        )
    assigned_to(await world.appeal(appeal["id"]), sender, "routed")
    assert routing(await world.history(appeal["id"]))[-1] == ("routed", sender.id)


async def test_spec_4_6_non_holder_may_not_transfer(world: World) -> None:
    holder = await world.operator()
    appeal = (await _general_appeals(world, 1))[0]
    assigned_to(appeal, holder, "routed")
    other = await world.operator()
    # The general dialog is not visible to another operator at all.
    problem(await transfer(world, other, appeal["id"], other), 404)
    assigned_to(await world.appeal(appeal["id"]), holder, "routed")


async def test_spec_4_6_return_to_queue(world: World) -> None:
    await patch_settings(world, requeue_general_on_inactive=False)
    holder = await world.operator()
    appeal = (await _general_appeals(world, 1))[0]
    await world.set_status(holder, "break")  # keeps it: requeueing is off
    assigned_to(await world.appeal(appeal["id"]), holder, "routed")

    supervisor = await world.supervisor()
    returned = ok(await transfer(world, supervisor, appeal["id"], None))
    waiting_for(returned, None, "returned_by_employee")
    queue = await world.queue()
    assert [(q["id"], q["reason"]) for q in queue] == [(appeal["id"], "returned_by_employee")]
    # Back to the queue means back to routing.
    taker = await world.operator()
    assigned_to(await world.appeal(appeal["id"]), taker, "routed")
    assert routing(await world.history(appeal["id"]))[-3:] == [
        ("routed", holder.id),
        ("returned_by_employee", None),
        ("routed", taker.id),
    ]


async def test_spec_4_6_assignee_returns_to_queue_and_routing_runs(world: World) -> None:
    holder = await world.operator()
    appeal = (await _general_appeals(world, 1))[0]
    assigned_to(appeal, holder, "routed")
    idle = await world.operator()  # never assigned: first in line

    ok(await transfer(world, holder, appeal["id"], None))
    history = await world.history(appeal["id"])
    assert routing(history)[-2:] == [("returned_by_employee", None), ("routed", idle.id)]
    returned = next(e for e in history if e["reason"] == "returned_by_employee")
    assert returned["actor"] == {"type": "employee", "id": holder.id}


async def test_spec_4_7_disabling_a_personal_manager_is_409(world: World) -> None:
    manager = await world.employee(["general_chat"], status="active")
    client = await world.client(manager=manager)
    response = await world.api.patch(
        f"/api/v1/employees/{manager.id}", json={"is_enabled": False}, headers=world.admin.headers
    )
    problem(response, 409, "employee_is_personal_manager")
    shown = ok(await world.api.get(f"/api/v1/employees/{manager.id}", headers=manager.headers))
    assert shown["is_enabled"] is True
    assert shown["status"] == "active"

    # Move the client first; then disabling works.
    other = await world.manager()
    await world.set_manager(client, other)
    disabled = await patch_employee(world, manager, is_enabled=False)
    assert disabled["is_enabled"] is False


async def test_spec_4_7_disabling_counts_as_leaving_active(world: World) -> None:
    leaving = await world.operator(limit=2)
    appeals = await _general_appeals(world, 2)
    assert await _assignees(world, appeals) == [leaving.id, leaving.id]
    taker = await world.operator(status="offline", limit=1)
    await world.set_status(taker, "active")  # nothing queued yet

    await patch_employee(world, leaving, is_enabled=False)

    assert await _assignees(world, appeals) == [taker.id, None]
    assert routing(await world.history(appeals[0]["id"]))[-2:] == [
        ("returned_operator_inactive", None),
        ("routed", taker.id),
    ]
    waiting_for(await world.appeal(appeals[1]["id"]), None, "returned_operator_inactive")
    # A disabled employee's token is dead.
    problem(await world.api.get("/api/v1/me", headers=leaving.headers), 401)


async def test_spec_4_7_taking_general_chat_away_counts_as_leaving_active(world: World) -> None:
    leaving = await world.operator()
    appeal = (await _general_appeals(world, 1))[0]
    assigned_to(appeal, leaving, "routed")
    await patch_employee(world, leaving, permissions=[])
    waiting_for(await world.appeal(appeal["id"]), None, "returned_operator_inactive")
    later = (await _general_appeals(world, 1))[0]
    waiting_for(later, None, "no_eligible_operator")


async def test_spec_4_7_disabling_previous_manager_hands_over(world: World) -> None:
    a = await world.manager(status="active")
    b = await world.manager(status="active")
    client, person = await pm_client(world, a)
    appeal = await world.ask(person, PM)
    await world.set_manager(client, b)
    assigned_to(await world.appeal(appeal["id"]), a, "personal_manager_active")
    await patch_employee(world, a, is_enabled=False)
    assigned_to(await world.appeal(appeal["id"]), b, "handover_to_new_personal_manager")


async def test_spec_4_6_transfer_checks(world: World) -> None:
    holder = await world.operator()
    person = (await world.client()).persons[0]
    appeal = await world.ask(person, GENERAL)
    assigned_to(appeal, holder, "routed")
    target = await world.operator()
    supervisor = await world.supervisor()

    # The person sees their dialog but may not move the appeal.
    refused(await transfer(world, person, appeal["id"], target))
    refused(await transfer(world, person, appeal["id"], None))
    # Unknown target: bad input, nothing moves.
    response = await world.api.post(
        f"/api/v1/appeals/{appeal['id']}/transfer",
        json={"employee_id": 999999},
        headers=supervisor.headers,
    )
    assert response.status_code in (404, 422), response.text
    assigned_to(await world.appeal(appeal["id"]), holder, "routed")

    # A closed appeal moves nowhere.
    await world.close(holder, appeal["id"])
    problem(await transfer(world, supervisor, appeal["id"], target), 409, "appeal_closed")
    problem(await transfer(world, supervisor, appeal["id"], None), 409, "appeal_closed")
    assert (await world.appeal(appeal["id"]))["status"] == "closed"


async def test_spec_4_6_returning_a_queued_appeal_changes_nothing(world: World) -> None:
    appeal = (await _general_appeals(world, 1))[0]
    before = await world.history(appeal["id"])
    returned = ok(await transfer(world, world.admin, appeal["id"], None))
    waiting_for(returned, None, "no_eligible_operator")
    assert await world.history(appeal["id"]) == before


async def test_spec_4_6_queued_appeal_to_an_operator_without_room_is_409(world: World) -> None:
    appeal = (await _general_appeals(world, 1))[0]
    target = await world.operator(limit=0)
    problem(
        await transfer(world, world.admin, appeal["id"], target), 409, "transfer_target_unavailable"
    )
    await world.set_status(target, "break")
    await patch_employee(world, target, general_limit=1)
    await world.set_status(target, "active")  # with room, routing gives it to them
    assigned_to(await world.appeal(appeal["id"]), target, "routed")


async def test_spec_4_7_revoking_general_chat_reroutes_at_once(world: World) -> None:
    leaving = await world.operator(limit=2)
    appeals = await _general_appeals(world, 2)
    taker = await world.operator(limit=1)
    assert await _assignees(world, appeals) == [leaving.id, leaving.id]
    await patch_employee(world, leaving, permissions=["supervise"])
    assert await _assignees(world, appeals) == [taker.id, None]
    assert routing(await world.history(appeals[0]["id"]))[-2:] == [
        ("returned_operator_inactive", None),
        ("routed", taker.id),
    ]
    # Still `active`, no longer an operator: nothing general comes to them.
    shown = ok(await world.api.get(f"/api/v1/employees/{leaving.id}", headers=leaving.headers))
    assert shown["status"] == "active"
    await world.close(taker, appeals[0]["id"])
    assigned_to(await world.appeal(appeals[1]["id"]), taker, "routed")


async def test_spec_4_4_supervisor_sets_an_operators_status(world: World) -> None:
    operator = await world.operator(status="offline")
    appeal = (await _general_appeals(world, 1))[0]
    other = await world.operator(status="offline")
    response = await world.api.put(
        f"/api/v1/employees/{operator.id}/status", json={"status": "active"}, headers=other.headers
    )
    problem(response, 403)
    waiting_for(await world.appeal(appeal["id"]), None, "no_eligible_operator")
    supervisor = await world.supervisor()
    ok(
        await world.api.put(
            f"/api/v1/employees/{operator.id}/status",
            json={"status": "active"},
            headers=supervisor.headers,
        )
    )
    assigned_to(await world.appeal(appeal["id"]), operator, "routed")
    ok(
        await world.api.put(
            f"/api/v1/employees/{operator.id}/status",
            json={"status": "break"},
            headers=supervisor.headers,
        )
    )
    waiting_for(await world.appeal(appeal["id"]), None, "returned_operator_inactive")


async def test_spec_4_1_oldest_first_when_several_get_room_at_once(world: World) -> None:
    await patch_settings(world, default_general_limit=1)
    first = await world.operator(limit=None)
    busy = await _general_appeals(world, 1)
    second = await world.operator(limit=None)
    busy += await _general_appeals(world, 1)
    assert await _assignees(world, busy) == [first.id, second.id]
    queued = await _general_appeals(world, 3)
    assert await _assignees(world, queued) == [None, None, None]

    # Both get room at once: the oldest goes to `first`, who has waited longer since their
    # last assignment, the next to `second`; the youngest still waits.
    await patch_settings(world, default_general_limit=2)
    assert await _assignees(world, queued) == [first.id, second.id, None]
