"""SPEC §6: changing the personal manager, and what happens to the appeals already open."""

from __future__ import annotations

from typing import Any

from tests.scenarios.steps import (
    PM,
    assigned_to,
    close,
    get_dialog,
    invite,
    messages,
    person_dialogs,
    pm_client,
    post,
    problem,
    routing,
    waiting_for,
)
from tests.support import ClientRef, Emp, PersonRef, World, ok

HANDOVER = "handover_to_new_personal_manager"


async def _held_by_a(world: World) -> tuple[Emp, ClientRef, PersonRef, dict[str, Any]]:
    a = await world.manager(status="active", name="Анна Первая")
    client, person = await pm_client(world, a)
    appeal = await world.ask(person, PM)
    assigned_to(appeal, a, "personal_manager_active")
    return a, client, person, appeal


def _no_changed_reason(history: list[dict[str, Any]], appeal: dict[str, Any]) -> None:
    assert appeal["reason"] != "personal_manager_changed"
    changed = [e for e in history if e["reason"] == "personal_manager_changed"]
    assert changed, "a manager change is recorded in the appeal's history"


async def test_spec_6_permission_required_to_change_manager(world: World) -> None:
    a = await world.manager()
    b = await world.manager()
    client, _ = await pm_client(world, a)
    for who in (
        a,
        b,
        await world.supervisor(),
        await world.employee(["manage_clients", "manage_employees", "general_chat"]),
    ):
        response = await world.api.put(
            f"/api/v1/clients/{client.id}/personal-manager",
            json={"employee_id": b.id},
            headers=who.headers,
        )
        problem(response, 403)
        response = await world.api.put(
            f"/api/v1/clients/{client.id}/personal-manager",
            json={"employee_id": None},
            headers=who.headers,
        )
        problem(response, 403)
    shown = ok(await world.api.get(f"/api/v1/clients/{client.id}", headers=world.admin.headers))
    assert shown["personal_manager"]["id"] == a.id

    # A person's token is refused too.
    person = client.persons[0]
    refused = await world.api.put(
        f"/api/v1/clients/{client.id}/personal-manager",
        json={"employee_id": b.id},
        headers=person.headers,
    )
    assert refused.status_code in (401, 403)


async def test_spec_6_change_by_holder_of_permission_is_audited(world: World) -> None:
    a = await world.manager(name="Анна Первая")
    b = await world.manager(name="Борис Второй")
    boss = await world.employee(["manage_personal_managers"])
    client = await world.client()

    first = ok(
        await world.api.put(
            f"/api/v1/clients/{client.id}/personal-manager",
            json={"employee_id": a.id},
            headers=boss.headers,
        )
    )
    assert first["client_id"] == client.id
    assert first["personal_manager_id"] == a.id
    assert first["previous_personal_manager_id"] is None
    assert first["changed_by"] == boss.id
    assert first["changed_at"]

    second = ok(
        await world.api.put(
            f"/api/v1/clients/{client.id}/personal-manager",
            json={"employee_id": b.id},
            headers=boss.headers,
        )
    )
    assert (second["previous_personal_manager_id"], second["personal_manager_id"]) == (a.id, b.id)
    removed = await world.set_manager(client, None)
    assert (removed["previous_personal_manager_id"], removed["personal_manager_id"]) == (b.id, None)
    assert removed["changed_by"] == world.admin.id

    history = ok(
        await world.api.get(
            f"/api/v1/clients/{client.id}/personal-manager/history", headers=boss.headers
        )
    )["items"]
    assert [
        (h["previous_personal_manager_id"], h["personal_manager_id"], h["changed_by"])
        for h in history
    ] == [(b.id, None, world.admin.id), (a.id, b.id, boss.id), (None, a.id, boss.id)]
    assert [h["changed_at"] for h in history] == sorted(
        (h["changed_at"] for h in history), reverse=True
    )
    # A supervisor may read it; a plain employee may not.
    ok(
        await world.api.get(
            f"/api/v1/clients/{client.id}/personal-manager/history",
            headers=(await world.supervisor()).headers,
        )
    )
    problem(
        await world.api.get(
            f"/api/v1/clients/{client.id}/personal-manager/history", headers=a.headers
        ),
        403,
    )


async def test_spec_6_unknown_or_disabled_employee_cannot_be_manager(world: World) -> None:
    client = await world.client()
    unknown = await world.api.put(
        f"/api/v1/clients/{client.id}/personal-manager",
        json={"employee_id": 999999},
        headers=world.admin.headers,
    )
    problem(unknown, 422, "employee_not_found")
    gone = await world.manager()
    ok(
        await world.api.patch(
            f"/api/v1/employees/{gone.id}", json={"is_enabled": False}, headers=world.admin.headers
        )
    )
    disabled = await world.api.put(
        f"/api/v1/clients/{client.id}/personal-manager",
        json={"employee_id": gone.id},
        headers=world.admin.headers,
    )
    problem(disabled, 422, "employee_disabled")


async def test_spec_6_dialog_id_history_and_responsible_after_change(world: World) -> None:
    a, client, person, appeal = await _held_by_a(world)
    b = await world.manager(status="active", name="Борис Второй")
    dialog_id = appeal["dialog_id"]
    await world.write(a, dialog_id, "Ответ Анны")

    change = await world.set_manager(client, b)
    assert change["previous_personal_manager_id"] == a.id
    assert change["personal_manager_id"] == b.id

    shown = ok(await get_dialog(world, b, dialog_id))
    assert shown["id"] == dialog_id
    assert shown["responsible"]["id"] == b.id
    assert shown["responsible"]["full_name"] == "Борис Второй"
    assert [m["text"] for m in await messages(world, b, dialog_id)] == ["Вопрос", "Ответ Анны"]
    assert (await person_dialogs(world, person))[PM]["id"] == dialog_id
    client_out = ok(await world.api.get(f"/api/v1/clients/{client.id}", headers=b.headers))
    assert client_out["personal_manager"]["id"] == b.id
    mine = ok(await world.api.get("/api/v1/me/clients", headers=b.headers))["items"]
    assert [c["id"] for c in mine] == [client.id]
    assert mine[0]["persons"][0]["personal_manager_dialog_id"] == dialog_id
    assert ok(await world.api.get("/api/v1/me/clients", headers=a.headers))["items"] == []


async def test_spec_6_1_active_holder_keeps_the_appeal(world: World) -> None:
    a, client, person, appeal = await _held_by_a(world)
    b = await world.manager(status="active")
    await world.set_manager(client, b)

    appeal = await world.appeal(appeal["id"])
    assigned_to(appeal, a, "personal_manager_active")
    history = await world.history(appeal["id"])
    _no_changed_reason(history, appeal)
    assert routing(history) == [("personal_manager_active", a.id)]
    # A still works in it; messages go into the same appeal.
    reply = await world.write(a, appeal["dialog_id"], "Продолжаю")
    assert reply["appeal_id"] == appeal["id"]
    more = await world.write(person, appeal["dialog_id"], "Спасибо")
    assert more["appeal_id"] == appeal["id"]
    assigned_to(await world.appeal(appeal["id"]), a, "personal_manager_active")


async def test_spec_6_1_new_manager_may_post_without_moving_it(world: World) -> None:
    a, client, _, appeal = await _held_by_a(world)
    b = await world.manager(status="active")
    await world.set_manager(client, b)
    message = await world.write(b, appeal["dialog_id"], "Я ваш новый менеджер")
    assert message["appeal_id"] == appeal["id"]
    assigned_to(await world.appeal(appeal["id"]), a, "personal_manager_active")
    # The new manager, not holding it, may not close it (SPEC 7.3); the holder may.
    assert (await close(world, b, appeal["id"])).status_code in (403, 404)
    assert (await world.close(a, appeal["id"]))["reason"] == "closed_by_employee"


async def test_spec_6_2_holder_leaves_active_new_manager_active(world: World) -> None:
    a, client, _, appeal = await _held_by_a(world)
    b = await world.manager(status="active")
    await world.set_manager(client, b)
    await world.set_status(a, "break")

    appeal = await world.appeal(appeal["id"])
    assigned_to(appeal, b, HANDOVER)
    history = await world.history(appeal["id"])
    _no_changed_reason(history, appeal)
    assert routing(history) == [("personal_manager_active", a.id), (HANDOVER, b.id)]
    # A coming back changes nothing.
    await world.set_status(a, "active")
    assigned_to(await world.appeal(appeal["id"]), b, HANDOVER)


async def test_spec_6_2_holder_leaves_active_new_manager_not_active(world: World) -> None:
    a, client, _, appeal = await _held_by_a(world)
    b = await world.manager(status="offline")
    await world.set_manager(client, b)
    await world.set_status(a, "offline")

    appeal = await world.appeal(appeal["id"])
    waiting_for(appeal, b, "waiting_for_personal_manager")
    # A returning does not get it back: it waits for B only.
    await world.set_status(a, "active")
    waiting_for(await world.appeal(appeal["id"]), b, "waiting_for_personal_manager")
    await world.set_status(b, "break")
    waiting_for(await world.appeal(appeal["id"]), b, "waiting_for_personal_manager")

    await world.set_status(b, "active")
    appeal = await world.appeal(appeal["id"])
    assigned_to(appeal, b, HANDOVER)
    history = await world.history(appeal["id"])
    _no_changed_reason(history, appeal)
    assert routing(history) == [
        ("personal_manager_active", a.id),
        ("waiting_for_personal_manager", b.id),
        (HANDOVER, b.id),
    ]


async def test_spec_6_3_holder_not_active_at_change_moves_at_once(world: World) -> None:
    a = await world.manager(status="offline")
    b = await world.manager(status="active")
    client, person = await pm_client(world, a)
    dialog_id = (await world.dialog(person, PM))["id"]
    message = await world.write(a, dialog_id, "Пишу первым, будучи не в сети")
    assigned_to(await world.appeal(message["appeal_id"]), a, "opened_by_employee")

    await world.set_manager(client, b)
    appeal = await world.appeal(message["appeal_id"])
    assigned_to(appeal, b, HANDOVER)
    history = await world.history(appeal["id"])
    _no_changed_reason(history, appeal)
    assert routing(history) == [("opened_by_employee", a.id), (HANDOVER, b.id)]


async def test_spec_6_3_holder_not_active_at_change_new_manager_offline(world: World) -> None:
    a = await world.manager(status="offline")
    b = await world.manager(status="offline")
    client, person = await pm_client(world, a)
    dialog_id = (await world.dialog(person, PM))["id"]
    message = await world.write(a, dialog_id, "Пишу первым")

    await world.set_manager(client, b)
    waiting_for(await world.appeal(message["appeal_id"]), b, "waiting_for_personal_manager")
    await world.set_status(b, "active")
    assigned_to(await world.appeal(message["appeal_id"]), b, HANDOVER)


async def test_spec_6_4_queued_appeal_retargeted_to_active_new_manager(world: World) -> None:
    a = await world.manager(status="offline")
    b = await world.manager(status="active")
    client, person = await pm_client(world, a)
    appeal = await world.ask(person, PM)
    waiting_for(appeal, a, "waiting_for_personal_manager")

    await world.set_manager(client, b)
    appeal = await world.appeal(appeal["id"])
    # Never had another assignee: `personal_manager_active`, assigned at once.
    assigned_to(appeal, b, "personal_manager_active")
    history = await world.history(appeal["id"])
    _no_changed_reason(history, appeal)
    assert routing(history) == [
        ("waiting_for_personal_manager", a.id),
        ("personal_manager_active", b.id),
    ]


async def test_spec_6_4_queued_appeal_retargeted_to_offline_new_manager(world: World) -> None:
    a = await world.manager(status="offline")
    b = await world.manager(status="offline")
    client, person = await pm_client(world, a)
    appeal = await world.ask(person, PM)

    await world.set_manager(client, b)
    appeal = await world.appeal(appeal["id"])
    waiting_for(appeal, b, "waiting_for_personal_manager")
    queue = await world.queue()
    assert [(q["id"], q["waiting_for"]["id"]) for q in queue] == [(appeal["id"], b.id)]

    await world.set_status(a, "active")  # the old manager no longer gets it
    waiting_for(await world.appeal(appeal["id"]), b, "waiting_for_personal_manager")
    await world.set_status(b, "active")
    assigned_to(await world.appeal(appeal["id"]), b, "personal_manager_active")


async def test_spec_6_5_a_to_b_to_c_goes_to_c(world: World) -> None:
    a, client, _, appeal = await _held_by_a(world)
    b = await world.manager(status="active")
    c = await world.manager(status="active")
    await world.set_manager(client, b)
    await world.set_manager(client, c)
    assigned_to(await world.appeal(appeal["id"]), a, "personal_manager_active")

    await world.set_status(a, "break")
    appeal = await world.appeal(appeal["id"])
    assigned_to(appeal, c, HANDOVER)
    history = await world.history(appeal["id"])
    assert routing(history) == [("personal_manager_active", a.id), (HANDOVER, c.id)]
    changed = [e["employee_id"] for e in history if e["reason"] == "personal_manager_changed"]
    assert changed == [b.id, c.id]
    # B has nothing to do with it any more.
    problem(await get_dialog(world, b, appeal["dialog_id"]), 404)


async def test_spec_6_5_a_to_b_to_c_waits_for_c(world: World) -> None:
    a, client, _, appeal = await _held_by_a(world)
    b = await world.manager(status="active")
    c = await world.manager(status="offline")
    await world.set_manager(client, b)
    await world.set_manager(client, c)
    await world.set_status(a, "offline")
    waiting_for(await world.appeal(appeal["id"]), c, "waiting_for_personal_manager")
    await world.set_status(c, "active")
    assigned_to(await world.appeal(appeal["id"]), c, HANDOVER)


async def test_spec_6_5_a_to_b_to_a_moves_nothing(world: World) -> None:
    a, client, _, appeal = await _held_by_a(world)
    b = await world.manager(status="active")
    await world.set_manager(client, b)
    await world.set_manager(client, a)

    appeal = await world.appeal(appeal["id"])
    assigned_to(appeal, a, "personal_manager_active")
    history = await world.history(appeal["id"])
    _no_changed_reason(history, appeal)
    assert routing(history) == [("personal_manager_active", a.id)]

    # A is the manager again: leaving `active` makes it wait for A, not B.
    await world.set_status(a, "break")
    waiting_for(await world.appeal(appeal["id"]), a, "waiting_for_personal_manager")
    await world.set_status(a, "active")
    assigned_to(await world.appeal(appeal["id"]), a, "personal_manager_active")


async def test_spec_6_5_queued_a_to_b_to_a(world: World) -> None:
    a = await world.manager(status="offline")
    b = await world.manager(status="offline")
    client, person = await pm_client(world, a)
    appeal = await world.ask(person, PM)
    await world.set_manager(client, b)
    await world.set_manager(client, a)
    waiting_for(await world.appeal(appeal["id"]), a, "waiting_for_personal_manager")
    await world.set_status(b, "active")
    waiting_for(await world.appeal(appeal["id"]), a, "waiting_for_personal_manager")
    await world.set_status(a, "active")
    assigned_to(await world.appeal(appeal["id"]), a, "personal_manager_active")


async def test_spec_6_6_removal_keeps_then_queues_then_assigns(world: World) -> None:
    a, client, person, appeal = await _held_by_a(world)
    await world.set_manager(client, None)

    # A keeps it while `active`.
    assigned_to(await world.appeal(appeal["id"]), a, "personal_manager_active")
    shown = ok(await get_dialog(world, person, appeal["dialog_id"]))
    assert shown["responsible"] is None

    # A leaves `active`: it waits with `no_personal_manager`, for nobody.
    await world.set_status(a, "break")
    appeal = await world.appeal(appeal["id"])
    waiting_for(appeal, None, "no_personal_manager")
    queue = await world.queue()
    assert [(q["id"], q["reason"], q["waiting_for"]) for q in queue] == [
        (appeal["id"], "no_personal_manager", None)
    ]
    await world.set_status(a, "active")  # A is no longer the manager: nothing moves
    waiting_for(await world.appeal(appeal["id"]), None, "no_personal_manager")

    # A manager is appointed but not `active`: it now waits for them.
    b = await world.manager(status="offline")
    await world.set_manager(client, b)
    waiting_for(await world.appeal(appeal["id"]), b, "waiting_for_personal_manager")
    await world.set_status(b, "active")
    appeal = await world.appeal(appeal["id"])
    assigned_to(appeal, b, HANDOVER)
    history = await world.history(appeal["id"])
    _no_changed_reason(history, appeal)
    assert routing(history) == [
        ("personal_manager_active", a.id),
        ("no_personal_manager", None),
        ("waiting_for_personal_manager", b.id),
        (HANDOVER, b.id),
    ]


async def test_spec_6_6_removal_then_active_manager_appointed(world: World) -> None:
    a, client, _, appeal = await _held_by_a(world)
    await world.set_manager(client, None)
    await world.set_status(a, "offline")
    waiting_for(await world.appeal(appeal["id"]), None, "no_personal_manager")
    b = await world.manager(status="active")
    await world.set_manager(client, b)
    assigned_to(await world.appeal(appeal["id"]), b, HANDOVER)


async def test_spec_6_6_removal_of_a_queued_appeals_manager(world: World) -> None:
    a = await world.manager(status="offline")
    client, person = await pm_client(world, a)
    appeal = await world.ask(person, PM)
    await world.set_manager(client, None)
    waiting_for(await world.appeal(appeal["id"]), None, "no_personal_manager")
    # The person may still write into the open appeal (SPEC 2.5).
    more = await world.write(person, appeal["dialog_id"], "Есть кто-нибудь?")
    assert more["appeal_id"] == appeal["id"]
    await world.set_manager(client, a)
    waiting_for(await world.appeal(appeal["id"]), a, "waiting_for_personal_manager")
    await world.set_status(a, "active")
    assigned_to(await world.appeal(appeal["id"]), a, "personal_manager_active")


async def test_spec_6_7_previous_manager_loses_access_when_done(world: World) -> None:
    a, client, person, appeal = await _held_by_a(world)
    b = await world.manager(status="active")
    dialog_id = appeal["dialog_id"]
    await world.set_manager(client, b)

    # Still holding it: A sees and works in it.
    ok(await get_dialog(world, a, dialog_id))
    assert [i["dialog_id"] for i in await world.inbox(a)] == [dialog_id]
    ok(await post(world, a, dialog_id, "Передаю дела"), 201)

    await world.close(a, appeal["id"])
    # Holds nothing, not invited: gone.
    problem(await get_dialog(world, a, dialog_id), 404)
    problem(await post(world, a, dialog_id), 404)
    problem(await world.api.get(f"/api/v1/dialogs/{dialog_id}/messages", headers=a.headers), 404)
    problem(await world.api.get(f"/api/v1/appeals/{appeal['id']}", headers=a.headers), 404)
    assert await world.inbox(a) == []
    # B has it.
    assert [i["dialog_id"] for i in await world.inbox(b)] == [dialog_id]
    del person


async def test_spec_6_7_previous_manager_loses_access_after_handover(world: World) -> None:
    a, client, _, appeal = await _held_by_a(world)
    b = await world.manager(status="active")
    await world.set_manager(client, b)
    await world.set_status(a, "break")
    assigned_to(await world.appeal(appeal["id"]), b, HANDOVER)
    problem(await get_dialog(world, a, appeal["dialog_id"]), 404)
    problem(await world.api.get(f"/api/v1/appeals/{appeal['id']}/history", headers=a.headers), 404)


async def test_spec_6_7_previous_manager_without_appeal_loses_access_at_once(
    world: World,
) -> None:
    a = await world.manager(status="active")
    b = await world.manager(status="active")
    client, person = await pm_client(world, a)
    dialog_id = (await world.dialog(person, PM))["id"]
    ok(await get_dialog(world, a, dialog_id))
    await world.set_manager(client, b)
    problem(await get_dialog(world, a, dialog_id), 404)
    assert await world.inbox(a) == []


async def test_spec_6_7_invited_previous_manager_keeps_access(world: World) -> None:
    a, client, _, appeal = await _held_by_a(world)
    b = await world.manager(status="active")
    dialog_id = appeal["dialog_id"]
    await world.set_manager(client, b)
    ok(await invite(world, b, dialog_id, a), 201)
    await world.close(a, appeal["id"])
    ok(await get_dialog(world, a, dialog_id))
    assert [i["dialog_id"] for i in await world.inbox(a)] == [dialog_id]
    ok(await post(world, a, dialog_id, "Как приглашённый"), 201)


async def test_spec_6_history_marks_changes_but_reason_is_never_changed(world: World) -> None:
    a, client, _, appeal = await _held_by_a(world)
    b = await world.manager(status="offline")
    c = await world.manager(status="active")
    await world.set_manager(client, b)
    await world.set_manager(client, None)
    await world.set_manager(client, c)
    appeal = await world.appeal(appeal["id"])
    assert appeal["reason"] == "personal_manager_active"

    history = await world.history(appeal["id"])
    changes = [e for e in history if e["reason"] == "personal_manager_changed"]
    assert [e["employee_id"] for e in changes] == [b.id, None, c.id]
    for entry in changes:
        assert entry["actor"] == {"type": "employee", "id": world.admin.id}
    await world.set_status(a, "break")
    appeal = await world.appeal(appeal["id"])
    assigned_to(appeal, c, HANDOVER)
    assert (await world.history(appeal["id"]))[-1]["reason"] == HANDOVER


async def test_spec_6_setting_the_same_manager_again_changes_nothing(world: World) -> None:
    a, client, _, appeal = await _held_by_a(world)
    before = await world.history(appeal["id"])
    await world.set_manager(client, a)
    assert await world.history(appeal["id"]) == before
    changes = ok(
        await world.api.get(
            f"/api/v1/clients/{client.id}/personal-manager/history", headers=world.admin.headers
        )
    )["items"]
    assert len(changes) == 1


async def _move(world: World, a: Emp, b: Emp, *, dry_run: bool) -> dict[str, Any]:
    result: dict[str, Any] = ok(
        await world.api.post(
            "/api/v1/personal-managers/moves",
            json={"from_employee_id": a.id, "to_employee_id": b.id, "dry_run": dry_run},
            headers=world.admin.headers,
        )
    )
    return result


async def test_spec_6_portfolio_move_keeps_an_active_holders_appeal(world: World) -> None:
    a, held_client, _, held = await _held_by_a(world)
    b = await world.manager(status="active")
    quiet_client, _ = await pm_client(world, a)

    dry = await _move(world, a, b, dry_run=True)
    assert (dry["clients"], dry["open_appeals_staying"], dry["queued_appeals_moving"]) == (2, 1, 0)
    problem(await world.api.get(f"/api/v1/clients/{quiet_client.id}", headers=b.headers), 404)
    shown = ok(
        await world.api.get(f"/api/v1/clients/{quiet_client.id}", headers=world.admin.headers)
    )
    assert shown["personal_manager"]["id"] == a.id  # the dry run changed nothing

    moved = await _move(world, a, b, dry_run=False)
    assert (moved["clients"], moved["open_appeals_staying"]) == (2, 1)
    for c in (held_client, quiet_client):
        shown = ok(await world.api.get(f"/api/v1/clients/{c.id}", headers=b.headers))
        assert shown["personal_manager"]["id"] == b.id
    assigned_to(await world.appeal(held["id"]), a, "personal_manager_active")  # SPEC 6.1
    await world.set_status(a, "break")
    assigned_to(await world.appeal(held["id"]), b, HANDOVER)  # SPEC 6.2


async def test_spec_6_portfolio_move_retargets_queued_appeals(world: World) -> None:
    a = await world.manager(status="offline")
    b = await world.manager(status="active")
    _, person = await pm_client(world, a)
    queued = await world.ask(person, PM)
    waiting_for(queued, a, "waiting_for_personal_manager")

    moved = await _move(world, a, b, dry_run=False)
    assert (moved["clients"], moved["open_appeals_staying"], moved["queued_appeals_moving"]) == (
        1,
        0,
        1,
    )
    assigned_to(await world.appeal(queued["id"]), b, "personal_manager_active")  # SPEC 6.4


async def test_spec_6_2_every_person_of_the_client_follows_only_that_client(
    world: World,
) -> None:
    a = await world.manager(status="active")
    b = await world.manager(status="active")
    entity = await world.client(kind="legal_entity", manager=a, persons=2)
    other_client, other_person = await pm_client(world, a)
    held = [await world.ask(p, PM) for p in entity.persons]
    untouched = await world.ask(other_person, PM)
    for appeal in (*held, untouched):
        assigned_to(appeal, a, "personal_manager_active")

    await world.set_manager(entity, b)
    await world.set_status(a, "break")

    # Both representatives' appeals go to the entity's new manager ...
    for appeal in held:
        assigned_to(await world.appeal(appeal["id"]), b, HANDOVER)
    # ... while the other client, still A's, waits for A.
    waiting_for(await world.appeal(untouched["id"]), a, "waiting_for_personal_manager")
    assert "personal_manager_changed" not in {
        e["reason"] for e in await world.history(untouched["id"])
    }
    await world.set_status(a, "active")
    assigned_to(await world.appeal(untouched["id"]), a, "personal_manager_active")
    del other_client
