"""API.md "Clients, persons, personal managers": clients, persons and person tokens."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from tests.api.helpers import (
    assert_page,
    assert_unauthorized,
    collect,
    problem,
)
from tests.support import ALL_PERMISSIONS, World, auth, ok

CLIENTS = "/api/v1/clients"
CLIENT_FIELDS = {"id", "kind", "name", "external_id", "personal_manager"}
PERSON_FIELDS = {"id", "client_id", "name", "external_id", "is_enabled"}


async def create_client(world: World, **body: Any) -> dict[str, Any]:
    body.setdefault("kind", "individual")
    body.setdefault("name", "Клиент")
    result: dict[str, Any] = ok(
        await world.api.post(CLIENTS, json=body, headers=world.admin.headers), 201
    )
    return result


async def client_count(world: World) -> int:
    items, _ = await collect(world.api, CLIENTS, world.admin.headers, 200)
    return len(items)


def without(permission: str) -> list[str]:
    return [p for p in ALL_PERMISSIONS if p != permission]


# --- POST /clients -------------------------------------------------------------------------


async def test_create_client(world: World) -> None:
    body = ok(
        await world.api.post(
            CLIENTS,
            json={"kind": "legal_entity", "name": "ООО «Ромашка»", "external_id": "crm-1"},
            headers=world.admin.headers,
        ),
        201,
    )
    assert set(body) >= CLIENT_FIELDS
    assert isinstance(body["id"], int)
    assert body["kind"] == "legal_entity"
    assert body["name"] == "ООО «Ромашка»"
    assert body["external_id"] == "crm-1"
    assert body["personal_manager"] is None
    individual = await create_client(world, name="Иванов Иван")
    assert individual["kind"] == "individual"
    assert individual["external_id"] is None


async def test_create_client_external_id_taken(world: World) -> None:
    await create_client(world, external_id="crm-7")
    before = await client_count(world)
    response = await world.api.post(
        CLIENTS,
        json={"kind": "individual", "name": "Другой", "external_id": "crm-7"},
        headers=world.admin.headers,
    )
    problem(response, 409, "external_id_taken")
    assert await client_count(world) == before
    # Clients without external_id never clash.
    await create_client(world)
    await create_client(world)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Без вида"},
        {"kind": "company", "name": "Не тот вид"},
        {"kind": "individual"},
        {"kind": "individual", "name": ""},
        {"kind": "individual", "name": "   "},
        {"kind": "individual", "name": "Имя\x07"},
        {"kind": "individual", "name": "x" * 301},
        {"kind": "individual", "name": 42},
        {"kind": "individual", "name": "Имя", "external_id": ""},
        {"kind": "individual", "name": "Имя", "external_id": 5},
    ],
    ids=lambda b: repr(b)[:50],
)
async def test_create_client_validation(world: World, body: dict[str, Any]) -> None:
    before = await client_count(world)
    problem(await world.api.post(CLIENTS, json=body, headers=world.admin.headers), 422)
    assert await client_count(world) == before


async def test_create_client_needs_manage_clients(world: World) -> None:
    emp = await world.employee(without("manage_clients"))
    body = {"kind": "individual", "name": "Запрещённый"}
    problem(await world.api.post(CLIENTS, json=body, headers=emp.headers), 403)
    client = await world.client()
    problem(await world.api.post(CLIENTS, json=body, headers=client.persons[0].headers), 403)


async def test_create_client_unauthorized(world: World) -> None:
    await assert_unauthorized(world, "POST", CLIENTS, {"kind": "individual", "name": "Никто"})


# --- GET /clients/{id} ---------------------------------------------------------------------


async def test_get_client_with_personal_manager(world: World) -> None:
    manager = await world.manager(status="active", name="Мария Менеджерова")
    client = await world.client(kind="legal_entity", name="АО Вектор", manager=manager)
    body = ok(await world.api.get(f"{CLIENTS}/{client.id}", headers=world.admin.headers), 200)
    assert set(body) >= CLIENT_FIELDS
    assert body["id"] == client.id
    assert body["kind"] == "legal_entity"
    assert body["name"] == "АО Вектор"
    assert body["external_id"] is None
    assert body["personal_manager"] == {
        "id": manager.id,
        "full_name": "Мария Менеджерова",
        "status": "active",
    }
    # The manager sees their own client.
    mine = ok(await world.api.get(f"{CLIENTS}/{client.id}", headers=manager.headers), 200)
    assert mine == body


async def test_get_client_without_personal_manager(world: World) -> None:
    client = await world.client()
    body = ok(await world.api.get(f"{CLIENTS}/{client.id}", headers=world.admin.headers), 200)
    assert body["personal_manager"] is None


async def test_get_client_unknown_is_404(world: World) -> None:
    problem(await world.api.get(f"{CLIENTS}/999999", headers=world.admin.headers), 404)


async def test_get_client_not_visible_is_404(world: World) -> None:
    manager = await world.manager()
    client = await world.client(manager=manager)
    stranger = await world.operator()
    problem(await world.api.get(f"{CLIENTS}/{client.id}", headers=stranger.headers), 404)
    other_manager = await world.manager()
    problem(await world.api.get(f"{CLIENTS}/{client.id}", headers=other_manager.headers), 404)


async def test_get_client_person_is_refused(world: World) -> None:
    client = await world.client()
    other = await world.client()
    problem(await world.api.get(f"{CLIENTS}/{other.id}", headers=client.persons[0].headers), 403)


async def test_get_client_unauthorized(world: World) -> None:
    client = await world.client()
    await assert_unauthorized(world, "GET", f"{CLIENTS}/{client.id}")


# --- GET /clients?q= and ?external_id= -----------------------------------------------------


async def test_list_clients_search_by_name_cyrillic_case_insensitive(world: World) -> None:
    romashka = await world.client(name="ООО «Ромашка»")
    yolkin = await world.client(name="ИП Ёлкин Пётр")
    await world.client(name="АО Вектор")
    latin = await world.client(name="Acme Trading")

    async def search(q: str) -> set[int]:
        page = ok(
            await world.api.get(f"{CLIENTS}?q={quote(q)}&limit=200", headers=world.admin.headers),
            200,
        )
        return {c["id"] for c in assert_page(page)}

    assert await search("ромашка") == {romashka.id}
    assert await search("РОМАШКА") == {romashka.id}
    assert await search("РоМаШ") == {romashka.id}
    assert await search("ёлкин") == {yolkin.id}
    assert await search("ЁЛКИН ПЁТР") == {yolkin.id}
    assert await search("acme") == {latin.id}
    assert await search("нет такого") == set()
    # LIKE wildcards are searched for literally.
    assert await search("%") == set()
    assert await search("_") == set()
    everyone = await search("")
    assert {romashka.id, yolkin.id, latin.id} <= everyone


async def test_list_clients_items_and_paging(world: World) -> None:
    manager = await world.manager()
    made = [await world.client(name=f"Пагинация {i}", manager=manager) for i in range(5)]
    items, pages = await collect(world.api, f"{CLIENTS}?q=пагинация", world.admin.headers, 2)
    assert [c["id"] for c in items] == [c.id for c in made]
    assert pages == 3
    for item in items:
        assert set(item) >= CLIENT_FIELDS
        assert item["personal_manager"]["id"] == manager.id


@pytest.mark.parametrize("permissions", [["supervise"], ["manage_clients"]])
async def test_list_clients_allowed(world: World, permissions: list[str]) -> None:
    client = await world.client(name="Видимый Клиент")
    emp = await world.employee(permissions)
    page = ok(await world.api.get(f"{CLIENTS}?q=видимый", headers=emp.headers), 200)
    assert [c["id"] for c in assert_page(page)] == [client.id]


async def test_list_clients_needs_supervise_or_manage_clients(world: World) -> None:
    emp = await world.employee(["general_chat", "issue_person_tokens", "manage_employees"])
    problem(await world.api.get(f"{CLIENTS}?q=x", headers=emp.headers), 403)
    problem(await world.api.get(CLIENTS, headers=emp.headers), 403)
    client = await world.client()
    problem(await world.api.get(CLIENTS, headers=client.persons[0].headers), 403)


async def test_list_clients_by_external_id(world: World) -> None:
    wanted = await create_client(world, name="Внешний", external_id="bank-42")
    await create_client(world, name="Другой", external_id="bank-43")
    emp = await world.employee(["manage_clients"])
    page = ok(await world.api.get(f"{CLIENTS}?external_id=bank-42", headers=emp.headers), 200)
    assert assert_page(page) == [wanted]
    page = ok(await world.api.get(f"{CLIENTS}?external_id=bank-99", headers=emp.headers), 200)
    assert assert_page(page) == []
    assert page["next_cursor"] is None


async def test_list_clients_by_external_id_needs_manage_clients(world: World) -> None:
    await create_client(world, name="Внешний", external_id="bank-42")
    supervisor = await world.supervisor()
    problem(await world.api.get(f"{CLIENTS}?external_id=bank-42", headers=supervisor.headers), 403)


async def test_list_clients_default_page_is_50(world: World) -> None:
    made = [await create_client(world, name=f"Много {i}") for i in range(51)]
    page = ok(await world.api.get(CLIENTS, headers=world.admin.headers), 200)
    assert [c["id"] for c in page["items"]] == [c["id"] for c in made[:50]]
    assert page["next_cursor"] is not None
    rest = ok(
        await world.api.get(f"{CLIENTS}?cursor={page['next_cursor']}", headers=world.admin.headers)
    )
    assert [c["id"] for c in rest["items"]] == [made[50]["id"]]
    assert rest["next_cursor"] is None


async def test_list_clients_limit_above_200_is_422(world: World) -> None:
    problem(await world.api.get(f"{CLIENTS}?limit=201", headers=world.admin.headers), 422)


async def test_list_clients_unauthorized(world: World) -> None:
    await assert_unauthorized(world, "GET", f"{CLIENTS}?q=x")


# --- GET /me/clients -----------------------------------------------------------------------


async def test_my_clients_with_persons_and_pm_dialog_ids(world: World) -> None:
    manager = await world.manager()
    first = await world.client(name="Первый", manager=manager, persons=2)
    second = await world.client(kind="legal_entity", name="Второй", manager=manager)
    await world.client(name="Чужой", manager=await world.manager())
    dialog = await world.dialog(first.persons[0], "personal_manager")
    body = ok(await world.api.get("/api/v1/me/clients", headers=manager.headers), 200)
    items = assert_page(body)
    assert [c["id"] for c in items] == [first.id, second.id]
    by_id = {c["id"]: c for c in items}
    assert by_id[first.id]["name"] == "Первый"
    assert by_id[second.id]["kind"] == "legal_entity"
    persons = by_id[first.id]["persons"]
    assert [p["id"] for p in persons] == [p.id for p in first.persons]
    assert persons[0]["personal_manager_dialog_id"] == dialog["id"]
    for person in persons:
        assert set(person) >= PERSON_FIELDS | {"personal_manager_dialog_id"}
        assert person["client_id"] == first.id
    # The manager can write first to a person who has not opened the chat yet: the id is
    # listed already, or get-or-create makes it (SPEC 7.3); either way the list then names it.
    second_person = persons[1]
    response = await world.api.post(
        "/api/v1/dialogs",
        json={"kind": "personal_manager", "person_id": second_person["id"]},
        headers=manager.headers,
    )
    listed = second_person["personal_manager_dialog_id"]
    created = ok(response, 200 if listed is not None else 201)
    assert listed in (None, created["id"])
    body = ok(await world.api.get("/api/v1/me/clients", headers=manager.headers), 200)
    again = {c["id"]: c for c in body["items"]}[first.id]["persons"][1]
    assert again["personal_manager_dialog_id"] == created["id"]
    world_message = await world.write(manager, dialog["id"], "Добрый день, я ваш менеджер")
    assert world_message["author"]["type"] == "employee"


async def test_my_clients_paging(world: World) -> None:
    manager = await world.manager()
    made = [await world.client(manager=manager, persons=0) for _ in range(3)]
    items, pages = await collect(world.api, "/api/v1/me/clients", manager.headers, 2)
    assert [c["id"] for c in items] == [c.id for c in made]
    assert pages == 2
    problem(await world.api.get("/api/v1/me/clients?limit=201", headers=manager.headers), 422)


async def test_my_clients_search_by_name(world: World) -> None:
    manager = await world.manager()
    ural = await world.client(kind="legal_entity", name="АО «Уральские станки»", manager=manager)
    await world.client(name="Павел Новиков", manager=manager)
    await world.client(name="Уральский клиент другого", manager=await world.manager())
    url = f"/api/v1/me/clients?q={quote('УРАЛ')}"
    body = ok(await world.api.get(url, headers=manager.headers), 200)
    assert [c["id"] for c in body["items"]] == [ural.id]
    # LIKE's own characters are searched for literally.
    body = ok(await world.api.get("/api/v1/me/clients?q=%25", headers=manager.headers), 200)
    assert body["items"] == []
    problem(await world.api.get("/api/v1/me/clients?q=%00", headers=manager.headers), 422)


async def test_my_clients_empty_for_non_manager(world: World) -> None:
    await world.client(manager=await world.manager())
    emp = await world.operator()
    body = ok(await world.api.get("/api/v1/me/clients", headers=emp.headers), 200)
    assert body == {"items": [], "next_cursor": None}


async def test_my_clients_follow_manager_change(world: World) -> None:
    old, new = await world.manager(), await world.manager()
    client = await world.client(manager=old)
    await world.set_manager(client, new)
    body = ok(await world.api.get("/api/v1/me/clients", headers=old.headers), 200)
    assert body["items"] == []
    body = ok(await world.api.get("/api/v1/me/clients", headers=new.headers), 200)
    assert [c["id"] for c in body["items"]] == [client.id]


async def test_my_clients_person_is_403(world: World) -> None:
    client = await world.client()
    problem(await world.api.get("/api/v1/me/clients", headers=client.persons[0].headers), 403)


async def test_my_clients_unauthorized(world: World) -> None:
    await assert_unauthorized(world, "GET", "/api/v1/me/clients")


# --- POST /clients/{id}/persons ------------------------------------------------------------


async def test_create_person(world: World) -> None:
    client = await world.client(kind="legal_entity", persons=0)
    body = ok(
        await world.api.post(
            f"{CLIENTS}/{client.id}/persons",
            json={"name": "Директор Петров", "external_id": "idp-1"},
            headers=world.admin.headers,
        ),
        201,
    )
    assert set(body) >= PERSON_FIELDS
    assert isinstance(body["id"], int)
    assert body["client_id"] == client.id
    assert body["name"] == "Директор Петров"
    assert body["external_id"] == "idp-1"
    assert body["is_enabled"] is True
    plain = ok(
        await world.api.post(
            f"{CLIENTS}/{client.id}/persons",
            json={"name": "Бухгалтер"},
            headers=world.admin.headers,
        ),
        201,
    )
    assert plain["external_id"] is None


async def test_create_person_unknown_client_is_404(world: World) -> None:
    response = await world.api.post(
        f"{CLIENTS}/999999/persons", json={"name": "Никто"}, headers=world.admin.headers
    )
    problem(response, 404)


async def test_create_person_external_id_taken(world: World) -> None:
    client = await world.client(persons=0)
    url = f"{CLIENTS}/{client.id}/persons"
    ok(
        await world.api.post(
            url, json={"name": "А", "external_id": "p-1"}, headers=world.admin.headers
        )
    )
    response = await world.api.post(
        url, json={"name": "Б", "external_id": "p-1"}, headers=world.admin.headers
    )
    problem(response, 409, "external_id_taken")
    page = ok(await world.api.get(url, headers=world.admin.headers))
    assert [p["name"] for p in page["items"]] == ["А"]


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "  "}, {"name": "Имя\x1b[31m"}, {"name": None}, {"name": ["x"]}],
    ids=repr,
)
async def test_create_person_validation(world: World, body: dict[str, Any]) -> None:
    client = await world.client(persons=0)
    url = f"{CLIENTS}/{client.id}/persons"
    problem(await world.api.post(url, json=body, headers=world.admin.headers), 422)
    assert ok(await world.api.get(url, headers=world.admin.headers))["items"] == []


async def test_create_person_needs_manage_clients(world: World) -> None:
    client = await world.client()
    emp = await world.employee(without("manage_clients"))
    url = f"{CLIENTS}/{client.id}/persons"
    problem(await world.api.post(url, json={"name": "Самозванец"}, headers=emp.headers), 403)
    response = await world.api.post(
        url, json={"name": "Самозванец"}, headers=client.persons[0].headers
    )
    problem(response, 403)


async def test_create_person_unauthorized(world: World) -> None:
    client = await world.client(persons=0)
    await assert_unauthorized(world, "POST", f"{CLIENTS}/{client.id}/persons", {"name": "Никто"})


# --- GET /clients/{id}/persons -------------------------------------------------------------


async def test_list_persons_allowed(world: World) -> None:
    manager = await world.manager()
    client = await world.client(manager=manager, persons=3)
    expected = [p.id for p in client.persons]
    for who in (world.admin, await world.supervisor(), await world.employee(["manage_clients"])):
        page = ok(await world.api.get(f"{CLIENTS}/{client.id}/persons", headers=who.headers), 200)
        assert [p["id"] for p in assert_page(page)] == expected
    page = ok(await world.api.get(f"{CLIENTS}/{client.id}/persons", headers=manager.headers), 200)
    items = assert_page(page)
    assert [p["id"] for p in items] == expected
    for item in items:
        assert set(item) >= PERSON_FIELDS
        assert item["client_id"] == client.id
    items, pages = await collect(world.api, f"{CLIENTS}/{client.id}/persons", manager.headers, 2)
    assert [p["id"] for p in items] == expected
    assert pages == 2


async def test_list_persons_refused(world: World) -> None:
    manager = await world.manager()
    client = await world.client(manager=manager)
    stranger = await world.operator()
    problem(await world.api.get(f"{CLIENTS}/{client.id}/persons", headers=stranger.headers), 404)
    other_manager = await world.manager()
    response = await world.api.get(f"{CLIENTS}/{client.id}/persons", headers=other_manager.headers)
    problem(response, 404)
    response = await world.api.get(
        f"{CLIENTS}/{client.id}/persons", headers=client.persons[0].headers
    )
    problem(response, 403)


async def test_list_persons_unknown_client_is_404(world: World) -> None:
    problem(await world.api.get(f"{CLIENTS}/999999/persons", headers=world.admin.headers), 404)


async def test_list_persons_limit_above_200_is_422(world: World) -> None:
    client = await world.client()
    response = await world.api.get(
        f"{CLIENTS}/{client.id}/persons?limit=201", headers=world.admin.headers
    )
    problem(response, 422)


async def test_list_persons_unauthorized(world: World) -> None:
    client = await world.client()
    await assert_unauthorized(world, "GET", f"{CLIENTS}/{client.id}/persons")


# --- PATCH /persons/{id} -------------------------------------------------------------------


async def test_patch_person_name(world: World) -> None:
    client = await world.client()
    person = client.persons[0]
    body = ok(
        await world.api.patch(
            f"/api/v1/persons/{person.id}", json={"name": "Новое Имя"}, headers=world.admin.headers
        ),
        200,
    )
    assert set(body) >= PERSON_FIELDS
    assert body["name"] == "Новое Имя"
    assert body["is_enabled"] is True
    me = ok(await world.api.get("/api/v1/me", headers=person.headers), 200)
    assert me["name"] == "Новое Имя"


async def test_disabling_a_person_ends_their_tokens(world: World) -> None:
    manager = await world.manager(status="active")
    client = await world.client(manager=manager, persons=2)
    person, colleague = client.persons
    dialog = await world.dialog(person, "personal_manager")
    await world.write(person, dialog["id"])
    body = ok(
        await world.api.patch(
            f"/api/v1/persons/{person.id}", json={"is_enabled": False}, headers=world.admin.headers
        ),
        200,
    )
    assert body["is_enabled"] is False
    problem(await world.api.get("/api/v1/me", headers=person.headers), 401)
    problem(await world.api.get("/api/v1/dialogs", headers=person.headers), 401)
    response = await world.api.post(
        f"/api/v1/dialogs/{dialog['id']}/messages", json={"text": "ещё"}, headers=person.headers
    )
    problem(response, 401)
    # The other representative of the client goes on.
    ok(await world.api.get("/api/v1/me", headers=colleague.headers), 200)
    # No new token for a disabled person.
    response = await world.api.post(
        f"/api/v1/persons/{person.id}/token", headers=world.admin.headers
    )
    problem(response, 409)
    # Enabled again: a new token works, the old one stays void.
    ok(
        await world.api.patch(
            f"/api/v1/persons/{person.id}", json={"is_enabled": True}, headers=world.admin.headers
        ),
        200,
    )
    problem(await world.api.get("/api/v1/me", headers=person.headers), 401)
    token = ok(
        await world.api.post(f"/api/v1/persons/{person.id}/token", headers=world.admin.headers)
    )["access_token"]
    ok(await world.api.get("/api/v1/me", headers=auth(token)), 200)


@pytest.mark.parametrize(
    "body",
    [{"name": ""}, {"name": "  "}, {"name": None}, {"is_enabled": "maybe"}, {"is_enabled": None}],
    ids=repr,
)
async def test_patch_person_validation(world: World, body: dict[str, Any]) -> None:
    client = await world.client()
    person = client.persons[0]
    response = await world.api.patch(
        f"/api/v1/persons/{person.id}", json=body, headers=world.admin.headers
    )
    problem(response, 422)
    me = ok(await world.api.get("/api/v1/me", headers=person.headers), 200)
    assert me["name"] == person.name


async def test_patch_person_unknown_is_404(world: World) -> None:
    response = await world.api.patch(
        "/api/v1/persons/999999", json={"name": "Никто"}, headers=world.admin.headers
    )
    problem(response, 404)


async def test_patch_person_needs_manage_clients(world: World) -> None:
    client = await world.client()
    person = client.persons[0]
    emp = await world.employee(without("manage_clients"))
    url = f"/api/v1/persons/{person.id}"
    problem(await world.api.patch(url, json={"is_enabled": False}, headers=emp.headers), 403)
    problem(await world.api.patch(url, json={"name": "Я сам"}, headers=person.headers), 403)
    ok(await world.api.get("/api/v1/me", headers=person.headers), 200)


async def test_patch_person_unauthorized(world: World) -> None:
    client = await world.client()
    await assert_unauthorized(
        world, "PATCH", f"/api/v1/persons/{client.persons[0].id}", {"name": "Никто"}
    )


# --- POST /persons/{id}/token --------------------------------------------------------------


async def test_issue_person_token(world: World) -> None:
    client = await world.client()
    person = client.persons[0]
    backend = await world.employee(["issue_person_tokens"])
    body = ok(await world.api.post(f"/api/v1/persons/{person.id}/token", headers=backend.headers))
    assert set(body) >= {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    me = ok(await world.api.get("/api/v1/me", headers=auth(body["access_token"])), 200)
    assert me["type"] == "person"
    assert me["id"] == person.id


async def test_issue_person_token_needs_issue_person_tokens(world: World) -> None:
    client = await world.client()
    person = client.persons[0]
    url = f"/api/v1/persons/{person.id}/token"
    emp = await world.employee(without("issue_person_tokens"))
    problem(await world.api.post(url, headers=emp.headers), 403)
    problem(await world.api.post(url, headers=person.headers), 403)


async def test_issue_person_token_unknown_is_404(world: World) -> None:
    problem(await world.api.post("/api/v1/persons/999999/token", headers=world.admin.headers), 404)


async def test_issue_person_token_unauthorized(world: World) -> None:
    client = await world.client()
    await assert_unauthorized(world, "POST", f"/api/v1/persons/{client.persons[0].id}/token")
