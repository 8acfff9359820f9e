"""API.md "Appeals": GET /appeals/{id}, its history, close and transfer."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import (
    APPEAL_FIELDS,
    assert_page,
    assert_time,
    assert_unauthorized,
    pm_setup,
    problem,
)
from tests.support import Actor, Emp, PersonRef, World, ok

APPEALS = "/api/v1/appeals"
HISTORY_FIELDS = {"at", "event", "reason", "employee_id", "actor"}


async def general_appeal(
    world: World, operator: Emp | None = None
) -> tuple[PersonRef, dict[str, Any]]:
    """A person's general appeal; assigned to `operator` when one is given (and active)."""
    client = await world.client()
    person = client.persons[0]
    appeal = await world.ask(person, "general")
    if operator is not None:
        assert appeal["status"] == "assigned", appeal
        assert appeal["assignee"]["id"] == operator.id
    return person, appeal


async def get_appeal(world: World, who: Actor, appeal_id: int) -> Any:
    return await world.api.get(f"{APPEALS}/{appeal_id}", headers=who.headers)


async def set_limit(world: World, emp: Emp, limit: int | None) -> None:
    ok(
        await world.api.patch(
            f"/api/v1/employees/{emp.id}",
            json={"general_limit": limit},
            headers=world.admin.headers,
        ),
        200,
    )


async def transfer(world: World, who: Actor, appeal_id: int, employee_id: int | None) -> Any:
    return await world.api.post(
        f"{APPEALS}/{appeal_id}/transfer", json={"employee_id": employee_id}, headers=who.headers
    )


# --- GET /appeals/{id} ---------------------------------------------------------------------


async def test_get_appeal(world: World) -> None:
    operator = await world.operator()
    person, appeal = await general_appeal(world, operator)
    for who in (person, operator, world.admin):
        body = ok(await get_appeal(world, who, appeal["id"]), 200)
        assert body.keys() >= APPEAL_FIELDS
        assert body["id"] == appeal["id"]
        assert body["kind"] == "general"
        assert body["status"] == "assigned"
        assert body["assignee"] == {"id": operator.id, "full_name": operator.name}
        assert body["waiting_for"] is None
        assert body["reason"] == "routed"
        assert_time(body["opened_at"])
        assert_time(body["assigned_at"])
        assert body["closed_at"] is None
        dialog = ok(
            await world.api.get(f"/api/v1/dialogs/{body['dialog_id']}", headers=who.headers)
        )
        assert dialog["kind"] == "general"


async def test_get_queued_pm_appeal_shows_waiting_for(world: World) -> None:
    manager, _, person, _ = await pm_setup(world, status="offline")
    appeal = await world.ask(person, "personal_manager")
    body = ok(await get_appeal(world, person, appeal["id"]), 200)
    assert body["status"] == "queued"
    assert body["assignee"] is None
    assert body["waiting_for"] == {"id": manager.id, "full_name": manager.name}
    assert body["reason"] == "waiting_for_personal_manager"
    assert body["assigned_at"] is None
    # The manager sees it though they do not hold it.
    assert ok(await get_appeal(world, manager, appeal["id"]), 200) == body


async def test_get_appeal_unknown_is_404(world: World) -> None:
    problem(await world.api.get(f"{APPEALS}/999999", headers=world.admin.headers), 404)
    client = await world.client()
    problem(await get_appeal(world, client.persons[0], 999999), 404)


async def test_get_appeal_not_visible_is_404(world: World) -> None:
    operator = await world.operator()
    _, appeal = await general_appeal(world, operator)
    other_person = (await world.client()).persons[0]
    outsider = await world.employee(["general_chat", "manage_clients", "manage_employees"])
    problem(await get_appeal(world, other_person, appeal["id"]), 404)
    problem(await get_appeal(world, outsider, appeal["id"]), 404)


async def test_get_appeal_unauthorized(world: World) -> None:
    _, appeal = await general_appeal(world)
    await assert_unauthorized(world, "GET", f"{APPEALS}/{appeal['id']}")


# --- GET /appeals/{id}/history -------------------------------------------------------------


async def test_history_records_every_step_with_reasons(world: World) -> None:
    operator = await world.operator(status="offline")
    person, appeal = await general_appeal(world)
    assert appeal["status"] == "queued"
    assert appeal["reason"] == "no_eligible_operator"
    await world.set_status(operator, "active")
    await world.close(operator, appeal["id"])
    page = ok(await world.api.get(f"{APPEALS}/{appeal['id']}/history", headers=person.headers))
    items = assert_page(page)
    for item in items:
        assert set(item) >= HISTORY_FIELDS
        assert_time(item["at"])
    steps = [(i["event"], i["reason"], i["employee_id"]) for i in items]
    assert steps[0][0] == "opened"
    assert steps[1:] == [
        ("queued", "no_eligible_operator", None),
        ("assigned", "routed", operator.id),
        ("closed", "closed_by_employee", operator.id),
    ]
    assert items[0]["actor"] == {"type": "person", "id": person.id}
    assert items[-1]["actor"] == {"type": "employee", "id": operator.id}
    # Paged.
    first = ok(
        await world.api.get(f"{APPEALS}/{appeal['id']}/history?limit=2", headers=person.headers)
    )
    assert first["items"] == items[:2]
    assert first["next_cursor"] is not None
    second = ok(
        await world.api.get(
            f"{APPEALS}/{appeal['id']}/history?limit=2&cursor={first['next_cursor']}",
            headers=person.headers,
        )
    )
    assert second["items"] == items[2:]
    assert second["next_cursor"] is None


async def test_history_of_pm_appeal(world: World) -> None:
    manager, _, person, _ = await pm_setup(world, status="offline")
    appeal = await world.ask(person, "personal_manager")
    await world.set_status(manager, "active")
    await world.close(person, appeal["id"])
    items = await world.history(appeal["id"])
    steps = [(i["event"], i["reason"]) for i in items]
    assert steps[1:] == [
        ("queued", "waiting_for_personal_manager"),
        ("assigned", "personal_manager_active"),
        ("closed", "closed_by_person"),
    ]


async def test_history_unknown_or_invisible_is_404(world: World) -> None:
    problem(await world.api.get(f"{APPEALS}/999999/history", headers=world.admin.headers), 404)
    _, appeal = await general_appeal(world)
    other_person = (await world.client()).persons[0]
    problem(
        await world.api.get(f"{APPEALS}/{appeal['id']}/history", headers=other_person.headers), 404
    )


async def test_history_limit_above_200_is_422(world: World) -> None:
    _, appeal = await general_appeal(world)
    response = await world.api.get(
        f"{APPEALS}/{appeal['id']}/history?limit=201", headers=world.admin.headers
    )
    problem(response, 422)


async def test_history_unauthorized(world: World) -> None:
    _, appeal = await general_appeal(world)
    await assert_unauthorized(world, "GET", f"{APPEALS}/{appeal['id']}/history")


# --- POST /appeals/{id}/close --------------------------------------------------------------


async def test_assignee_closes(world: World) -> None:
    operator = await world.operator()
    person, appeal = await general_appeal(world, operator)
    body = ok(
        await world.api.post(f"{APPEALS}/{appeal['id']}/close", headers=operator.headers), 200
    )
    assert body.keys() >= APPEAL_FIELDS
    assert body["id"] == appeal["id"]
    assert body["status"] == "closed"
    assert body["reason"] == "closed_by_employee"
    assert_time(body["closed_at"])
    # The next message opens a new appeal.
    dialog = await world.dialog(person, "general")
    message = await world.write(person, dialog["id"], "Ещё вопрос")
    assert message["appeal_id"] != appeal["id"]


async def test_person_closes_own_appeal(world: World) -> None:
    _, _, person, _ = await pm_setup(world, status="active")
    appeal = await world.ask(person, "personal_manager")
    body = ok(await world.api.post(f"{APPEALS}/{appeal['id']}/close", headers=person.headers), 200)
    assert body["status"] == "closed"
    assert body["reason"] == "closed_by_person"


async def test_supervisor_closes(world: World) -> None:
    supervisor = await world.supervisor()
    _, appeal = await general_appeal(world)
    body = ok(
        await world.api.post(f"{APPEALS}/{appeal['id']}/close", headers=supervisor.headers), 200
    )
    assert body["status"] == "closed"
    assert body["reason"] == "closed_by_employee"


async def test_closing_a_closed_appeal_is_409(world: World) -> None:
    operator = await world.operator()
    person, appeal = await general_appeal(world, operator)
    closed = await world.close(operator, appeal["id"])
    problem(
        await world.api.post(f"{APPEALS}/{appeal['id']}/close", headers=person.headers),
        409,
        "appeal_closed",
    )
    problem(
        await world.api.post(f"{APPEALS}/{appeal['id']}/close", headers=world.admin.headers),
        409,
        "appeal_closed",
    )
    assert await world.appeal(appeal["id"]) == closed


async def test_close_refused_to_those_who_only_read(world: World) -> None:
    # SPEC 7.3: the responsible PM who does not hold the appeal, and invited colleagues, may read
    # but not close: like everyone the table does not name for the action, they get 404.
    old = await world.manager(status="active")
    new = await world.manager(status="active")
    client = await world.client(manager=old)
    person = client.persons[0]
    appeal = await world.ask(person, "personal_manager")
    await world.set_manager(client, new)
    held = await world.appeal(appeal["id"])
    assert held["assignee"]["id"] == old.id
    colleague = await world.employee([])
    ok(
        await world.api.post(
            f"/api/v1/dialogs/{appeal['dialog_id']}/participants",
            json={"employee_id": colleague.id},
            headers=new.headers,
        ),
        201,
    )
    for who in (new, colleague):
        ok(await get_appeal(world, who, appeal["id"]), 200)
        problem(await world.api.post(f"{APPEALS}/{appeal['id']}/close", headers=who.headers), 404)
    assert await world.appeal(appeal["id"]) == held
    # The previous PM still holding it may close it.
    body = ok(await world.api.post(f"{APPEALS}/{appeal['id']}/close", headers=old.headers), 200)
    assert body["status"] == "closed"


async def test_close_not_visible_is_404(world: World) -> None:
    operator = await world.operator()
    _, appeal = await general_appeal(world, operator)
    other_operator = await world.operator()
    other_person = (await world.client()).persons[0]
    for who in (other_operator, other_person):
        problem(await world.api.post(f"{APPEALS}/{appeal['id']}/close", headers=who.headers), 404)
    problem(await world.api.post(f"{APPEALS}/999999/close", headers=world.admin.headers), 404)
    assert (await world.appeal(appeal["id"]))["status"] == "assigned"


async def test_close_unauthorized(world: World) -> None:
    _, appeal = await general_appeal(world)
    await assert_unauthorized(world, "POST", f"{APPEALS}/{appeal['id']}/close")
    assert (await world.appeal(appeal["id"]))["status"] == "queued"


# --- POST /appeals/{id}/transfer -----------------------------------------------------------


async def test_assignee_transfers_to_another_operator(world: World) -> None:
    first = await world.operator()
    _, appeal = await general_appeal(world, first)
    second = await world.operator()
    body = ok(await transfer(world, first, appeal["id"], second.id), 200)
    assert body.keys() >= APPEAL_FIELDS
    assert body["status"] == "assigned"
    assert body["assignee"] == {"id": second.id, "full_name": second.name}
    assert body["reason"] == "transferred"
    # The first operator no longer sees the general dialog (SPEC 7.3).
    problem(await get_appeal(world, first, appeal["id"]), 404)
    ok(await get_appeal(world, second, appeal["id"]), 200)


async def test_supervisor_transfers(world: World) -> None:
    first = await world.operator()
    _, appeal = await general_appeal(world, first)
    second = await world.operator()
    supervisor = await world.supervisor()
    body = ok(await transfer(world, supervisor, appeal["id"], second.id), 200)
    assert body["assignee"]["id"] == second.id


async def test_return_to_queue(world: World) -> None:
    operator = await world.operator(limit=1)
    _, appeal = await general_appeal(world, operator)
    # Lowering the limit moves nothing already assigned; now nobody can take it back at once.
    await set_limit(world, operator, 0)
    body = ok(await transfer(world, operator, appeal["id"], None), 200)
    assert body["status"] == "queued"
    assert body["assignee"] is None
    assert body["reason"] == "returned_by_employee"
    assert (await world.history(appeal["id"]))[-1]["reason"] == "returned_by_employee"
    assert appeal["id"] in [q["id"] for q in await world.queue()]


async def test_returned_appeal_is_routed_again(world: World) -> None:
    first = await world.operator()
    _, appeal = await general_appeal(world, first)
    second = await world.operator()
    body = ok(await transfer(world, first, appeal["id"], None), 200)
    assert body["status"] == "assigned"
    assert body["assignee"]["id"] == second.id
    reasons = [i["reason"] for i in await world.history(appeal["id"])]
    assert reasons[-2:] == ["returned_by_employee", "routed"]


async def test_transfer_target_unavailable(world: World) -> None:
    first = await world.operator(limit=1)
    _, appeal = await general_appeal(world, first)
    offline = await world.operator(status="offline")
    on_break = await world.operator(status="break")
    no_chat = await world.employee(["supervise"], status="active")
    full = await world.operator(limit=0)
    for target in (offline, on_break, no_chat, full):
        response = await transfer(world, first, appeal["id"], target.id)
        problem(response, 409, "transfer_target_unavailable")
    disabled = await world.operator()
    ok(
        await world.api.patch(
            f"/api/v1/employees/{disabled.id}",
            json={"is_enabled": False},
            headers=world.admin.headers,
        )
    )
    problem(
        await transfer(world, first, appeal["id"], disabled.id), 409, "transfer_target_unavailable"
    )
    after = await world.appeal(appeal["id"])
    assert after["assignee"]["id"] == first.id


async def test_transfer_to_unknown_employee_is_422(world: World) -> None:
    operator = await world.operator()
    _, appeal = await general_appeal(world, operator)
    problem(await transfer(world, operator, appeal["id"], 999999), 422, "employee_not_found")


@pytest.mark.parametrize("body", [{}, {"employee_id": "x"}, []], ids=repr)
async def test_transfer_bad_body_is_422(world: World, body: Any) -> None:
    operator = await world.operator()
    _, appeal = await general_appeal(world, operator)
    response = await world.api.post(
        f"{APPEALS}/{appeal['id']}/transfer", json=body, headers=operator.headers
    )
    problem(response, 422)


async def test_pm_appeal_not_transferable(world: World) -> None:
    manager, _, person, _ = await pm_setup(world, status="active")
    appeal = await world.ask(person, "personal_manager")
    operator = await world.operator()
    colleague = await world.employee(["general_chat"], status="active")
    ok(
        await world.api.post(
            f"/api/v1/dialogs/{appeal['dialog_id']}/participants",
            json={"employee_id": colleague.id},
            headers=manager.headers,
        ),
        201,
    )
    # Whoever may see the dialog gets 409, to anyone and back to the queue alike.
    for who in (manager, world.admin, colleague, person):
        for target in (operator.id, None):
            problem(
                await transfer(world, who, appeal["id"], target),
                409,
                "personal_manager_dialog_not_transferable",
            )
    # Others: 404.
    problem(await transfer(world, operator, appeal["id"], operator.id), 404)
    after = await world.appeal(appeal["id"])
    assert after["assignee"]["id"] == manager.id
    assert after["status"] == "assigned"


async def test_transfer_needs_assignee_or_supervise(world: World) -> None:
    first = await world.operator()
    person, appeal = await general_appeal(world, first)
    second = await world.operator()
    # SPEC 7.3: everyone but the assignee and a supervisor gets 404, the person too.
    problem(await transfer(world, person, appeal["id"], second.id), 404)
    problem(await transfer(world, second, appeal["id"], second.id), 404)
    assert (await world.appeal(appeal["id"]))["assignee"]["id"] == first.id


async def test_transfer_closed_appeal_is_409(world: World) -> None:
    first = await world.operator()
    _, appeal = await general_appeal(world, first)
    second = await world.operator()
    await world.close(first, appeal["id"])
    problem(await transfer(world, world.admin, appeal["id"], second.id), 409, "appeal_closed")
    problem(await transfer(world, world.admin, appeal["id"], None), 409, "appeal_closed")


async def test_transfer_unknown_is_404(world: World) -> None:
    problem(await transfer(world, world.admin, 999999, None), 404)


async def test_transfer_unauthorized(world: World) -> None:
    _, appeal = await general_appeal(world)
    await assert_unauthorized(
        world, "POST", f"{APPEALS}/{appeal['id']}/transfer", {"employee_id": None}, body=True
    )
