"""API.md "Dialogs and messages": dialogs, messages, read marks and participants."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.api.helpers import (
    APPEAL_FIELDS,
    DIALOG_FIELDS,
    LABEL_EN,
    LABEL_RU,
    MESSAGE_FIELDS,
    assert_page,
    assert_time,
    assert_unauthorized,
    messages,
    pm_setup,
    problem,
)
from tests.support import Actor, World, ok

DIALOGS = "/api/v1/dialogs"


def msg_url(dialog_id: int) -> str:
    return f"{DIALOGS}/{dialog_id}/messages"


async def post(world: World, who: Actor, dialog_id: int, **body: Any) -> Any:
    return await world.api.post(msg_url(dialog_id), json=body, headers=who.headers)


async def inbox_item(world: World, who: Actor, dialog_id: int) -> dict[str, Any]:
    items = await world.inbox(who)  # type: ignore[arg-type]
    found = [i for i in items if i["dialog_id"] == dialog_id]
    assert len(found) == 1, items
    return found[0]


# --- GET /dialogs --------------------------------------------------------------------------


async def test_person_dialogs_general_only_without_manager(world: World) -> None:
    client = await world.client()
    person = client.persons[0]
    page = ok(await world.api.get(DIALOGS, headers=person.headers), 200)
    items = assert_page(page)
    assert len(items) == 1
    general = items[0]
    assert set(general) >= {"id", "kind", "label", "responsible", "open_appeal"}
    assert general["kind"] == "general"
    assert general["label"] == LABEL_RU["general"]
    assert general["responsible"] is None
    assert general["open_appeal"] is None
    # The general dialog is the one the person gets with POST /dialogs too: same id.
    again = ok(await world.api.get(DIALOGS, headers=person.headers), 200)
    assert again == page
    created = ok(
        await world.api.post(DIALOGS, json={"kind": "general"}, headers=person.headers), 200
    )
    assert created["id"] == general["id"]


async def test_person_dialogs_with_manager(world: World) -> None:
    manager = await world.manager(status="active", name="Ольга Менеджер")
    client = await world.client(manager=manager)
    person = client.persons[0]
    items = assert_page(ok(await world.api.get(DIALOGS, headers=person.headers), 200))
    by_kind = {d["kind"]: d for d in items}
    assert set(by_kind) == {"general", "personal_manager"}
    pm = by_kind["personal_manager"]
    assert pm["label"] == LABEL_RU["personal_manager"]
    assert pm["responsible"] == {
        "id": manager.id,
        "full_name": "Ольга Менеджер",
        "status": "active",
    }
    assert by_kind["general"]["responsible"] is None
    # An open appeal shows.
    message = await world.write(person, pm["id"], "Нужна помощь")
    items = assert_page(ok(await world.api.get(DIALOGS, headers=person.headers), 200))
    pm = {d["kind"]: d for d in items}["personal_manager"]
    assert set(pm["open_appeal"]) >= APPEAL_FIELDS
    assert pm["open_appeal"]["id"] == message["appeal_id"]
    assert pm["open_appeal"]["status"] == "assigned"
    assert pm["open_appeal"]["assignee"]["id"] == manager.id


async def test_person_dialogs_english_labels(world: World) -> None:
    client = await world.client(manager=await world.manager())
    person = client.persons[0]
    headers = {**person.headers, "Accept-Language": "en-US,en;q=0.9,ru;q=0.5"}
    items = assert_page(ok(await world.api.get(DIALOGS, headers=headers), 200))
    assert {d["kind"]: d["label"] for d in items} == LABEL_EN
    headers = {**person.headers, "Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"}
    items = assert_page(ok(await world.api.get(DIALOGS, headers=headers), 200))
    assert {d["kind"]: d["label"] for d in items} == LABEL_RU


async def test_person_dialogs_keep_pm_dialog_with_history_after_manager_removed(
    world: World,
) -> None:
    manager, client, person, dialog = await pm_setup(world)
    message = await world.write(person, dialog["id"])
    await world.close(world.admin, message["appeal_id"])
    await world.set_manager(client, None)
    items = assert_page(ok(await world.api.get(DIALOGS, headers=person.headers), 200))
    pm = {d["kind"]: d for d in items}["personal_manager"]
    assert pm["id"] == dialog["id"]
    assert pm["responsible"] is None
    assert [m["id"] for m in await messages(world, dialog["id"], person)] == [message["id"]]
    del manager


async def test_person_dialogs_employee_is_403(world: World) -> None:
    emp = await world.employee([])
    problem(await world.api.get(DIALOGS, headers=emp.headers), 403)


async def test_person_dialogs_limit_above_200_is_422(world: World) -> None:
    client = await world.client()
    problem(await world.api.get(f"{DIALOGS}?limit=201", headers=client.persons[0].headers), 422)


async def test_person_dialogs_unauthorized(world: World) -> None:
    await assert_unauthorized(world, "GET", DIALOGS)


# --- POST /dialogs -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["general", "personal_manager"])
async def test_person_get_or_create(world: World, kind: str) -> None:
    manager = await world.manager()
    client = await world.client(manager=manager)
    person = client.persons[0]
    first = await world.api.post(DIALOGS, json={"kind": kind}, headers=person.headers)
    created = ok(first, 201)
    assert created.keys() >= DIALOG_FIELDS
    assert created["kind"] == kind
    assert created["label"] == LABEL_RU[kind]
    assert created["client"]["id"] == client.id
    assert created["person"]["id"] == person.id
    assert created["participants"] == []
    assert created["open_appeal"] is None
    assert created["last_message_at"] is None
    assert_time(created["created_at"])
    if kind == "personal_manager":
        assert created["responsible"]["id"] == manager.id
    else:
        assert created["responsible"] is None
    second = ok(await world.api.post(DIALOGS, json={"kind": kind}, headers=person.headers), 200)
    assert second == created


async def test_person_pm_dialog_without_manager_is_409(world: World) -> None:
    client = await world.client()
    person = client.persons[0]
    response = await world.api.post(
        DIALOGS, json={"kind": "personal_manager"}, headers=person.headers
    )
    problem(response, 409, "no_personal_manager")
    items = assert_page(ok(await world.api.get(DIALOGS, headers=person.headers)))
    assert [d["kind"] for d in items] == ["general"]


async def test_manager_get_or_create_pm_dialog_of_own_client(world: World) -> None:
    manager = await world.manager()
    client = await world.client(manager=manager)
    person = client.persons[0]
    body = {"kind": "personal_manager", "person_id": person.id}
    created = ok(await world.api.post(DIALOGS, json=body, headers=manager.headers), 201)
    assert created["person"]["id"] == person.id
    assert created["responsible"]["id"] == manager.id
    again = ok(await world.api.post(DIALOGS, json=body, headers=manager.headers), 200)
    assert again["id"] == created["id"]
    # The person finds the same dialog.
    mine = ok(
        await world.api.post(DIALOGS, json={"kind": "personal_manager"}, headers=person.headers),
        200,
    )
    assert mine["id"] == created["id"]
    # The manager writes first.
    message = await world.write(manager, created["id"], "Здравствуйте, я ваш менеджер")
    appeal = await world.appeal(message["appeal_id"])
    assert appeal["assignee"]["id"] == manager.id
    assert appeal["reason"] == "opened_by_employee"


async def test_employee_needs_person_id(world: World) -> None:
    manager = await world.manager()
    await world.client(manager=manager)
    response = await world.api.post(
        DIALOGS, json={"kind": "personal_manager"}, headers=manager.headers
    )
    problem(response, 422)


async def test_supervisor_get_or_create_any(world: World) -> None:
    supervisor = await world.supervisor()
    client = await world.client()
    person = client.persons[0]
    body = {"kind": "general", "person_id": person.id}
    created = ok(await world.api.post(DIALOGS, json=body, headers=supervisor.headers), 201)
    assert created["kind"] == "general"
    response = await world.api.post(
        DIALOGS,
        json={"kind": "personal_manager", "person_id": person.id},
        headers=supervisor.headers,
    )
    problem(response, 409, "no_personal_manager")


async def test_employee_create_refused(world: World) -> None:
    manager = await world.manager()
    client = await world.client(manager=manager)
    other_client = await world.client(manager=await world.manager())
    person = client.persons[0]
    # A manager: not the general dialog, not another manager's client.
    response = await world.api.post(
        DIALOGS, json={"kind": "general", "person_id": person.id}, headers=manager.headers
    )
    problem(response, 404)
    response = await world.api.post(
        DIALOGS,
        json={"kind": "personal_manager", "person_id": other_client.persons[0].id},
        headers=manager.headers,
    )
    problem(response, 404)
    operator = await world.operator()
    response = await world.api.post(
        DIALOGS, json={"kind": "general", "person_id": person.id}, headers=operator.headers
    )
    problem(response, 404)
    response = await world.api.post(
        DIALOGS, json={"kind": "general", "person_id": 999999}, headers=world.admin.headers
    )
    problem(response, 404)


async def test_person_cannot_create_for_another_person(world: World) -> None:
    client = await world.client(persons=2)
    me, other = client.persons
    response = await world.api.post(
        DIALOGS, json={"kind": "general", "person_id": other.id}, headers=me.headers
    )
    problem(response, 404)


@pytest.mark.parametrize(
    "body", [{}, {"kind": "chat"}, {"kind": None}, {"kind": "general", "person_id": "x"}], ids=repr
)
async def test_create_dialog_bad_body(world: World, body: dict[str, Any]) -> None:
    client = await world.client()
    problem(await world.api.post(DIALOGS, json=body, headers=client.persons[0].headers), 422)


async def test_create_dialog_unauthorized(world: World) -> None:
    await assert_unauthorized(world, "POST", DIALOGS, {"kind": "general"})


# --- GET /dialogs/{id} ---------------------------------------------------------------------


async def test_get_dialog(world: World) -> None:
    manager, client, person, dialog = await pm_setup(world, status="active")
    colleague = await world.employee([])
    ok(
        await world.api.post(
            f"{DIALOGS}/{dialog['id']}/participants",
            json={"employee_id": colleague.id},
            headers=manager.headers,
        ),
        201,
    )
    message = await world.write(person, dialog["id"], "Вопрос по счёту")
    for who in (person, manager, colleague, world.admin):
        body = ok(await world.api.get(f"{DIALOGS}/{dialog['id']}", headers=who.headers), 200)
        assert body.keys() >= DIALOG_FIELDS
        assert body["id"] == dialog["id"]
        assert body["kind"] == "personal_manager"
        assert body["label"] == LABEL_RU["personal_manager"]
        assert body["client"]["id"] == client.id
        assert body["client"]["name"] == client.name
        assert body["person"] == {"id": person.id, "name": person.name}
        assert body["responsible"]["id"] == manager.id
        assert body["responsible"]["status"] == "active"
        assert [p["employee_id"] for p in body["participants"]] == [colleague.id]
        assert body["open_appeal"]["id"] == message["appeal_id"]
        assert_time(body["created_at"])
        assert body["last_message_at"] == message["created_at"]
    english = ok(
        await world.api.get(
            f"{DIALOGS}/{dialog['id']}", headers={**person.headers, "Accept-Language": "en"}
        )
    )
    assert english["label"] == LABEL_EN["personal_manager"]


async def test_get_dialog_unknown_is_404(world: World) -> None:
    problem(await world.api.get(f"{DIALOGS}/999999", headers=world.admin.headers), 404)
    client = await world.client()
    problem(await world.api.get(f"{DIALOGS}/999999", headers=client.persons[0].headers), 404)


async def test_get_dialog_unauthorized(world: World) -> None:
    _, _, _, dialog = await pm_setup(world)
    await assert_unauthorized(world, "GET", f"{DIALOGS}/{dialog['id']}")


# --- POST /dialogs/{id}/messages -----------------------------------------------------------


async def test_post_message(world: World) -> None:
    manager, _, person, dialog = await pm_setup(world, status="active")
    response = await post(world, person, dialog["id"], text="Добрый день!")
    message = ok(response, 201)
    assert message.keys() >= MESSAGE_FIELDS
    assert isinstance(message["id"], int)
    assert message["dialog_id"] == dialog["id"]
    assert isinstance(message["appeal_id"], int)
    assert message["author"] == {"type": "person", "id": person.id, "name": person.name}
    assert message["text"] == "Добрый день!"
    assert_time(message["created_at"])
    reply = ok(await post(world, manager, dialog["id"], text="Здравствуйте"), 201)
    assert reply["author"] == {"type": "employee", "id": manager.id, "name": manager.name}
    assert reply["appeal_id"] == message["appeal_id"]
    stored = await messages(world, dialog["id"], person)
    assert [m["id"] for m in stored] == [message["id"], reply["id"]]
    assert stored[0] == message


async def test_idempotent_client_message_id(world: World) -> None:
    _, _, person, dialog = await pm_setup(world)
    body = {"text": "Оплата не прошла", "client_message_id": "app-msg-1"}
    first = ok(await post(world, person, dialog["id"], **body), 201)
    again = await post(world, person, dialog["id"], **body)
    assert again.status_code == 200, again.text
    assert again.json() == first
    stored = await messages(world, dialog["id"], person)
    assert [m["id"] for m in stored] == [first["id"]]
    # The same key with other text is a conflict and stores nothing.
    response = await post(world, person, dialog["id"], text="Другое", client_message_id="app-msg-1")
    problem(response, 409, "idempotency_conflict")
    assert [m["id"] for m in await messages(world, dialog["id"], person)] == [first["id"]]
    # Another key is another message.
    other = ok(
        await post(world, person, dialog["id"], text="Оплата не прошла", client_message_id="2"),
        201,
    )
    assert other["id"] != first["id"]


async def test_idempotent_retries_at_once_store_one_message(world: World) -> None:
    manager, _, person, dialog = await pm_setup(world, status="active")
    body = {"text": "Повтор при обрыве связи", "client_message_id": "retry-1"}
    responses = await asyncio.gather(*(post(world, person, dialog["id"], **body) for _ in range(5)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 200, 200, 201], [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    stored = await messages(world, dialog["id"], person)
    assert [m["text"] for m in stored] == [body["text"]]
    # An employee's key works the same way.
    reply = {"text": "Ответ", "client_message_id": "crm-1"}
    first = ok(await post(world, manager, dialog["id"], **reply), 201)
    again = await post(world, manager, dialog["id"], **reply)
    assert again.status_code == 200
    assert again.json() == first


async def test_client_message_id_reused_in_another_dialog_is_409(world: World) -> None:
    manager, _, person, dialog = await pm_setup(world, status="active")
    general = await world.dialog(person, "general")
    ok(await post(world, person, dialog["id"], text="Вопрос", client_message_id="k-1"), 201)
    response = await post(world, person, general["id"], text="Вопрос", client_message_id="k-1")
    problem(response, 409, "idempotency_conflict")
    assert await messages(world, general["id"], person) == []
    del manager


async def test_messages_default_page_is_50(world: World) -> None:
    _, _, person, dialog = await pm_setup(world, status="active")
    ids = [(await world.write(person, dialog["id"], f"m{i}"))["id"] for i in range(51)]
    page = ok(await world.api.get(msg_url(dialog["id"]), headers=person.headers), 200)
    assert [m["id"] for m in page["items"]] == ids[1:]
    assert page["next_cursor"] is not None


async def test_client_message_id_is_per_author(world: World) -> None:
    client = await world.client(persons=2)
    one, two = client.persons
    d1 = await world.dialog(one, "general")
    d2 = await world.dialog(two, "general")
    m1 = ok(await post(world, one, d1["id"], text="Привет", client_message_id="k"), 201)
    m2 = ok(await post(world, two, d2["id"], text="Привет", client_message_id="k"), 201)
    assert m1["id"] != m2["id"]


async def test_post_into_pm_dialog_without_manager_is_409(world: World) -> None:
    _, client, person, dialog = await pm_setup(world, status="active")
    message = await world.write(person, dialog["id"])
    await world.close(world.admin, message["appeal_id"])
    await world.set_manager(client, None)
    response = await post(world, person, dialog["id"], text="Есть кто?")
    problem(response, 409, "no_personal_manager")
    assert [m["id"] for m in await messages(world, dialog["id"], person)] == [message["id"]]
    # The general chat works.
    general = await world.dialog(person, "general")
    ok(await post(world, person, general["id"], text="Есть кто?"), 201)


async def test_post_into_open_pm_appeal_after_manager_removed_goes_on(world: World) -> None:
    manager, client, person, dialog = await pm_setup(world, status="active")
    first = await world.write(person, dialog["id"])
    await world.set_manager(client, None)
    second = ok(await post(world, person, dialog["id"], text="Продолжаю"), 201)
    assert second["appeal_id"] == first["appeal_id"]
    del manager


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "   \n\t  ",
        "\u00a0\u2003",
        "x" * 4097,
        "Привет\x00",
        "Привет\x07мир",
        "\x1b[31mкрасный",
        "удалить\x7f",
        "\x08",
    ],
    ids=[
        "empty",
        "space",
        "whitespace",
        "unicode-spaces",
        "4097",
        "nul",
        "bell",
        "escape",
        "del",
        "backspace",
    ],
)
async def test_bad_text_is_422_and_stores_nothing(world: World, text: str) -> None:
    _, _, person, dialog = await pm_setup(world, status="active")
    response = await post(world, person, dialog["id"], text=text, client_message_id="bad-1")
    body = problem(response, 422)
    assert body["code"] == "validation_error"
    assert await messages(world, dialog["id"], person) == []
    state = ok(await world.api.get(f"{DIALOGS}/{dialog['id']}", headers=person.headers))
    assert state["open_appeal"] is None
    assert state["last_message_at"] is None
    # The key was not used up.
    ok(await post(world, person, dialog["id"], text="Нормально", client_message_id="bad-1"), 201)


@pytest.mark.parametrize("body", [{}, {"text": None}, {"text": 5}, {"text": ["a"]}], ids=repr)
async def test_bad_message_body_is_422(world: World, body: dict[str, Any]) -> None:
    _, _, person, dialog = await pm_setup(world)
    response = await world.api.post(msg_url(dialog["id"]), json=body, headers=person.headers)
    problem(response, 422)
    assert await messages(world, dialog["id"], person) == []


async def test_text_limits_that_pass(world: World) -> None:
    _, _, person, dialog = await pm_setup(world, status="active")
    texts = [
        "x" * 4096,
        "😀" * 4096,
        "строка 1\nстрока 2\r\nстрока 3\tтаб",
        "  с пробелами по краям  ",
        "a",
    ]
    for text in texts:
        message = ok(await post(world, person, dialog["id"], text=text), 201)
        assert message["text"] == text
    stored = await messages(world, dialog["id"], person)
    assert [m["text"] for m in stored] == texts


async def test_text_stored_exactly(world: World) -> None:
    _, _, person, dialog = await pm_setup(world, status="active")
    texts = [
        "👨‍👩‍👧‍👦 семья, 🇷🇺 флаг, 👍🏽 кожа",
        "مرحبا بالعالم — שלום עולם",
        "\u202eобратный порядок\u202c и \u200fRTL mark",
        "e\u0301 и é разные, й и и\u0306 тоже",
        "<script>alert('x')</script> & \"кавычки\" 'одинарные'",
        "zero\u200bwidth\ufeffbom",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 вне BMP",
    ]
    for text in texts:
        message = ok(await post(world, person, dialog["id"], text=text), 201)
        assert message["text"] == text
    stored = await messages(world, dialog["id"], person)
    assert [m["text"] for m in stored] == texts


async def test_post_message_unknown_dialog_is_404(world: World) -> None:
    client = await world.client()
    problem(await post(world, client.persons[0], 999999, text="Эй"), 404)
    problem(await post(world, world.admin, 999999, text="Эй"), 404)


async def test_post_message_unauthorized(world: World) -> None:
    _, _, _, dialog = await pm_setup(world)
    await assert_unauthorized(world, "POST", msg_url(dialog["id"]), {"text": "Взлом"})
    assert await messages(world, dialog["id"]) == []


# --- GET /dialogs/{id}/messages ------------------------------------------------------------


async def test_messages_paging_after_and_before(world: World) -> None:
    manager, _, person, dialog = await pm_setup(world, status="active")
    sent = []
    for i in range(5):
        who = person if i % 2 == 0 else manager
        sent.append(await world.write(who, dialog["id"], f"сообщение {i}"))
    ids = [m["id"] for m in sent]
    url = msg_url(dialog["id"])

    async def page(query: str) -> dict[str, Any]:
        result: dict[str, Any] = ok(await world.api.get(f"{url}?{query}", headers=person.headers))
        assert_page(result)
        return result

    everything = await page("")
    assert [m["id"] for m in everything["items"]] == ids
    assert everything["next_cursor"] is None
    assert [m["author"]["type"] for m in everything["items"]] == [
        "person",
        "employee",
        "person",
        "employee",
        "person",
    ]
    # Without after/before: the latest page, oldest first within it; then back with before=.
    latest = await page("limit=2")
    assert [m["id"] for m in latest["items"]] == ids[3:]
    assert latest["next_cursor"] is not None
    older = await page(f"limit=2&before={ids[3]}")
    assert [m["id"] for m in older["items"]] == ids[1:3]
    oldest = await page(f"limit=2&before={ids[1]}")
    assert [m["id"] for m in oldest["items"]] == ids[:1]
    assert oldest["next_cursor"] is None
    # Forward with after=.
    forward = await page(f"limit=2&after={ids[0]}")
    assert [m["id"] for m in forward["items"]] == ids[1:3]
    assert forward["next_cursor"] is not None
    rest = await page(f"limit=2&after={ids[2]}")
    assert [m["id"] for m in rest["items"]] == ids[3:]
    assert rest["next_cursor"] is None
    assert (await page(f"after={ids[-1]}"))["items"] == []
    assert [m["id"] for m in (await page("after=0"))["items"]] == ids


async def test_messages_next_cursor_walks_the_history(world: World) -> None:
    _, _, person, dialog = await pm_setup(world, status="active")
    ids = [(await world.write(person, dialog["id"], f"m{i}"))["id"] for i in range(5)]
    url = msg_url(dialog["id"])
    seen: list[int] = []
    result = ok(await world.api.get(f"{url}?limit=2", headers=person.headers))
    seen = [m["id"] for m in result["items"]] + seen
    while result["next_cursor"] is not None:
        result = ok(
            await world.api.get(
                f"{url}?limit=2&before={result['next_cursor']}", headers=person.headers
            )
        )
        seen = [m["id"] for m in result["items"]] + seen
    assert seen == ids
    seen = []
    result = ok(await world.api.get(f"{url}?limit=2&after=0", headers=person.headers))
    seen += [m["id"] for m in result["items"]]
    while result["next_cursor"] is not None:
        result = ok(
            await world.api.get(
                f"{url}?limit=2&after={result['next_cursor']}", headers=person.headers
            )
        )
        seen += [m["id"] for m in result["items"]]
    assert seen == ids


@pytest.mark.parametrize(
    "query", ["limit=201", "limit=0", "after=x", "before=-1", "after=1&before=5"]
)
async def test_messages_bad_query_is_422(world: World, query: str) -> None:
    _, _, person, dialog = await pm_setup(world)
    response = await world.api.get(f"{msg_url(dialog['id'])}?{query}", headers=person.headers)
    problem(response, 422)


async def test_messages_unknown_dialog_is_404(world: World) -> None:
    problem(await world.api.get(msg_url(999999), headers=world.admin.headers), 404)


async def test_messages_unauthorized(world: World) -> None:
    _, _, _, dialog = await pm_setup(world)
    await assert_unauthorized(world, "GET", msg_url(dialog["id"]))


# --- POST /dialogs/{id}/read ---------------------------------------------------------------


async def test_read_marks_and_unread_count(world: World) -> None:
    manager, _, person, dialog = await pm_setup(world, status="active")
    sent = [await world.write(person, dialog["id"], f"вопрос {i}") for i in range(3)]
    item = await inbox_item(world, manager, dialog["id"])
    assert item["unread_count"] == 3
    response = await world.api.post(
        f"{DIALOGS}/{dialog['id']}/read",
        json={"up_to_message_id": sent[1]["id"]},
        headers=manager.headers,
    )
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert (await inbox_item(world, manager, dialog["id"]))["unread_count"] == 1
    # Read marks never go back.
    response = await world.api.post(
        f"{DIALOGS}/{dialog['id']}/read",
        json={"up_to_message_id": sent[0]["id"]},
        headers=manager.headers,
    )
    assert response.status_code == 204
    assert (await inbox_item(world, manager, dialog["id"]))["unread_count"] == 1
    ok(
        await world.api.post(
            f"{DIALOGS}/{dialog['id']}/read",
            json={"up_to_message_id": sent[2]["id"]},
            headers=manager.headers,
        ),
        204,
    )
    assert (await inbox_item(world, manager, dialog["id"]))["unread_count"] == 0
    # One's own messages are never unread; the other side's new one is.
    await world.write(manager, dialog["id"], "ответ")
    assert (await inbox_item(world, manager, dialog["id"]))["unread_count"] == 0
    await world.write(person, dialog["id"], "спасибо")
    assert (await inbox_item(world, manager, dialog["id"]))["unread_count"] == 1
    # The person marks read too.
    last = (await messages(world, dialog["id"], person))[-1]
    ok(
        await world.api.post(
            f"{DIALOGS}/{dialog['id']}/read",
            json={"up_to_message_id": last["id"]},
            headers=person.headers,
        ),
        204,
    )


async def test_read_message_of_another_dialog_is_422(world: World) -> None:
    manager, client, person, dialog = await pm_setup(world, status="active")
    general = await world.dialog(person, "general")
    elsewhere = await world.write(person, general["id"])
    await world.write(person, dialog["id"])
    response = await world.api.post(
        f"{DIALOGS}/{dialog['id']}/read",
        json={"up_to_message_id": elsewhere["id"]},
        headers=manager.headers,
    )
    problem(response, 422)
    assert (await inbox_item(world, manager, dialog["id"]))["unread_count"] == 1
    del client


@pytest.mark.parametrize(
    "body",
    [{}, {"up_to_message_id": "x"}, {"up_to_message_id": -1}, {"up_to_message_id": None}],
    ids=repr,
)
async def test_read_bad_body_is_422(world: World, body: dict[str, Any]) -> None:
    manager, _, person, dialog = await pm_setup(world)
    response = await world.api.post(
        f"{DIALOGS}/{dialog['id']}/read", json=body, headers=person.headers
    )
    problem(response, 422)
    del manager


async def test_read_unknown_dialog_is_404(world: World) -> None:
    response = await world.api.post(
        f"{DIALOGS}/999999/read", json={"up_to_message_id": 1}, headers=world.admin.headers
    )
    problem(response, 404)


async def test_read_unauthorized(world: World) -> None:
    _, _, _, dialog = await pm_setup(world)
    await assert_unauthorized(
        world, "POST", f"{DIALOGS}/{dialog['id']}/read", {"up_to_message_id": 0}
    )


# --- participants --------------------------------------------------------------------------


def part_url(dialog_id: int, employee_id: int | None = None) -> str:
    base = f"{DIALOGS}/{dialog_id}/participants"
    return base if employee_id is None else f"{base}/{employee_id}"


async def participants(world: World, dialog_id: int, who: Actor | None = None) -> list[int]:
    page = ok(await world.api.get(part_url(dialog_id), headers=(who or world.admin).headers), 200)
    return [p["employee_id"] for p in assert_page(page)]


async def test_participants_add_list_delete(world: World) -> None:
    manager, _, person, dialog = await pm_setup(world, status="active")
    colleague = await world.employee([], name="Юрист Коллегов")
    assert await participants(world, dialog["id"], manager) == []
    response = await world.api.post(
        part_url(dialog["id"]), json={"employee_id": colleague.id}, headers=manager.headers
    )
    added = ok(response, 201)
    assert added["employee_id"] == colleague.id
    assert added["full_name"] == "Юрист Коллегов"
    page = ok(await world.api.get(part_url(dialog["id"]), headers=person.headers), 200)
    items = assert_page(page)
    assert [p["employee_id"] for p in items] == [colleague.id]
    assert items[0]["full_name"] == "Юрист Коллегов"
    # The invited colleague reads, writes, and sees the dialog in their Inbox.
    assert await participants(world, dialog["id"], colleague) == [colleague.id]
    ok(await world.api.get(f"{DIALOGS}/{dialog['id']}", headers=colleague.headers), 200)
    await world.write(colleague, dialog["id"], "Подключился юрист")
    assert dialog["id"] in {i["dialog_id"] for i in await world.inbox(colleague)}
    # Removed: gone, and the dialog with it.
    response = await world.api.delete(part_url(dialog["id"], colleague.id), headers=manager.headers)
    assert response.status_code == 204, response.text
    assert await participants(world, dialog["id"], manager) == []
    problem(await world.api.get(f"{DIALOGS}/{dialog['id']}", headers=colleague.headers), 404)
    assert dialog["id"] not in {i["dialog_id"] for i in await world.inbox(colleague)}


async def test_participant_removes_themself(world: World) -> None:
    manager, _, _, dialog = await pm_setup(world)
    colleague = await world.employee([])
    ok(
        await world.api.post(
            part_url(dialog["id"]), json={"employee_id": colleague.id}, headers=manager.headers
        ),
        201,
    )
    response = await world.api.delete(
        part_url(dialog["id"], colleague.id), headers=colleague.headers
    )
    assert response.status_code == 204, response.text
    assert await participants(world, dialog["id"]) == []


async def test_supervisor_manages_participants(world: World) -> None:
    _, _, _, dialog = await pm_setup(world)
    supervisor = await world.supervisor()
    colleague = await world.employee([])
    ok(
        await world.api.post(
            part_url(dialog["id"]), json={"employee_id": colleague.id}, headers=supervisor.headers
        ),
        201,
    )
    assert await participants(world, dialog["id"]) == [colleague.id]
    response = await world.api.delete(
        part_url(dialog["id"], colleague.id), headers=supervisor.headers
    )
    assert response.status_code == 204


async def test_participants_not_in_general_chat(world: World) -> None:
    client = await world.client()
    dialog = await world.dialog(client.persons[0], "general")
    colleague = await world.employee([])
    response = await world.api.post(
        part_url(dialog["id"]), json={"employee_id": colleague.id}, headers=world.admin.headers
    )
    problem(response, 409, "not_a_personal_manager_dialog")
    assert await participants(world, dialog["id"]) == []


async def test_participant_cannot_invite_or_remove_others(world: World) -> None:
    manager, _, person, dialog = await pm_setup(world)
    first, second = await world.employee([]), await world.employee([])
    ok(
        await world.api.post(
            part_url(dialog["id"]), json={"employee_id": first.id}, headers=manager.headers
        ),
        201,
    )
    ok(
        await world.api.post(
            part_url(dialog["id"]), json={"employee_id": second.id}, headers=manager.headers
        ),
        201,
    )
    third = await world.employee([])
    # SPEC 7.3: whoever the table does not name for an action gets 404, readers of the dialog too.
    response = await world.api.post(
        part_url(dialog["id"]), json={"employee_id": third.id}, headers=first.headers
    )
    problem(response, 404)
    problem(await world.api.delete(part_url(dialog["id"], second.id), headers=first.headers), 404)
    # The person cannot either.
    response = await world.api.post(
        part_url(dialog["id"]), json={"employee_id": third.id}, headers=person.headers
    )
    problem(response, 404)
    problem(await world.api.delete(part_url(dialog["id"], first.id), headers=person.headers), 404)
    assert await participants(world, dialog["id"]) == [first.id, second.id]


async def test_participants_refused_to_outsiders(world: World) -> None:
    manager, _, _, dialog = await pm_setup(world)
    outsider = await world.operator()
    colleague = await world.employee([])
    problem(await world.api.get(part_url(dialog["id"]), headers=outsider.headers), 404)
    response = await world.api.post(
        part_url(dialog["id"]), json={"employee_id": colleague.id}, headers=outsider.headers
    )
    problem(response, 404)
    ok(
        await world.api.post(
            part_url(dialog["id"]), json={"employee_id": colleague.id}, headers=manager.headers
        ),
        201,
    )
    problem(
        await world.api.delete(part_url(dialog["id"], colleague.id), headers=outsider.headers), 404
    )
    assert await participants(world, dialog["id"]) == [colleague.id]


async def test_participants_bad_target(world: World) -> None:
    manager, _, _, dialog = await pm_setup(world)
    response = await world.api.post(
        part_url(dialog["id"]), json={"employee_id": 999999}, headers=manager.headers
    )
    problem(response, 422, "employee_not_found")
    response = await world.api.post(
        part_url(dialog["id"]), json={"employee_id": "x"}, headers=manager.headers
    )
    problem(response, 422)
    # Removing someone not invited: 404.
    colleague = await world.employee([])
    problem(
        await world.api.delete(part_url(dialog["id"], colleague.id), headers=manager.headers), 404
    )
    assert await participants(world, dialog["id"]) == []


async def test_participants_unknown_dialog_is_404(world: World) -> None:
    colleague = await world.employee([])
    problem(await world.api.get(part_url(999999), headers=world.admin.headers), 404)
    response = await world.api.post(
        part_url(999999), json={"employee_id": colleague.id}, headers=world.admin.headers
    )
    problem(response, 404)
    problem(
        await world.api.delete(part_url(999999, colleague.id), headers=world.admin.headers), 404
    )


async def test_participants_limit_above_200_is_422(world: World) -> None:
    _, _, _, dialog = await pm_setup(world)
    problem(
        await world.api.get(f"{part_url(dialog['id'])}?limit=201", headers=world.admin.headers), 422
    )


async def test_participants_unauthorized(world: World) -> None:
    manager, _, _, dialog = await pm_setup(world)
    colleague = await world.employee([])
    await assert_unauthorized(world, "GET", part_url(dialog["id"]))
    await assert_unauthorized(world, "POST", part_url(dialog["id"]), {"employee_id": colleague.id})
    ok(
        await world.api.post(
            part_url(dialog["id"]), json={"employee_id": colleague.id}, headers=manager.headers
        ),
        201,
    )
    await assert_unauthorized(world, "DELETE", part_url(dialog["id"], colleague.id))
    assert await participants(world, dialog["id"]) == [colleague.id]
