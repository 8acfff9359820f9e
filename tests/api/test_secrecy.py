"""SPEC 7.2-7.3, bank secrecy: whoever may not see a dialog gets 404 on everything about it."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import messages, problem
from tests.support import Actor, Emp, World, ok


async def assert_blind(world: World, who: Actor, dialog_id: int, appeal_id: int | None) -> None:
    """`who` gets 404 on every read and write of the dialog and its appeal; nothing changes."""
    before = await messages(world, dialog_id)
    api, h = world.api, who.headers
    base = f"/api/v1/dialogs/{dialog_id}"
    colleague_id = world.admin.id
    calls: list[tuple[str, str, Any]] = [
        ("GET", base, None),
        ("GET", f"{base}/messages", None),
        ("GET", f"{base}/messages?after=0", None),
        ("POST", f"{base}/messages", {"text": "подглядываю"}),
        ("POST", f"{base}/messages", {"text": "подглядываю", "client_message_id": "spy"}),
        ("POST", f"{base}/read", {"up_to_message_id": before[-1]["id"] if before else 0}),
        ("GET", f"{base}/participants", None),
        ("POST", f"{base}/participants", {"employee_id": colleague_id}),
        ("DELETE", f"{base}/participants/{colleague_id}", None),
    ]
    if appeal_id is not None:
        calls += [
            ("GET", f"/api/v1/appeals/{appeal_id}", None),
            ("GET", f"/api/v1/appeals/{appeal_id}/history", None),
            ("POST", f"/api/v1/appeals/{appeal_id}/close", None),
            ("POST", f"/api/v1/appeals/{appeal_id}/transfer", {"employee_id": None}),
            ("POST", f"/api/v1/appeals/{appeal_id}/transfer", {"employee_id": colleague_id}),
        ]
    for method, url, body in calls:
        kwargs: dict[str, Any] = {"headers": h}
        if body is not None:
            kwargs["json"] = body
        response = await api.request(method, url, **kwargs)
        assert response.status_code == 404, (
            f"{method} {url} -> {response.status_code}: {response.text}"
        )
        problem(response, 404)
    assert await messages(world, dialog_id) == before
    participants = ok(await api.get(f"{base}/participants", headers=world.admin.headers))
    assert colleague_id not in [p["employee_id"] for p in participants["items"]]
    if appeal_id is not None:
        appeal = await world.appeal(appeal_id)
        assert appeal["status"] != "closed"
    if isinstance(who, Emp):
        assert dialog_id not in [i["dialog_id"] for i in await world.inbox(who)]


async def assert_sees(world: World, who: Actor, dialog_id: int, appeal_id: int | None) -> None:
    ok(await world.api.get(f"/api/v1/dialogs/{dialog_id}", headers=who.headers), 200)
    ok(await world.api.get(f"/api/v1/dialogs/{dialog_id}/messages", headers=who.headers), 200)
    ok(await world.api.get(f"/api/v1/dialogs/{dialog_id}/participants", headers=who.headers), 200)
    if appeal_id is not None:
        ok(await world.api.get(f"/api/v1/appeals/{appeal_id}", headers=who.headers), 200)
        ok(await world.api.get(f"/api/v1/appeals/{appeal_id}/history", headers=who.headers), 200)


async def test_person_never_sees_another_persons_dialog(world: World) -> None:
    manager = await world.manager(status="active")
    company = await world.client(kind="legal_entity", manager=manager, persons=2)
    owner, colleague = company.persons
    stranger = (await world.client()).persons[0]
    pm = await world.ask(owner, "personal_manager", "Секретный вопрос")
    general = await world.ask(owner, "general", "Ещё секрет")
    for who in (colleague, stranger):
        await assert_blind(world, who, pm["dialog_id"], pm["id"])
        await assert_blind(world, who, general["dialog_id"], general["id"])
        # Not in their own list, and get-or-create with the owner's id is refused.
        items = ok(await world.api.get("/api/v1/dialogs", headers=who.headers))["items"]
        assert not {pm["dialog_id"], general["dialog_id"]} & {d["id"] for d in items}
        response = await world.api.post(
            "/api/v1/dialogs", json={"kind": "general", "person_id": owner.id}, headers=who.headers
        )
        problem(response, 404)
    # The colleague of the same company has their own PM dialog, a different one.
    own = await world.dialog(colleague, "personal_manager")
    assert own["id"] != pm["dialog_id"]
    await assert_sees(world, owner, pm["dialog_id"], pm["id"])


async def test_uninvolved_employee_never_sees_pm_dialog(world: World) -> None:
    manager = await world.manager(status="active")
    client = await world.client(manager=manager)
    appeal = await world.ask(client.persons[0], "personal_manager")
    other_manager = await world.manager(status="active")
    await world.client(manager=other_manager)
    operator = await world.operator()
    staff = await world.employee(
        [
            "general_chat",
            "manage_personal_managers",
            "manage_employees",
            "manage_clients",
            "issue_person_tokens",
        ],
        status="active",
    )
    for who in (other_manager, operator, staff):
        await assert_blind(world, who, appeal["dialog_id"], appeal["id"])
    # Those who may: the manager, a supervisor.
    await assert_sees(world, manager, appeal["dialog_id"], appeal["id"])
    await assert_sees(world, await world.supervisor(), appeal["dialog_id"], appeal["id"])


async def test_uninvolved_employee_never_sees_pm_dialog_without_appeal(world: World) -> None:
    manager = await world.manager()
    client = await world.client(manager=manager)
    dialog = await world.dialog(client.persons[0], "personal_manager")
    operator = await world.operator()
    await assert_blind(world, operator, dialog["id"], None)
    await assert_sees(world, manager, dialog["id"], None)


async def test_operator_sees_general_dialog_only_while_holding_its_open_appeal(
    world: World,
) -> None:
    person = (await world.client()).persons[0]
    appeal = await world.ask(person, "general")
    assert appeal["status"] == "queued"
    operator = await world.operator(status="offline")
    await assert_blind(world, operator, appeal["dialog_id"], appeal["id"])
    await world.set_status(operator, "active")
    assert (await world.appeal(appeal["id"]))["assignee"]["id"] == operator.id
    await assert_sees(world, operator, appeal["dialog_id"], appeal["id"])
    await world.write(operator, appeal["dialog_id"], "Чем помочь?")
    # Leaving active returns it to the queue: access goes with it.
    await world.set_status(operator, "break")
    assert (await world.appeal(appeal["id"]))["status"] == "queued"
    await assert_blind(world, operator, appeal["dialog_id"], appeal["id"])
    # Back, then closed: gone again, old history included.
    await world.set_status(operator, "active")
    await assert_sees(world, operator, appeal["dialog_id"], appeal["id"])
    await world.close(operator, appeal["id"])
    problem(
        await world.api.get(f"/api/v1/dialogs/{appeal['dialog_id']}", headers=operator.headers), 404
    )
    problem(
        await world.api.get(
            f"/api/v1/dialogs/{appeal['dialog_id']}/messages", headers=operator.headers
        ),
        404,
    )
    problem(await world.api.get(f"/api/v1/appeals/{appeal['id']}", headers=operator.headers), 404)
    assert await world.inbox(operator) == []


async def test_operator_loses_general_dialog_after_transfer(world: World) -> None:
    first = await world.operator()
    appeal = await world.ask((await world.client()).persons[0], "general")
    second = await world.operator()
    ok(
        await world.api.post(
            f"/api/v1/appeals/{appeal['id']}/transfer",
            json={"employee_id": second.id},
            headers=first.headers,
        )
    )
    await assert_blind(world, first, appeal["dialog_id"], appeal["id"])
    await assert_sees(world, second, appeal["dialog_id"], appeal["id"])


async def test_previous_manager_loses_access_after_handover(world: World) -> None:
    old = await world.manager(status="active")
    new = await world.manager(status="active")
    client = await world.client(manager=old)
    person = client.persons[0]
    appeal = await world.ask(person, "personal_manager")
    assert appeal["assignee"]["id"] == old.id
    await world.set_manager(client, new)
    # SPEC 6.1: the old manager keeps it while active; both may read and post.
    await assert_sees(world, old, appeal["dialog_id"], appeal["id"])
    await assert_sees(world, new, appeal["dialog_id"], appeal["id"])
    await world.write(old, appeal["dialog_id"], "Передаю коллеге")
    await world.write(new, appeal["dialog_id"], "Здравствуйте, я новый менеджер")
    assert (await world.appeal(appeal["id"]))["assignee"]["id"] == old.id
    # The old manager leaves active: the appeal goes to the new one, and the old one loses access.
    await world.set_status(old, "offline")
    moved = await world.appeal(appeal["id"])
    assert moved["assignee"]["id"] == new.id
    assert moved["reason"] == "handover_to_new_personal_manager"
    await world.set_status(old, "active")
    await assert_blind(world, old, appeal["dialog_id"], appeal["id"])
    await assert_sees(world, new, appeal["dialog_id"], appeal["id"])
    mine = ok(await world.api.get("/api/v1/me/clients", headers=old.headers))
    assert mine["items"] == []


async def test_previous_manager_without_open_appeal_loses_access_at_once(world: World) -> None:
    old = await world.manager(status="active")
    new = await world.manager()
    client = await world.client(manager=old)
    appeal = await world.ask(client.persons[0], "personal_manager")
    await world.close(old, appeal["id"])
    await world.set_manager(client, new)
    await assert_blind(world, old, appeal["dialog_id"], None)
    problem(await world.api.get(f"/api/v1/appeals/{appeal['id']}", headers=old.headers), 404)
    problem(await world.api.get(f"/api/v1/clients/{client.id}", headers=old.headers), 404)


async def test_invited_colleague_keeps_access_across_manager_change(world: World) -> None:
    old = await world.manager()
    new = await world.manager()
    client = await world.client(manager=old)
    dialog = await world.dialog(client.persons[0], "personal_manager")
    colleague = await world.employee([])
    ok(
        await world.api.post(
            f"/api/v1/dialogs/{dialog['id']}/participants",
            json={"employee_id": colleague.id},
            headers=old.headers,
        ),
        201,
    )
    await world.set_manager(client, new)
    await assert_sees(world, colleague, dialog["id"], None)
    await assert_blind(world, old, dialog["id"], None)
