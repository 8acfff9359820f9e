"""SPEC §5: personal-manager routing."""

from __future__ import annotations

from tests.scenarios.steps import (
    GENERAL,
    LABEL_RU,
    PM,
    assigned_to,
    get_dialog,
    invite,
    messages,
    patch_settings,
    person_dialogs,
    pm_client,
    post,
    problem,
    refused,
    routing,
    transfer,
    uninvite,
    waiting_for,
)
from tests.support import World, ok


async def test_spec_5_1_manager_offline_then_active(world: World) -> None:
    manager = await world.manager(status="offline")
    _, person = await pm_client(world, manager)
    appeal = await world.ask(person, PM)
    waiting_for(appeal, manager, "waiting_for_personal_manager")
    assert appeal["waiting_for"]["full_name"] == manager.name
    queue = await world.queue()
    assert [(q["id"], q["reason"], q["waiting_for"]["id"]) for q in queue] == [
        (appeal["id"], "waiting_for_personal_manager", manager.id)
    ]

    await world.set_status(manager, "active")
    appeal = await world.appeal(appeal["id"])
    assigned_to(appeal, manager, "personal_manager_active")
    assert await world.queue() == []
    assert routing(await world.history(appeal["id"])) == [
        ("waiting_for_personal_manager", manager.id),
        ("personal_manager_active", manager.id),
    ]


async def test_spec_5_1_manager_active_gets_it_at_once(world: World) -> None:
    manager = await world.manager(status="active")
    _, person = await pm_client(world, manager)
    appeal = await world.ask(person, PM)
    assigned_to(appeal, manager, "personal_manager_active")
    assert routing(await world.history(appeal["id"])) == [("personal_manager_active", manager.id)]


async def test_spec_5_1_break_is_not_active(world: World) -> None:
    manager = await world.manager(status="break")
    _, person = await pm_client(world, manager)
    appeal = await world.ask(person, PM)
    waiting_for(appeal, manager, "waiting_for_personal_manager")
    await world.set_status(manager, "offline")
    waiting_for(await world.appeal(appeal["id"]), manager, "waiting_for_personal_manager")
    await world.set_status(manager, "active")
    assigned_to(await world.appeal(appeal["id"]), manager, "personal_manager_active")


async def test_spec_5_2_limits_do_not_apply_to_pm_appeals(world: World) -> None:
    manager = await world.employee(["general_chat"], general_limit=1, status="active")
    appeals = []
    for _ in range(3):
        _, person = await pm_client(world, manager)
        appeals.append(await world.ask(person, PM))
    for appeal in appeals:
        assigned_to(await world.appeal(appeal["id"]), manager, "personal_manager_active")

    # Not counted against the general limit either (setting off by default).
    settings = ok(await world.api.get("/api/v1/settings", headers=world.admin.headers))
    assert settings["pm_appeals_count_toward_limit"] is False
    person = (await world.client()).persons[0]
    general = await world.ask(person, GENERAL)
    assigned_to(general, manager, "routed")
    # ... but the general limit still holds for general appeals.
    person = (await world.client()).persons[0]
    second = await world.ask(person, GENERAL)
    waiting_for(second, None, "no_eligible_operator")


async def test_spec_5_2_pm_appeals_arrive_while_offline_beyond_any_limit(world: World) -> None:
    manager = await world.employee(["general_chat"], general_limit=1, status="offline")
    appeals = []
    for _ in range(3):
        _, person = await pm_client(world, manager)
        appeals.append(await world.ask(person, PM))
    await world.set_status(manager, "active")
    for appeal in appeals:
        assigned_to(await world.appeal(appeal["id"]), manager, "personal_manager_active")


async def test_spec_5_2_setting_makes_pm_appeals_count(world: World) -> None:
    await patch_settings(world, pm_appeals_count_toward_limit=True)
    manager = await world.employee(["general_chat"], general_limit=2, status="active")
    operator = await world.operator(limit=2, status="offline")
    for _ in range(2):
        _, person = await pm_client(world, manager)
        assigned_to(await world.ask(person, PM), manager, "personal_manager_active")
    # Still no limit on PM appeals themselves:
    _, person = await pm_client(world, manager)
    assigned_to(await world.ask(person, PM), manager, "personal_manager_active")
    # ... but the manager with three PM appeals gets no general one now.
    general = await world.ask((await world.client()).persons[0], GENERAL)
    waiting_for(general, None, "no_eligible_operator")
    await world.set_status(operator, "active")
    assigned_to(await world.appeal(general["id"]), operator, "routed")


async def test_spec_5_3_a_free_operator_never_takes_a_pm_appeal(world: World) -> None:
    manager = await world.manager(status="offline")
    operator = await world.operator(limit=10)
    _, person = await pm_client(world, manager)
    appeal = await world.ask(person, PM)
    waiting_for(appeal, manager, "waiting_for_personal_manager")

    # Nothing an operator does moves it to them.
    await world.set_status(operator, "break")
    await world.set_status(operator, "active")
    waiting_for(await world.appeal(appeal["id"]), manager, "waiting_for_personal_manager")
    # They cannot even see the dialog.
    problem(await get_dialog(world, operator, appeal["dialog_id"]), 404)
    problem(await post(world, operator, appeal["dialog_id"]), 404)
    assert [i["kind"] for i in await world.inbox(operator)] == []
    # A supervisor cannot push it to them either.
    problem(
        await transfer(world, world.admin, appeal["id"], operator),
        409,
        "personal_manager_dialog_not_transferable",
    )
    waiting_for(await world.appeal(appeal["id"]), manager, "waiting_for_personal_manager")
    assert all(e["employee_id"] in (None, manager.id) for e in await world.history(appeal["id"]))


async def test_spec_5_4_manager_leaving_active_requeues_for_themself(world: World) -> None:
    manager = await world.manager(status="active")
    operator = await world.operator(limit=10)
    _, person = await pm_client(world, manager)
    appeal = await world.ask(person, PM)
    assigned_to(appeal, manager, "personal_manager_active")

    await world.set_status(manager, "break")
    appeal = await world.appeal(appeal["id"])
    # Waits for the manager; not `returned_operator_inactive`, and nobody else takes it.
    waiting_for(appeal, manager, "waiting_for_personal_manager")
    problem(await get_dialog(world, operator, appeal["dialog_id"]), 404)

    await world.set_status(manager, "active")
    assigned_to(await world.appeal(appeal["id"]), manager, "personal_manager_active")
    assert routing(await world.history(appeal["id"])) == [
        ("personal_manager_active", manager.id),
        ("waiting_for_personal_manager", manager.id),
        ("personal_manager_active", manager.id),
    ]


async def test_spec_5_4_written_first_off_active_requeues_on_next_leave(world: World) -> None:
    manager = await world.manager(status="offline")
    _, person = await pm_client(world, manager)
    dialog_id = (await world.dialog(person, PM))["id"]
    message = await world.write(manager, dialog_id, "Пишу первым, будучи не в сети")
    assigned_to(await world.appeal(message["appeal_id"]), manager, "opened_by_employee")

    # Not `active` → `break` is not leaving `active`: nothing moves.
    await world.set_status(manager, "break")
    assigned_to(await world.appeal(message["appeal_id"]), manager, "opened_by_employee")
    await world.set_status(manager, "active")
    assigned_to(await world.appeal(message["appeal_id"]), manager, "opened_by_employee")
    # Leaving `active` next time returns it to the queue, waiting for the manager.
    await world.set_status(manager, "offline")
    waiting_for(await world.appeal(message["appeal_id"]), manager, "waiting_for_personal_manager")


async def test_spec_5_5_invitee_reads_writes_and_sees_it_in_inbox(world: World) -> None:
    manager = await world.manager(status="active")
    colleague = await world.manager()
    client, person = await pm_client(world, manager)
    appeal = await world.ask(person, PM, "Нужна помощь юриста")
    dialog_id = appeal["dialog_id"]

    # Before the invitation: nothing.
    problem(await get_dialog(world, colleague, dialog_id), 404)
    assert await world.inbox(colleague) == []

    added = ok(await invite(world, manager, dialog_id, colleague), 201)
    assert added["employee_id"] == colleague.id
    assert added["invited_by"] == manager.id
    participants = ok(
        await world.api.get(f"/api/v1/dialogs/{dialog_id}/participants", headers=person.headers)
    )["items"]
    assert [p["employee_id"] for p in participants] == [colleague.id]

    shown = ok(await get_dialog(world, colleague, dialog_id))
    assert [p["employee_id"] for p in shown["participants"]] == [colleague.id]
    assert [m["text"] for m in await messages(world, colleague, dialog_id)] == [
        "Нужна помощь юриста"
    ]
    reply = await world.write(colleague, dialog_id, "Юрист на связи")
    assert reply["appeal_id"] == appeal["id"]
    assert reply["author"]["id"] == colleague.id
    # Writing does not move the appeal.
    assigned_to(await world.appeal(appeal["id"]), manager, "personal_manager_active")

    inbox = await world.inbox(colleague)
    assert [(i["dialog_id"], i["kind"], i["label"]) for i in inbox] == [
        (dialog_id, PM, LABEL_RU[PM])
    ]
    assert inbox[0]["client"]["id"] == client.id
    assert inbox[0]["person"]["id"] == person.id
    assert inbox[0]["open_appeal"]["id"] == appeal["id"]


async def test_spec_5_5_invitation_lasts_across_appeals_and_manager_changes(
    world: World,
) -> None:
    a = await world.manager(status="active")
    b = await world.manager(status="active")
    colleague = await world.manager()
    client, person = await pm_client(world, a)
    appeal = await world.ask(person, PM)
    dialog_id = appeal["dialog_id"]
    ok(await invite(world, a, dialog_id, colleague), 201)

    await world.close(a, appeal["id"])
    assert [i["dialog_id"] for i in await world.inbox(colleague)] == [dialog_id]
    ok(await get_dialog(world, colleague, dialog_id))

    await world.set_manager(client, b)
    assert [i["dialog_id"] for i in await world.inbox(colleague)] == [dialog_id]
    later = await world.ask(person, PM)
    assigned_to(later, b, "personal_manager_active")
    reply = await world.write(colleague, dialog_id, "Я всё ещё здесь")
    assert reply["appeal_id"] == later["id"]


async def test_spec_5_5_manager_removes_an_invitee(world: World) -> None:
    manager = await world.manager(status="active")
    colleague = await world.manager()
    _, person = await pm_client(world, manager)
    appeal = await world.ask(person, PM)
    dialog_id = appeal["dialog_id"]
    ok(await invite(world, manager, dialog_id, colleague), 201)

    removed = await uninvite(world, manager, dialog_id, colleague)
    assert removed.status_code == 204
    problem(await get_dialog(world, colleague, dialog_id), 404)
    problem(await post(world, colleague, dialog_id), 404)
    assert await world.inbox(colleague) == []
    shown = ok(await get_dialog(world, manager, dialog_id))
    assert shown["participants"] == []


async def test_spec_5_5_invitee_removes_themself(world: World) -> None:
    manager = await world.manager(status="active")
    colleague = await world.manager()
    third = await world.manager()
    _, person = await pm_client(world, manager)
    dialog_id = (await world.dialog(person, PM))["id"]
    ok(await invite(world, manager, dialog_id, colleague), 201)
    ok(await invite(world, manager, dialog_id, third), 201)

    # An invitee may not invite nor remove others ...
    refused(await invite(world, colleague, dialog_id, await world.manager()))
    refused(await uninvite(world, colleague, dialog_id, third))
    # ... but may leave.
    assert (await uninvite(world, colleague, dialog_id, colleague)).status_code == 204
    problem(await get_dialog(world, colleague, dialog_id), 404)
    shown = ok(await get_dialog(world, manager, dialog_id))
    assert [p["employee_id"] for p in shown["participants"]] == [third.id]


async def test_spec_5_5_invitations_only_in_pm_dialogs(world: World) -> None:
    operator = await world.operator()
    colleague = await world.manager()
    person = (await world.client()).persons[0]
    appeal = await world.ask(person, GENERAL)
    assigned_to(appeal, operator, "routed")
    problem(
        await invite(world, world.admin, appeal["dialog_id"], colleague),
        409,
        "not_a_personal_manager_dialog",
    )


async def test_spec_5_5_supervisor_invites_and_removes(world: World) -> None:
    manager = await world.manager()
    colleague = await world.manager()
    supervisor = await world.supervisor()
    _, person = await pm_client(world, manager)
    dialog_id = (await world.dialog(person, PM))["id"]
    ok(await invite(world, supervisor, dialog_id, colleague), 201)
    ok(await get_dialog(world, colleague, dialog_id))
    assert (await uninvite(world, supervisor, dialog_id, colleague)).status_code == 204
    problem(await get_dialog(world, colleague, dialog_id), 404)


async def test_spec_5_6_person_sees_manager_and_waiting_state(world: World) -> None:
    manager = await world.manager(status="offline", name="Мария Петровна")
    _, person = await pm_client(world, manager)
    listed = await person_dialogs(world, person)
    assert listed[PM]["responsible"] == {
        "id": manager.id,
        "full_name": "Мария Петровна",
        "status": "offline",
    }
    assert listed[PM]["open_appeal"] is None

    await world.ask(person, PM)
    listed = await person_dialogs(world, person)
    shown = listed[PM]["open_appeal"]
    assert shown["status"] == "queued"
    assert shown["reason"] == "waiting_for_personal_manager"
    assert shown["waiting_for"] == {"id": manager.id, "full_name": "Мария Петровна"}

    await world.set_status(manager, "active")
    listed = await person_dialogs(world, person)
    assert listed[PM]["responsible"]["status"] == "active"
    assert listed[PM]["open_appeal"]["status"] == "assigned"
    assert listed[PM]["open_appeal"]["assignee"]["id"] == manager.id
    dialog = ok(await get_dialog(world, person, listed[PM]["id"]))
    assert dialog["responsible"]["status"] == "active"
    assert dialog["open_appeal"]["assignee"]["full_name"] == "Мария Петровна"

    # The person sees their own appeal too.
    appeal = ok(
        await world.api.get(
            f"/api/v1/appeals/{dialog['open_appeal']['id']}", headers=person.headers
        )
    )
    assert appeal["status"] == "assigned"


async def test_spec_5_7_pm_appeal_not_transferable_by_anyone(world: World) -> None:
    manager = await world.employee(["general_chat"], status="active")
    colleague = await world.operator()
    supervisor = await world.supervisor()
    stranger = await world.operator()
    _, person = await pm_client(world, manager)
    appeal = await world.ask(person, PM)
    ok(await invite(world, manager, appeal["dialog_id"], colleague), 201)

    for who in (manager, colleague, supervisor, world.admin, person):
        for target in (colleague, stranger, supervisor, None):
            problem(
                await transfer(world, who, appeal["id"], target),
                409,
                "personal_manager_dialog_not_transferable",
            )
    # Someone who cannot see the dialog gets 404.
    problem(await transfer(world, stranger, appeal["id"], stranger), 404)
    assigned_to(await world.appeal(appeal["id"]), manager, "personal_manager_active")
    assert routing(await world.history(appeal["id"])) == [("personal_manager_active", manager.id)]


async def test_spec_5_7_queued_pm_appeal_not_transferable(world: World) -> None:
    manager = await world.manager(status="offline")
    operator = await world.operator()
    _, person = await pm_client(world, manager)
    appeal = await world.ask(person, PM)
    for target in (operator, manager, None):
        problem(
            await transfer(world, world.admin, appeal["id"], target),
            409,
            "personal_manager_dialog_not_transferable",
        )
    waiting_for(await world.appeal(appeal["id"]), manager, "waiting_for_personal_manager")


async def test_spec_5_5_invitation_details(world: World) -> None:
    manager = await world.manager()
    colleague = await world.manager()
    _, person = await pm_client(world, manager)
    dialog_id = (await world.dialog(person, PM))["id"]
    first = await invite(world, manager, dialog_id, colleague)
    assert first.status_code == 201
    again = await invite(world, manager, dialog_id, colleague)
    assert again.status_code == 200  # already invited: nothing new
    shown = ok(await get_dialog(world, manager, dialog_id))
    assert [p["employee_id"] for p in shown["participants"]] == [colleague.id]

    response = await world.api.post(
        f"/api/v1/dialogs/{dialog_id}/participants",
        json={"employee_id": 999999},
        headers=manager.headers,
    )
    problem(response, 422, "employee_not_found")
    gone = await world.manager()
    ok(
        await world.api.patch(
            f"/api/v1/employees/{gone.id}", json={"is_enabled": False}, headers=world.admin.headers
        )
    )
    problem(await invite(world, manager, dialog_id, gone), 422, "employee_disabled")
    problem(await uninvite(world, manager, dialog_id, gone), 404)


async def test_spec_5_2_switching_the_count_setting_off_routes_at_once(world: World) -> None:
    await patch_settings(world, pm_appeals_count_toward_limit=True)
    manager = await world.employee(["general_chat"], general_limit=1, status="active")
    _, person = await pm_client(world, manager)
    assigned_to(await world.ask(person, PM), manager, "personal_manager_active")
    general = await world.ask((await world.client()).persons[0], GENERAL)
    waiting_for(general, None, "no_eligible_operator")
    await patch_settings(world, pm_appeals_count_toward_limit=False)
    assigned_to(await world.appeal(general["id"]), manager, "routed")


async def test_spec_5_1_supervisor_sets_the_manager_active(world: World) -> None:
    manager = await world.manager(status="offline")
    _, person = await pm_client(world, manager)
    appeal = await world.ask(person, PM)
    supervisor = await world.supervisor()
    ok(
        await world.api.put(
            f"/api/v1/employees/{manager.id}/status",
            json={"status": "active"},
            headers=supervisor.headers,
        )
    )
    assigned_to(await world.appeal(appeal["id"]), manager, "personal_manager_active")
