"""SPEC §7: the Inbox, bank secrecy, and who may do what with a dialog."""

from __future__ import annotations

from tests.scenarios.steps import (
    GENERAL,
    LABEL_EN,
    LABEL_RU,
    PM,
    assigned_to,
    close,
    employee_dialog,
    get_dialog,
    invite,
    person_dialogs,
    pm_client,
    post,
    problem,
    refused,
    uninvite,
)
from tests.support import World, ok


async def test_spec_7_1_inbox_lists_what_the_employee_works_on(world: World) -> None:
    manager = await world.employee(["general_chat"], status="active", name="Менеджер")
    colleague = await world.manager()
    mine_client = await world.client(name="ООО Ромашка", kind="legal_entity", manager=manager)
    mine = mine_client.persons[0]
    other_manager = await world.manager()
    theirs = (await world.client(name="ИП Васильков", manager=other_manager)).persons[0]
    stranger = (await world.client(name="Посторонний")).persons[0]

    # A PM dialog of my client, no appeal yet: I am its responsible PM.
    quiet = await world.dialog(mine, PM)
    # A general appeal routed to me (I hold `general_chat`).
    general = await world.ask(stranger, GENERAL, "Общий вопрос")
    assigned_to(general, manager, "routed")
    # A dialog I am invited into.
    invited_into = (await world.dialog(theirs, PM))["id"]
    ok(await invite(world, other_manager, invited_into, manager), 201)
    ok(await invite(world, other_manager, invited_into, colleague), 201)

    inbox = await world.inbox(manager)
    assert {i["dialog_id"] for i in inbox} == {quiet["id"], general["dialog_id"], invited_into}
    by_id = {i["dialog_id"]: i for i in inbox}
    assert by_id[quiet["id"]]["kind"] == PM
    assert by_id[quiet["id"]]["label"] == "Чат с персональным менеджером"
    assert by_id[quiet["id"]]["client"]["id"] == mine_client.id
    assert by_id[quiet["id"]]["client"]["name"] == "ООО Ромашка"
    assert by_id[quiet["id"]]["person"]["id"] == mine.id
    assert by_id[quiet["id"]]["open_appeal"] is None
    assert by_id[quiet["id"]]["last_message"] is None
    assert by_id[general["dialog_id"]]["kind"] == GENERAL
    assert by_id[general["dialog_id"]]["label"] == "Общий чат"
    assert by_id[general["dialog_id"]]["last_message"]["text"] == "Общий вопрос"
    assert by_id[general["dialog_id"]]["open_appeal"]["status"] == "assigned"
    assert by_id[general["dialog_id"]]["unread_count"] == 1

    # The colleague sees only what they are invited into.
    assert [i["dialog_id"] for i in await world.inbox(colleague)] == [invited_into]

    # A general dialog is visible only while its appeal is held.
    await world.close(manager, general["id"])
    assert general["dialog_id"] not in {i["dialog_id"] for i in await world.inbox(manager)}


async def test_spec_7_1_labels_verbatim_in_russian_and_english(world: World) -> None:
    manager = await world.employee(["general_chat"], status="active")
    _, person = await pm_client(world, manager)
    pm_dialog = await world.ask(person, PM)
    general = await world.ask(person, GENERAL)

    # Russian by default, and when Russian is preferred.
    for headers in ({}, {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}):
        listed = await person_dialogs(world, person, **headers)
        assert listed[PM]["label"] == "Чат с персональным менеджером"
        assert listed[GENERAL]["label"] == "Общий чат"
        for appeal, kind in ((pm_dialog, PM), (general, GENERAL)):
            shown = ok(await get_dialog(world, manager, appeal["dialog_id"], **headers))
            assert shown["label"] == LABEL_RU[kind]
        inbox = ok(await world.api.get("/api/v1/inbox", headers={**manager.headers, **headers}))[
            "items"
        ]
        assert {i["kind"]: i["label"] for i in inbox} == LABEL_RU

    # English when preferred.
    for value in ("en", "en-US,en;q=0.9,ru;q=0.5"):
        listed = await person_dialogs(world, person, **{"Accept-Language": value})
        assert listed[PM]["label"] == "Chat with personal manager"
        assert listed[GENERAL]["label"] == "General chat"
        shown = ok(
            await get_dialog(world, person, pm_dialog["dialog_id"], **{"Accept-Language": value})
        )
        assert shown["label"] == LABEL_EN[PM]
        inbox = ok(
            await world.api.get(
                "/api/v1/inbox", headers={**manager.headers, "Accept-Language": value}
            )
        )["items"]
        assert {i["kind"]: i["label"] for i in inbox} == LABEL_EN
        created = ok(
            await world.api.post(
                "/api/v1/dialogs",
                json={"kind": GENERAL},
                headers={**person.headers, "Accept-Language": value},
            )
        )
        assert created["label"] == "General chat"


async def test_spec_7_1_newest_activity_first(world: World) -> None:
    manager = await world.manager(status="active")
    persons = [(await pm_client(world, manager))[1] for _ in range(3)]
    dialogs = [(await world.dialog(p, PM))["id"] for p in persons]
    for person, dialog_id in zip(persons, dialogs, strict=True):
        await world.write(person, dialog_id, "Привет")
    assert [i["dialog_id"] for i in await world.inbox(manager)] == dialogs[::-1]
    await world.write(persons[0], dialogs[0], "Ещё раз")
    assert [i["dialog_id"] for i in await world.inbox(manager)] == [
        dialogs[0],
        dialogs[2],
        dialogs[1],
    ]
    # Paging keeps the order.
    first = ok(await world.api.get("/api/v1/inbox?limit=2", headers=manager.headers))
    assert [i["dialog_id"] for i in first["items"]] == [dialogs[0], dialogs[2]]
    assert first["next_cursor"]
    rest = ok(
        await world.api.get(
            "/api/v1/inbox",
            params={"limit": 2, "cursor": first["next_cursor"]},
            headers=manager.headers,
        )
    )
    assert [i["dialog_id"] for i in rest["items"]] == [dialogs[1]]
    assert rest["next_cursor"] is None


async def test_spec_7_1_unread_counts_and_filters(world: World) -> None:
    manager = await world.employee(["general_chat"], status="offline")
    rom = await world.client(name="ООО Ромашка", manager=manager)
    lil = await world.client(name="АО Лилия", manager=manager)
    rom_dialog = (await world.dialog(rom.persons[0], PM))["id"]
    lil_dialog = (await world.dialog(lil.persons[0], PM))["id"]
    await world.write(rom.persons[0], rom_dialog, "Один")
    await world.write(rom.persons[0], rom_dialog, "Два")
    await world.set_status(manager, "active")  # the Ромашка appeal is now assigned
    general = await world.ask(rom.persons[0], GENERAL)
    assigned_to(general, manager, "routed")

    by_id = {i["dialog_id"]: i for i in await world.inbox(manager)}
    assert by_id[rom_dialog]["unread_count"] == 2
    assert by_id[lil_dialog]["unread_count"] == 0
    assert by_id[rom_dialog]["last_message"]["text"] == "Два"

    def ids(items: list[dict[str, object]]) -> set[object]:
        return {i["dialog_id"] for i in items}

    assert ids(await world.inbox(manager, "&kind=personal_manager")) == {rom_dialog, lil_dialog}
    assert ids(await world.inbox(manager, "&kind=general")) == {general["dialog_id"]}
    assert ids(await world.inbox(manager, "&state=assigned")) == {
        rom_dialog,
        general["dialog_id"],
    }
    assert ids(await world.inbox(manager, "&state=none")) == {lil_dialog}
    assert ids(await world.inbox(manager, "&unread=true")) == {rom_dialog, general["dialog_id"]}
    assert ids(await world.inbox(manager, "&q=ромашка")) == {rom_dialog, general["dialog_id"]}
    assert ids(await world.inbox(manager, "&q=ЛИЛ")) == {lil_dialog}
    assert ids(await world.inbox(manager, "&q=нет такого")) == set()

    # Reading clears the count; my own messages never count.
    last = by_id[rom_dialog]["last_message"]["id"]
    response = await world.api.post(
        f"/api/v1/dialogs/{rom_dialog}/read",
        json={"up_to_message_id": last},
        headers=manager.headers,
    )
    assert response.status_code == 204
    await world.write(manager, rom_dialog, "Ответ")
    by_id = {i["dialog_id"]: i for i in await world.inbox(manager)}
    assert by_id[rom_dialog]["unread_count"] == 0
    assert ids(await world.inbox(manager, "&unread=false")) == {rom_dialog, lil_dialog}

    # A queued appeal shows its state.
    await world.set_status(manager, "break")
    queued = {i["dialog_id"]: i for i in await world.inbox(manager, "&state=queued")}
    assert set(queued) == {rom_dialog}
    assert queued[rom_dialog]["open_appeal"]["reason"] == "waiting_for_personal_manager"


async def test_spec_7_2_outsiders_get_404_everywhere(world: World) -> None:
    manager = await world.manager(status="active")
    outsider = await world.operator()
    _, person = await pm_client(world, manager)
    appeal = await world.ask(person, PM, "Секрет")
    dialog_id = appeal["dialog_id"]
    other_person = (await world.client()).persons[0]

    for who in (outsider, other_person):
        problem(await get_dialog(world, who, dialog_id), 404)
        problem(await post(world, who, dialog_id), 404)
        problem(
            await world.api.get(f"/api/v1/dialogs/{dialog_id}/messages", headers=who.headers),
            404,
        )
        problem(
            await world.api.get(f"/api/v1/dialogs/{dialog_id}/participants", headers=who.headers),
            404,
        )
        problem(
            await world.api.post(
                f"/api/v1/dialogs/{dialog_id}/read",
                json={"up_to_message_id": 0},
                headers=who.headers,
            ),
            404,
        )
        problem(await world.api.get(f"/api/v1/appeals/{appeal['id']}", headers=who.headers), 404)
        problem(
            await world.api.get(f"/api/v1/appeals/{appeal['id']}/history", headers=who.headers),
            404,
        )
        problem(await close(world, who, appeal["id"]), 404)
        refused(await invite(world, who, dialog_id, outsider))
    problem(
        await world.api.get(f"/api/v1/clients/{person.client_id}", headers=outsider.headers), 404
    )
    assert await world.inbox(outsider) == []
    # Nothing leaked into the dialog.
    texts = [
        m["text"]
        for m in ok(
            await world.api.get(f"/api/v1/dialogs/{dialog_id}/messages", headers=person.headers)
        )["items"]
    ]
    assert texts == ["Секрет"]


async def test_spec_7_2_queue_only_for_supervisors(world: World) -> None:
    manager = await world.manager(status="offline")
    _, person = await pm_client(world, manager)
    appeal = await world.ask(person, PM)
    for who in (await world.operator(), manager, person):
        refused(await world.api.get("/api/v1/queue", headers=who.headers))
    supervisor = await world.supervisor()
    queue = ok(await world.api.get("/api/v1/queue", headers=supervisor.headers))["items"]
    assert len(queue) == 1
    item = queue[0]
    assert item["id"] == appeal["id"]
    assert item["reason"] == "waiting_for_personal_manager"
    assert item["waiting_for"]["id"] == manager.id
    assert isinstance(item["waiting_seconds"], int) and item["waiting_seconds"] >= 0


async def test_spec_7_2_supervisor_sees_every_dialog(world: World) -> None:
    manager = await world.manager()
    _, person = await pm_client(world, manager)
    pm = await world.ask(person, PM, "В чат менеджера")
    general = await world.ask(person, GENERAL, "В общий чат")
    supervisor = await world.supervisor()
    for appeal in (pm, general):
        shown = ok(await get_dialog(world, supervisor, appeal["dialog_id"]))
        assert shown["open_appeal"]["id"] == appeal["id"]
        ok(
            await world.api.get(
                f"/api/v1/appeals/{appeal['id']}/history", headers=supervisor.headers
            )
        )
        ok(await post(world, supervisor, appeal["dialog_id"], "Супервайзер"), 201)


async def test_spec_7_2_person_sees_only_own_dialogs(world: World) -> None:
    manager = await world.manager(status="active")
    client = await world.client(kind="legal_entity", manager=manager, persons=2)
    first, second = client.persons
    first_pm = await world.ask(first, PM)
    first_general = await world.ask(first, GENERAL)
    # Even a fellow representative of the same client sees none of it.
    for appeal in (first_pm, first_general):
        problem(await get_dialog(world, second, appeal["dialog_id"]), 404)
        problem(await post(world, second, appeal["dialog_id"]), 404)
        problem(await world.api.get(f"/api/v1/appeals/{appeal['id']}", headers=second.headers), 404)
    listed = await person_dialogs(world, second)
    assert first_pm["dialog_id"] not in {d["id"] for d in listed.values()}
    problem(
        await world.api.post(
            "/api/v1/dialogs", json={"kind": PM, "person_id": first.id}, headers=second.headers
        ),
        404,
    )
    # Employee-only endpoints refuse persons.
    refused(await world.api.get("/api/v1/inbox", headers=second.headers))
    refused(await world.api.get(f"/api/v1/clients/{client.id}", headers=second.headers))


async def test_spec_7_3_who_may_create_a_dialog(world: World) -> None:
    manager = await world.manager()
    colleague = await world.manager()
    operator = await world.operator()
    supervisor = await world.supervisor()
    _, person = await pm_client(world, manager)
    stranger_person = (await world.client()).persons[0]

    # The PM: PM dialogs of their own clients only.
    created = await employee_dialog(world, manager, person, PM)
    assert created.status_code == 201
    assert (await employee_dialog(world, manager, person, PM)).status_code == 200
    problem(await employee_dialog(world, manager, person, GENERAL), 404)
    problem(await employee_dialog(world, manager, stranger_person, PM), 404)
    ok(await invite(world, manager, created.json()["id"], colleague), 201)
    # Invitees, operators: nothing.
    for who in (colleague, operator):
        for kind in (PM, GENERAL):
            problem(await employee_dialog(world, who, person, kind), 404)
    # The supervisor: any.
    assert (await employee_dialog(world, supervisor, stranger_person, GENERAL)).status_code == 201
    assert (await employee_dialog(world, supervisor, person, PM)).status_code == 200


async def test_spec_7_3_who_may_invite_and_remove(world: World) -> None:
    a = await world.manager(status="active")
    b = await world.manager(status="active")
    colleague = await world.manager()
    extra = await world.manager()
    client, person = await pm_client(world, a)
    appeal = await world.ask(person, PM)
    dialog_id = appeal["dialog_id"]
    await world.set_manager(client, b)  # A: previous PM still holding the appeal

    refused(await invite(world, person, dialog_id, colleague))
    refused(await invite(world, a, dialog_id, colleague))
    ok(await invite(world, b, dialog_id, colleague), 201)
    refused(await invite(world, colleague, dialog_id, extra))
    ok(await invite(world, world.admin, dialog_id, extra), 201)

    refused(await uninvite(world, person, dialog_id, colleague))
    refused(await uninvite(world, a, dialog_id, colleague))
    refused(await uninvite(world, extra, dialog_id, colleague))
    assert (await uninvite(world, extra, dialog_id, extra)).status_code == 204
    assert (await uninvite(world, b, dialog_id, colleague)).status_code == 204
    shown = ok(await get_dialog(world, b, dialog_id))
    assert shown["participants"] == []


async def test_spec_7_3_who_may_close(world: World) -> None:
    a = await world.manager(status="active")
    b = await world.manager(status="active")
    colleague = await world.manager()
    client, person = await pm_client(world, a)
    appeal = await world.ask(person, PM)
    ok(await invite(world, a, appeal["dialog_id"], colleague), 201)
    await world.set_manager(client, b)

    refused(await close(world, b, appeal["id"]))  # responsible PM, not holding it
    refused(await close(world, colleague, appeal["id"]))  # invited
    assigned_to(await world.appeal(appeal["id"]), a, "personal_manager_active")
    # The previous PM still holding it may.
    closed = await world.close(a, appeal["id"])
    assert closed["reason"] == "closed_by_employee"

    # The person may close their own; a supervisor may close any.
    second = await world.ask(person, PM)
    assigned_to(second, b, "personal_manager_active")
    assert (await world.close(person, second["id"]))["reason"] == "closed_by_person"
    third = await world.ask(person, PM)
    assert (await world.close(await world.supervisor(), third["id"]))["status"] == "closed"


async def test_spec_7_3_read_and_post_by_every_role(world: World) -> None:
    a = await world.manager(status="active")
    b = await world.manager(status="active")
    colleague = await world.manager()
    supervisor = await world.supervisor()
    client, person = await pm_client(world, a)
    appeal = await world.ask(person, PM, "Начало")
    dialog_id = appeal["dialog_id"]
    ok(await invite(world, a, dialog_id, colleague), 201)
    await world.set_manager(client, b)

    for who in (person, a, b, colleague, supervisor):
        ok(await get_dialog(world, who, dialog_id))
        message = ok(await post(world, who, dialog_id, f"Пишет {who.name}"), 201)
        assert message["appeal_id"] == appeal["id"]
    # Posting moved nothing: A (previous PM, still active) holds it.
    assigned_to(await world.appeal(appeal["id"]), a, "personal_manager_active")


async def test_spec_7_3_general_dialog_visible_to_operator_only_while_holding(
    world: World,
) -> None:
    operator = await world.operator()
    person = (await world.client()).persons[0]
    appeal = await world.ask(person, GENERAL, "Первое")
    assigned_to(appeal, operator, "routed")
    ok(await get_dialog(world, operator, appeal["dialog_id"]))
    await world.close(operator, appeal["id"])
    problem(await get_dialog(world, operator, appeal["dialog_id"]), 404)

    # The next appeal in the same dialog goes to someone else: the first operator stays out.
    await world.set_status(operator, "break")
    other = await world.operator()
    later = await world.ask(person, GENERAL, "Второе")
    assigned_to(later, other, "routed")
    problem(await get_dialog(world, operator, appeal["dialog_id"]), 404)
    history = ok(
        await world.api.get(
            f"/api/v1/dialogs/{appeal['dialog_id']}/messages", headers=other.headers
        )
    )["items"]
    assert [m["text"] for m in history] == ["Первое", "Второе"]


async def test_spec_7_2_manager_does_not_see_their_clients_general_chat(world: World) -> None:
    manager = await world.manager(status="active")
    operator = await world.operator()
    _, person = await pm_client(world, manager)
    general = await world.ask(person, GENERAL, "Вопрос в общий чат")
    assigned_to(general, operator, "routed")
    problem(await get_dialog(world, manager, general["dialog_id"]), 404)
    problem(await post(world, manager, general["dialog_id"]), 404)
    problem(await world.api.get(f"/api/v1/appeals/{general['id']}", headers=manager.headers), 404)
    assert general["dialog_id"] not in {i["dialog_id"] for i in await world.inbox(manager)}
