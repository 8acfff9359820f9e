"""SPEC §3: appeals — states, closing, writing first, history."""

from __future__ import annotations

import asyncio

from tests.scenarios.steps import (
    ALL_REASONS,
    GENERAL,
    PM,
    assigned_to,
    close,
    employee_dialog,
    invite,
    messages,
    pm_client,
    post,
    problem,
    reasons,
    refused,
    routing,
    waiting_for,
)
from tests.support import World, ok


async def test_spec_3_1_states_and_one_open_appeal_per_dialog(world: World) -> None:
    _, person = await pm_client(world, await world.manager())
    appeal = await world.ask(person, GENERAL, "Раз")
    assert appeal["status"] == "queued"
    assert appeal["assignee"] is None
    assert appeal["assigned_at"] is None and appeal["closed_at"] is None

    # A second message joins the open appeal instead of opening another.
    second = await world.write(person, appeal["dialog_id"], "Два")
    assert second["appeal_id"] == appeal["id"]

    operator = await world.operator()
    appeal = await world.appeal(appeal["id"])
    assert appeal["status"] == "assigned"
    assert appeal["assignee"]["id"] == operator.id
    assert appeal["assigned_at"] is not None
    third = await world.write(person, appeal["dialog_id"], "Три")
    assert third["appeal_id"] == appeal["id"]

    closed = await world.close(operator, appeal["id"])
    assert closed["status"] == "closed"
    assert closed["closed_at"] is not None

    # The next message opens a new appeal; every message records its appeal.
    fourth = await world.write(person, appeal["dialog_id"], "Четыре")
    assert fourth["appeal_id"] != appeal["id"]
    stored = await messages(world, person, appeal["dialog_id"])
    assert [(m["text"], m["appeal_id"]) for m in stored] == [
        ("Раз", appeal["id"]),
        ("Два", appeal["id"]),
        ("Три", appeal["id"]),
        ("Четыре", fourth["appeal_id"]),
    ]
    dialog = ok(
        await world.api.get(f"/api/v1/dialogs/{appeal['dialog_id']}", headers=person.headers)
    )
    assert dialog["open_appeal"]["id"] == fourth["appeal_id"]
    assert dialog["open_appeal"]["status"] == "assigned"


async def test_spec_3_2_assignee_closes_and_closing_twice_is_409(world: World) -> None:
    operator = await world.operator()
    _, person = await pm_client(world, await world.manager())
    appeal = await world.ask(person, GENERAL)
    assert appeal["assignee"]["id"] == operator.id

    closed = await world.close(operator, appeal["id"])
    assert closed["status"] == "closed"
    assert closed["reason"] == "closed_by_employee"
    assert reasons(await world.history(appeal["id"]))[-1] == "closed_by_employee"

    # Closing again is a clear conflict, for the supervisor and the person alike.
    problem(await close(world, world.admin, appeal["id"]), 409, "appeal_closed")
    problem(await close(world, person, appeal["id"]), 409, "appeal_closed")
    assert (await world.appeal(appeal["id"]))["reason"] == "closed_by_employee"


async def test_spec_3_2_person_may_close_their_own_appeal(world: World) -> None:
    manager = await world.manager(status="active")
    _, person = await pm_client(world, manager)
    appeal = await world.ask(person, PM)
    closed = await world.close(person, appeal["id"])
    assert closed["status"] == "closed"
    assert closed["reason"] == "closed_by_person"
    history = await world.history(appeal["id"])
    assert history[-1]["reason"] == "closed_by_person"
    assert history[-1]["actor"]["type"] == "person"
    assert history[-1]["actor"]["id"] == person.id
    problem(await close(world, person, appeal["id"]), 409, "appeal_closed")
    # A queued appeal too («Вопрос решён» before anyone answered).
    queued = await world.ask(person, GENERAL)
    assert queued["status"] == "queued"
    assert (await world.close(person, queued["id"]))["reason"] == "closed_by_person"


async def test_spec_3_2_supervisor_closes_and_others_may_not(world: World) -> None:
    manager = await world.manager(status="active")
    colleague = await world.manager()
    stranger = await world.operator()
    client, person = await pm_client(world, manager)
    other_person = (await world.client()).persons[0]
    appeal = await world.ask(person, PM)
    ok(await invite(world, manager, appeal["dialog_id"], colleague), 201)

    refused(await close(world, colleague, appeal["id"]))  # invited: reads, writes, no close
    problem(await close(world, stranger, appeal["id"]), 404)  # not visible at all
    problem(await close(world, other_person, appeal["id"]), 404)  # another client's person
    assert (await world.appeal(appeal["id"]))["status"] == "assigned"

    supervisor = await world.supervisor()
    closed = await world.close(supervisor, appeal["id"])
    assert closed["status"] == "closed"
    assert closed["reason"] == "closed_by_employee"
    assert (await world.history(appeal["id"]))[-1]["actor"] == {
        "type": "employee",
        "id": supervisor.id,
    }
    del client


async def test_spec_3_3_manager_writing_first_assigns_to_themself(world: World) -> None:
    manager = await world.manager(status="offline")
    _, person = await pm_client(world, manager)
    dialog = ok(await employee_dialog(world, manager, person), 200, 201)

    message = await world.write(manager, dialog["id"], "Здравствуйте, у меня новости")
    appeal = await world.appeal(message["appeal_id"])
    # Even off `active` (SPEC 5.4): the author holds it.
    assigned_to(appeal, manager, "opened_by_employee")
    assert routing(await world.history(appeal["id"])) == [("opened_by_employee", manager.id)]


async def test_spec_3_3_invitee_writing_first_opens_appeal_routed_to_the_manager(
    world: World,
) -> None:
    manager = await world.manager(status="offline")
    colleague = await world.manager(status="active")
    _, person = await pm_client(world, manager)
    dialog_id = (await world.dialog(person, PM))["id"]
    ok(await invite(world, manager, dialog_id, colleague), 201)

    message = await world.write(colleague, dialog_id, "Коллега пишет первым")
    appeal = await world.appeal(message["appeal_id"])
    # Not assigned to the invitee: it waits for the manager (SPEC 5.1).
    waiting_for(appeal, manager, "waiting_for_personal_manager")

    await world.set_status(manager, "active")
    assigned_to(await world.appeal(appeal["id"]), manager, "personal_manager_active")


async def test_spec_3_3_invitee_writing_first_with_manager_active(world: World) -> None:
    manager = await world.manager(status="active")
    colleague = await world.manager(status="active")
    _, person = await pm_client(world, manager)
    dialog_id = (await world.dialog(person, PM))["id"]
    ok(await invite(world, manager, dialog_id, colleague), 201)
    message = await world.write(colleague, dialog_id, "Коллега пишет первым")
    assigned_to(await world.appeal(message["appeal_id"]), manager, "personal_manager_active")


async def test_spec_3_3_supervisor_writing_first_in_general_chat(world: World) -> None:
    supervisor = await world.employee(["supervise", "general_chat"], status="active")
    client = await world.client()
    person = client.persons[0]
    dialog = ok(await employee_dialog(world, supervisor, person, GENERAL), 200, 201)
    message = await world.write(supervisor, dialog["id"], "Банк на связи")
    assigned_to(await world.appeal(message["appeal_id"]), supervisor, "opened_by_employee")


async def test_spec_3_4_every_routing_step_is_recorded(world: World) -> None:
    _, person = await pm_client(world, await world.manager())
    appeal = await world.ask(person, GENERAL)
    first = await world.operator(limit=1)
    second = await world.operator(limit=1)
    await world.set_status(first, "break")  # back to the queue, then to `second`
    appeal = await world.appeal(appeal["id"])
    assert appeal["assignee"]["id"] == second.id
    await world.close(second, appeal["id"])

    history = await world.history(appeal["id"])
    assert routing(history) == [
        ("no_eligible_operator", None),
        ("routed", first.id),
        ("returned_operator_inactive", None),
        ("routed", second.id),
        ("closed_by_employee", second.id),
    ]
    for entry in history:
        assert set(entry) >= {"at", "event", "reason", "employee_id", "actor"}
        assert entry["reason"] is None or entry["reason"] in ALL_REASONS
        assert entry["actor"]["type"] in ("employee", "person", "system")
    stamps = [entry["at"] for entry in history]
    assert stamps == sorted(stamps)
    # The actor of each step: the person opened it, `first` left, `second` closed it.
    assert history[0]["actor"] == {"type": "person", "id": person.id}
    assert history[-1]["actor"] == {"type": "employee", "id": second.id}
    returned = next(e for e in history if e["reason"] == "returned_operator_inactive")
    assert returned["actor"] == {"type": "employee", "id": first.id}


async def test_spec_3_1_concurrent_first_messages_share_one_appeal(world: World) -> None:
    manager = await world.manager(status="active")
    _, person = await pm_client(world, manager)
    for kind in (GENERAL, PM):
        dialog_id = (await world.dialog(person, kind))["id"]
        responses = await asyncio.gather(
            *(post(world, person, dialog_id, f"Сообщение {i}") for i in range(8))
        )
        assert [r.status_code for r in responses] == [201] * 8
        appeal_ids = {r.json()["appeal_id"] for r in responses}
        assert len(appeal_ids) == 1
        assert len(await messages(world, person, dialog_id)) == 8
        dialog = ok(await world.api.get(f"/api/v1/dialogs/{dialog_id}", headers=person.headers))
        assert dialog["open_appeal"]["id"] in appeal_ids


async def test_spec_3_3_supervisor_writing_first_in_pm_dialog_routes_to_the_manager(
    world: World,
) -> None:
    manager = await world.manager(status="offline")
    supervisor = await world.employee(["supervise", "general_chat"], status="active")
    _, person = await pm_client(world, manager)
    dialog = ok(await employee_dialog(world, supervisor, person, PM), 200, 201)
    message = await world.write(supervisor, dialog["id"], "Супервайзер пишет первым")
    # Only the responsible PM opens an appeal for themself: this one waits for the manager.
    waiting_for(await world.appeal(message["appeal_id"]), manager, "waiting_for_personal_manager")


async def test_spec_3_3_posting_into_an_open_appeal_moves_nothing(world: World) -> None:
    manager = await world.manager(status="offline")
    _, person = await pm_client(world, manager)
    appeal = await world.ask(person, PM)
    # The manager, still offline, answers the waiting appeal: it is not "writing first".
    reply = await world.write(manager, appeal["dialog_id"], "Отвечу, как только смогу")
    assert reply["appeal_id"] == appeal["id"]
    waiting_for(await world.appeal(appeal["id"]), manager, "waiting_for_personal_manager")
