"""API.md "Appeals, queue, inbox": GET /queue (`supervise`) and GET /inbox (employees)."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import pytest

from tests.api.helpers import (
    APPEAL_FIELDS,
    LABEL_EN,
    LABEL_RU,
    MESSAGE_FIELDS,
    assert_page,
    assert_unauthorized,
    collect,
    problem,
)
from tests.support import ALL_PERMISSIONS, Emp, World, ok

QUEUE = "/api/v1/queue"
INBOX = "/api/v1/inbox"
INBOX_FIELDS = {
    "dialog_id",
    "kind",
    "label",
    "client",
    "person",
    "last_message",
    "unread_count",
    "open_appeal",
}


# --- GET /queue ----------------------------------------------------------------------------


async def test_queue_oldest_first_with_reason_and_waiting(world: World) -> None:
    manager = await world.manager(status="offline")
    g1 = await world.ask((await world.client()).persons[0], "general")
    p1 = await world.ask((await world.client(manager=manager)).persons[0], "personal_manager")
    g2 = await world.ask((await world.client()).persons[0], "general")
    await asyncio.sleep(1.1)
    supervisor = await world.supervisor()
    page = ok(await world.api.get(QUEUE, headers=supervisor.headers), 200)
    items = assert_page(page)
    assert [i["id"] for i in items] == [g1["id"], p1["id"], g2["id"]]
    for item in items:
        assert APPEAL_FIELDS | {"waiting_seconds"} <= item.keys()
        assert item["status"] == "queued"
        assert item["assignee"] is None
        assert isinstance(item["waiting_seconds"], int)
        assert item["waiting_seconds"] >= 1
    assert items[0]["waiting_seconds"] >= items[2]["waiting_seconds"]
    general, pm = items[0], items[1]
    assert general["kind"] == "general"
    assert general["reason"] == "no_eligible_operator"
    assert general["waiting_for"] is None
    assert pm["kind"] == "personal_manager"
    assert pm["reason"] == "waiting_for_personal_manager"
    assert pm["waiting_for"] == {"id": manager.id, "full_name": manager.name}
    # Assigned appeals leave the queue.
    await world.operator(limit=5)
    items = assert_page(ok(await world.api.get(QUEUE, headers=supervisor.headers), 200))
    assert [i["id"] for i in items] == [p1["id"]]


async def test_queue_paging(world: World) -> None:
    made = [await world.ask((await world.client()).persons[0], "general") for _ in range(5)]
    items, pages = await collect(world.api, QUEUE, world.admin.headers, 2)
    assert [i["id"] for i in items] == [a["id"] for a in made]
    assert pages == 3
    problem(await world.api.get(f"{QUEUE}?limit=201", headers=world.admin.headers), 422)


async def test_queue_empty(world: World) -> None:
    body = ok(await world.api.get(QUEUE, headers=world.admin.headers), 200)
    assert body == {"items": [], "next_cursor": None}


async def test_queue_needs_supervise(world: World) -> None:
    client = await world.client()
    await world.ask(client.persons[0], "general")
    emp = await world.employee([p for p in ALL_PERMISSIONS if p != "supervise"])
    problem(await world.api.get(QUEUE, headers=emp.headers), 403)
    problem(await world.api.get(QUEUE, headers=client.persons[0].headers), 403)


async def test_queue_unauthorized(world: World) -> None:
    await assert_unauthorized(world, "GET", QUEUE)


# --- GET /inbox ----------------------------------------------------------------------------


async def inbox_world(world: World) -> tuple[Emp, dict[str, int]]:
    """An active manager-operator M with four dialogs in the Inbox, in this order of activity:
    idle (M's client, no message), invited (another PM's chat, queued), general (assigned to M),
    pm (M's client, assigned)."""
    m = await world.employee(["general_chat"], status="active", name="Менеджер М")
    other_pm = await world.manager(status="offline")
    c_idle = await world.client(name="ЗАО Гамма", manager=m)
    c_invited = await world.client(name="ИП Дельта", manager=other_pm)
    c_general = await world.client(name="Альфа Банк Клиент")
    c_pm = await world.client(name="ООО «Альфа-Строй»", manager=m)
    idle = await world.dialog(c_idle.persons[0], "personal_manager")
    invited = await world.dialog(c_invited.persons[0], "personal_manager")
    ok(
        await world.api.post(
            f"/api/v1/dialogs/{invited['id']}/participants",
            json={"employee_id": m.id},
            headers=other_pm.headers,
        ),
        201,
    )
    await world.write(c_invited.persons[0], invited["id"], "Жду своего менеджера")
    general = await world.ask(c_general.persons[0], "general", "Общий вопрос")
    assert general["assignee"]["id"] == m.id
    pm = await world.ask(c_pm.persons[0], "personal_manager", "Вопрос менеджеру")
    assert pm["assignee"]["id"] == m.id
    # Someone else's dialogs never show.
    await world.ask(
        (await world.client(name="Альфа Чужой", manager=other_pm)).persons[0], "personal_manager"
    )
    ids = {
        "idle": idle["id"],
        "invited": invited["id"],
        "general": general["dialog_id"],
        "pm": pm["dialog_id"],
    }
    return m, ids


async def inbox_ids(world: World, who: Emp, query: str = "") -> list[int]:
    page = ok(await world.api.get(f"{INBOX}?limit=200{query}", headers=who.headers), 200)
    return [i["dialog_id"] for i in assert_page(page)]


async def test_inbox_items_newest_activity_first(world: World) -> None:
    m, ids = await inbox_world(world)
    page = ok(await world.api.get(INBOX, headers=m.headers), 200)
    items = assert_page(page)
    assert [i["dialog_id"] for i in items] == [
        ids["pm"],
        ids["general"],
        ids["invited"],
        ids["idle"],
    ]
    by_id = {i["dialog_id"]: i for i in items}
    for item in items:
        assert item.keys() >= INBOX_FIELDS
        assert item["label"] == LABEL_RU[item["kind"]]
        assert {"id", "name"} <= item["client"].keys()
        assert {"id", "name"} <= item["person"].keys()
    pm = by_id[ids["pm"]]
    assert pm["kind"] == "personal_manager"
    assert pm["client"]["name"] == "ООО «Альфа-Строй»"
    assert pm["last_message"].keys() >= MESSAGE_FIELDS
    assert pm["last_message"]["text"] == "Вопрос менеджеру"
    assert pm["unread_count"] == 1
    assert pm["open_appeal"].keys() >= APPEAL_FIELDS
    assert pm["open_appeal"]["status"] == "assigned"
    assert by_id[ids["general"]]["kind"] == "general"
    assert by_id[ids["invited"]]["open_appeal"]["status"] == "queued"
    idle = by_id[ids["idle"]]
    assert idle["last_message"] is None
    assert idle["unread_count"] == 0
    assert idle["open_appeal"] is None
    english = ok(await world.api.get(INBOX, headers={**m.headers, "Accept-Language": "en"}))
    assert [i["label"] for i in english["items"]] == [LABEL_EN[i["kind"]] for i in items]


async def test_inbox_filters(world: World) -> None:
    m, ids = await inbox_world(world)
    assert await inbox_ids(world, m, "&kind=general") == [ids["general"]]
    assert await inbox_ids(world, m, "&kind=personal_manager") == [
        ids["pm"],
        ids["invited"],
        ids["idle"],
    ]
    assert await inbox_ids(world, m, "&state=assigned") == [ids["pm"], ids["general"]]
    assert await inbox_ids(world, m, "&state=queued") == [ids["invited"]]
    assert await inbox_ids(world, m, "&unread=true") == [ids["pm"], ids["general"], ids["invited"]]
    assert await inbox_ids(world, m, "&unread=false") == [ids["idle"]]
    assert await inbox_ids(world, m, f"&q={quote('альфа')}") == [ids["pm"], ids["general"]]
    assert await inbox_ids(world, m, f"&q={quote('АЛЬФА-СТРОЙ')}") == [ids["pm"]]
    assert await inbox_ids(world, m, f"&q={quote('дельта')}") == [ids["invited"]]
    assert await inbox_ids(world, m, f"&q={quote('нет такого')}") == []
    assert await inbox_ids(
        world, m, f"&kind=personal_manager&state=assigned&q={quote('альфа')}"
    ) == [ids["pm"]]
    # Read: no longer unread.
    last = (await world.api.get(f"/api/v1/dialogs/{ids['pm']}", headers=m.headers)).json()
    assert last["open_appeal"] is not None
    messages = ok(await world.api.get(f"/api/v1/dialogs/{ids['pm']}/messages", headers=m.headers))
    ok(
        await world.api.post(
            f"/api/v1/dialogs/{ids['pm']}/read",
            json={"up_to_message_id": messages["items"][-1]["id"]},
            headers=m.headers,
        ),
        204,
    )
    assert await inbox_ids(world, m, "&unread=true") == [ids["general"], ids["invited"]]


async def test_inbox_cursor_paging(world: World) -> None:
    m, ids = await inbox_world(world)
    items, pages = await collect(world.api, INBOX, m.headers, 2)
    assert [i["dialog_id"] for i in items] == [
        ids["pm"],
        ids["general"],
        ids["invited"],
        ids["idle"],
    ]
    assert pages == 2
    items, pages = await collect(world.api, f"{INBOX}?kind=personal_manager", m.headers, 1)
    assert [i["dialog_id"] for i in items] == [ids["pm"], ids["invited"], ids["idle"]]
    assert pages == 3


async def test_inbox_closed_general_dialog_leaves(world: World) -> None:
    operator = await world.operator()
    appeal = await world.ask((await world.client()).persons[0], "general")
    assert await inbox_ids(world, operator) == [appeal["dialog_id"]]
    await world.close(operator, appeal["id"])
    assert await inbox_ids(world, operator) == []


@pytest.mark.parametrize(
    "query",
    ["limit=201", "limit=0", "kind=chat", "state=lost", "unread=perhaps", "cursor=garbage"],
)
async def test_inbox_bad_query_is_422(world: World, query: str) -> None:
    emp = await world.operator()
    problem(await world.api.get(f"{INBOX}?{query}", headers=emp.headers), 422)


async def test_inbox_person_is_403(world: World) -> None:
    client = await world.client()
    problem(await world.api.get(INBOX, headers=client.persons[0].headers), 403)


async def test_inbox_unauthorized(world: World) -> None:
    await assert_unauthorized(world, "GET", INBOX)


async def test_inbox_unread_counts_are_per_dialog_with_several_dialogs_read_and_unread(
    world: World,
) -> None:
    """Regression: the read-mark subquery must be correlated to each dialog (SPEC 7.1)."""
    manager = await world.manager(status="active")
    colleague = await world.operator(limit=2)
    dialogs = []
    for n in range(3):
        client = await world.client(manager=manager)
        person = client.persons[0]
        dialog = await world.dialog(person, "personal_manager")
        ok(
            await world.api.post(
                f"/api/v1/dialogs/{dialog['id']}/participants",
                json={"employee_id": colleague.id},
                headers=manager.headers,
            ),
            201,
        )
        for i in range(n + 1):
            await world.write(person, dialog["id"], f"сообщение {i}")
        dialogs.append(dialog["id"])
    # the colleague reads the first dialog and answers in the second
    first_messages = ok(
        await world.api.get(f"/api/v1/dialogs/{dialogs[0]}/messages", headers=colleague.headers)
    )["items"]
    ok(
        await world.api.post(
            f"/api/v1/dialogs/{dialogs[0]}/read",
            json={"up_to_message_id": first_messages[-1]["id"]},
            headers=colleague.headers,
        ),
        204,
    )
    await world.write(colleague, dialogs[1], "ответ")
    items = {i["dialog_id"]: i for i in await world.inbox(colleague)}
    assert items[dialogs[0]]["unread_count"] == 0
    assert items[dialogs[1]]["unread_count"] == 0
    assert items[dialogs[2]]["unread_count"] == 3
    unread = [i["dialog_id"] for i in await world.inbox(colleague, "&unread=true")]
    assert unread == [dialogs[2]]
    manager_view = {i["dialog_id"]: i for i in await world.inbox(manager)}
    assert [manager_view[d]["unread_count"] for d in dialogs] == [1, 3, 3]
