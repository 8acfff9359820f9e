"""SPEC §2: dialogs and messages."""

from __future__ import annotations

from tests.scenarios.steps import (
    GENERAL,
    PM,
    employee_dialog,
    get_dialog,
    messages,
    person_dialogs,
    pm_client,
    post,
    problem,
)
from tests.support import World, ok


async def test_spec_2_1_one_dialog_per_person_and_kind(world: World) -> None:
    manager = await world.manager()
    client = await world.client(kind="legal_entity", manager=manager, persons=2)
    first, second = client.persons

    created = await world.api.post("/api/v1/dialogs", json={"kind": PM}, headers=first.headers)
    assert created.status_code == 201
    again = await world.api.post("/api/v1/dialogs", json={"kind": PM}, headers=first.headers)
    assert again.status_code == 200
    assert again.json()["id"] == created.json()["id"]

    general = await world.api.post("/api/v1/dialogs", json={"kind": GENERAL}, headers=first.headers)
    assert general.status_code in (200, 201)
    general_again = ok(
        await world.api.post("/api/v1/dialogs", json={"kind": GENERAL}, headers=first.headers),
        200,
    )
    assert general_again["id"] == general.json()["id"]
    assert general.json()["id"] != created.json()["id"]

    # Each representative of a legal entity has their own dialogs.
    other = await world.dialog(second, PM)
    assert other["id"] != created.json()["id"]
    assert other["person"]["id"] == second.id
    assert created.json()["person"]["id"] == first.id

    listed = await person_dialogs(world, first)
    assert set(listed) == {PM, GENERAL}
    assert listed[PM]["id"] == created.json()["id"]
    assert listed[GENERAL]["id"] == general.json()["id"]


async def test_spec_2_1_messages_are_never_lost_across_appeals(world: World) -> None:
    manager = await world.manager(status="active")
    _, person = await pm_client(world, manager)
    dialog_id = (await world.dialog(person, PM))["id"]

    m1 = await world.write(person, dialog_id, "Первый вопрос")
    m2 = await world.write(manager, dialog_id, "Ответ")
    await world.close(manager, m1["appeal_id"])
    m3 = await world.write(person, dialog_id, "Второй вопрос")
    assert m1["appeal_id"] == m2["appeal_id"] != m3["appeal_id"]

    for who in (person, manager):
        history = await messages(world, who, dialog_id)
        assert [m["text"] for m in history] == ["Первый вопрос", "Ответ", "Второй вопрос"]
        assert [m["appeal_id"] for m in history] == [
            m1["appeal_id"],
            m1["appeal_id"],
            m3["appeal_id"],
        ]
        assert [m["author"]["type"] for m in history] == ["person", "employee", "person"]


async def test_spec_2_1_dialog_and_history_survive_manager_change(world: World) -> None:
    a = await world.manager(status="active", name="Анна Первая")
    b = await world.manager(status="active", name="Борис Второй")
    client, person = await pm_client(world, a)
    dialog_id = (await world.dialog(person, PM))["id"]
    await world.write(person, dialog_id, "Вопрос к Анне")
    await world.write(a, dialog_id, "Ответ Анны")

    await world.set_manager(client, b)

    # The person sees the same dialog, with all its messages.
    assert (await world.dialog(person, PM))["id"] == dialog_id
    texts = [m["text"] for m in await messages(world, person, dialog_id)]
    assert texts == ["Вопрос к Анне", "Ответ Анны"]
    # The new manager reads the whole history too.
    texts = [m["text"] for m in await messages(world, b, dialog_id)]
    assert texts == ["Вопрос к Анне", "Ответ Анны"]


async def test_spec_2_2_responsible_follows_the_clients_manager(world: World) -> None:
    a = await world.manager(name="Анна Первая")
    b = await world.manager(name="Борис Второй")
    client = await world.client(kind="legal_entity", manager=a, persons=2)
    dialogs = [(await world.dialog(p, PM))["id"] for p in client.persons]
    for person, dialog_id in zip(client.persons, dialogs, strict=True):
        shown = ok(await get_dialog(world, person, dialog_id))
        assert shown["responsible"] == {"id": a.id, "full_name": a.name, "status": "offline"}

    await world.set_manager(client, b)

    for person, dialog_id in zip(client.persons, dialogs, strict=True):
        shown = ok(await get_dialog(world, person, dialog_id))
        assert shown["id"] == dialog_id
        assert shown["responsible"]["id"] == b.id
        assert shown["responsible"]["full_name"] == b.name
        listed = await person_dialogs(world, person)
        assert listed[PM]["id"] == dialog_id
        assert listed[PM]["responsible"]["id"] == b.id
    # The general dialog has no responsible employee.
    general = await world.dialog(client.persons[0], GENERAL)
    assert general["responsible"] is None


async def test_spec_2_3_the_manager_may_write_first(world: World) -> None:
    manager = await world.manager(status="active")
    _, person = await pm_client(world, manager)

    # The manager finds the person's PM dialog (creating it) and writes first.
    mine = ok(await world.api.get("/api/v1/me/clients", headers=manager.headers))["items"]
    assert [p["id"] for p in mine[0]["persons"]] == [person.id]
    dialog = ok(await employee_dialog(world, manager, person), 200, 201)
    message = await world.write(manager, dialog["id"], "Добрый день! Я ваш менеджер.")
    assert message["author"] == {"type": "employee", "id": manager.id, "name": manager.name}

    # The person sees it in the same dialog and answers into the same appeal.
    assert (await world.dialog(person, PM))["id"] == dialog["id"]
    reply = await world.write(person, dialog["id"], "Спасибо")
    assert reply["appeal_id"] == message["appeal_id"]
    texts = [m["text"] for m in await messages(world, person, dialog["id"])]
    assert texts == ["Добрый день! Я ваш менеджер.", "Спасибо"]


async def test_spec_2_3_the_person_may_write_first_and_an_invitee_may_write(
    world: World,
) -> None:
    manager = await world.manager(status="active")
    colleague = await world.manager()
    _, person = await pm_client(world, manager)
    dialog_id = (await world.dialog(person, PM))["id"]
    first = await world.write(person, dialog_id, "Здравствуйте")
    ok(
        await world.api.post(
            f"/api/v1/dialogs/{dialog_id}/participants",
            json={"employee_id": colleague.id},
            headers=manager.headers,
        ),
        201,
    )
    reply = await world.write(colleague, dialog_id, "Коллега на связи")
    assert reply["appeal_id"] == first["appeal_id"]


async def test_spec_2_4_general_chat_works_as_before_for_a_client_with_a_manager(
    world: World,
) -> None:
    manager = await world.employee(["general_chat"], status="active")
    operator = await world.operator()
    _, person = await pm_client(world, manager)

    pm_appeal = await world.ask(person, PM, "Вопрос менеджеру")
    general_appeal = await world.ask(person, GENERAL, "Вопрос в общий чат")

    # The person chose both chats at once: each is its own dialog and appeal.
    assert pm_appeal["dialog_id"] != general_appeal["dialog_id"]
    assert pm_appeal["assignee"]["id"] == manager.id
    # The general appeal is routed exactly as before: both operators hold no general appeal
    # (the PM appeal does not count, SPEC 5.2) and were never assigned, so the lowest id wins.
    assert general_appeal["status"] == "assigned"
    assert general_appeal["reason"] == "routed"
    assert general_appeal["kind"] == GENERAL
    assert general_appeal["assignee"]["id"] == min(manager.id, operator.id)


async def test_spec_2_4_general_chat_never_goes_to_a_manager_without_general_chat(
    world: World,
) -> None:
    manager = await world.manager(status="active")
    _, person = await pm_client(world, manager)
    appeal = await world.ask(person, GENERAL)
    assert appeal["status"] == "queued"
    assert appeal["reason"] == "no_eligible_operator"
    operator = await world.operator()
    appeal = await world.appeal(appeal["id"])
    assert appeal["assignee"]["id"] == operator.id
    assert appeal["reason"] == "routed"


async def test_spec_2_5_no_manager_no_pm_dialog(world: World) -> None:
    client = await world.client()
    person = client.persons[0]
    response = await world.api.post("/api/v1/dialogs", json={"kind": PM}, headers=person.headers)
    body = problem(response, 409, "no_personal_manager")
    assert "general" in body["detail"].lower()
    # The person's list offers only the general chat.
    assert set(await person_dialogs(world, person)) == {GENERAL}
    # The general chat works.
    appeal = await world.ask(person, GENERAL)
    assert appeal["kind"] == GENERAL


async def test_spec_2_5_open_appeal_goes_on_then_new_appeal_refused(world: World) -> None:
    manager = await world.manager(status="active")
    client, person = await pm_client(world, manager)
    appeal = await world.ask(person, PM, "Первое")
    dialog_id = appeal["dialog_id"]

    await world.set_manager(client, None)

    # The appeal already open goes on: both sides still write into it.
    more = await world.write(person, dialog_id, "Ещё вопрос")
    assert more["appeal_id"] == appeal["id"]
    answer = await world.write(manager, dialog_id, "Отвечаю")
    assert answer["appeal_id"] == appeal["id"]
    await world.close(manager, appeal["id"])

    # A new appeal cannot be opened: clear 409 pointing to the general chat.
    body = problem(await post(world, person, dialog_id, "Новый вопрос"), 409, "no_personal_manager")
    assert "general" in body["detail"].lower()
    # Nothing was stored by the refused request; the history stays readable.
    texts = [m["text"] for m in await messages(world, person, dialog_id)]
    assert texts == ["Первое", "Ещё вопрос", "Отвечаю"]
    listed = await person_dialogs(world, person)
    assert listed[PM]["id"] == dialog_id
    assert listed[PM]["responsible"] is None
    assert listed[PM]["open_appeal"] is None


async def test_spec_2_5_dialog_created_while_client_had_manager_then_removed(
    world: World,
) -> None:
    manager = await world.manager()
    client, person = await pm_client(world, manager)
    dialog_id = (await world.dialog(person, PM))["id"]
    await world.set_manager(client, None)
    problem(await post(world, person, dialog_id), 409, "no_personal_manager")
    assert await messages(world, person, dialog_id) == []


async def test_spec_2_5_empty_pm_dialog_not_offered_without_a_manager(world: World) -> None:
    manager = await world.manager()
    client, person = await pm_client(world, manager)
    listed = await person_dialogs(world, person)  # offers the PM chat while there is a manager
    assert set(listed) == {PM, GENERAL}
    await world.set_manager(client, None)
    # No manager and no history: the PM chat is not offered any more (API.md GET /dialogs).
    assert set(await person_dialogs(world, person)) == {GENERAL}
    # With a manager again, it is the same dialog.
    await world.set_manager(client, manager)
    assert (await person_dialogs(world, person))[PM]["id"] == listed[PM]["id"]


async def test_spec_2_1_a_message_is_stored_once(world: World) -> None:
    manager = await world.manager(status="active")
    _, person = await pm_client(world, manager)
    dialog_id = (await world.dialog(person, PM))["id"]
    body = {"text": "Перевод не прошёл", "client_message_id": "app-42"}
    url = f"/api/v1/dialogs/{dialog_id}/messages"
    first = await world.api.post(url, json=body, headers=person.headers)
    assert first.status_code == 201
    again = await world.api.post(url, json=body, headers=person.headers)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    other = await world.api.post(url, json={**body, "text": "Другой текст"}, headers=person.headers)
    problem(other, 409, "idempotency_conflict")
    assert [m["text"] for m in await messages(world, person, dialog_id)] == ["Перевод не прошёл"]


async def test_spec_2_5_no_manager_refused_to_employees_writing_too(world: World) -> None:
    manager = await world.manager()
    colleague = await world.manager()
    supervisor = await world.supervisor()
    client, person = await pm_client(world, manager)
    dialog_id = (await world.dialog(person, PM))["id"]
    ok(
        await world.api.post(
            f"/api/v1/dialogs/{dialog_id}/participants",
            json={"employee_id": colleague.id},
            headers=manager.headers,
        ),
        201,
    )
    await world.set_manager(client, None)
    for who in (colleague, supervisor):
        problem(await post(world, who, dialog_id, "Кто-нибудь?"), 409, "no_personal_manager")
    # A supervisor cannot create a PM dialog for a client without a manager either.
    fresh = (await world.client()).persons[0]
    problem(await employee_dialog(world, supervisor, fresh, PM), 409, "no_personal_manager")
    assert await messages(world, supervisor, dialog_id) == []
