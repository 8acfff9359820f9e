"""Input limits (issue 6.3, API.md "Conventions", docs/decisions.md "Input limits").

Message text itself (1-4,096 characters, controls refused, stored exactly) is covered in
test_dialogs.py; here: the request body limit, names, page sizes of every list, and Unicode kept
exactly wherever a name is stored — each refusal a problem+json that leaves nothing behind.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import pytest

from switchboard.kit.bodies import MAX_BODY_BYTES
from tests.api.helpers import assert_page, messages, pm_setup, problem
from tests.support import World, ok

TRICKY = [
    "👨‍👩‍👧‍👦 Семья 🇷🇺 👍🏽",  # ZWJ sequence, flag, skin tone
    "\u200fשלום\u200e Иван",  # RTL and LTR marks
    "مرحبا \u202eобратный\u202c",  # Arabic, an override and its pop
    "Йо\u0308жик e\u0301",  # combining diaeresis and acute
    "\ufeffВ\u200bначале",  # BOM and zero-width space
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",  # outside the BMP
]
CONTROLS = ["\x00", "\x07", "\x1b[31m", "\x7f", "\x85", "a\nb", "\t", "\r"]


# --- the request body limit ------------------------------------------------------------------


async def test_body_over_the_limit_is_413_and_stores_nothing(world: World) -> None:
    _, _, person, dialog = await pm_setup(world, status="active")
    url = f"/api/v1/dialogs/{dialog['id']}/messages"
    raw = json.dumps({"text": "x" * 4000, "padding": " " * MAX_BODY_BYTES}).encode()
    assert len(raw) > MAX_BODY_BYTES
    response = await world.api.post(
        url, content=raw, headers={**person.headers, "Content-Type": "application/json"}
    )
    body = problem(response, 413, "request_too_large")
    assert str(MAX_BODY_BYTES) in body["detail"]
    assert await messages(world, dialog["id"]) == []
    state = ok(await world.api.get(f"/api/v1/dialogs/{dialog['id']}", headers=person.headers))
    assert state["open_appeal"] is None


async def test_body_at_the_limit_is_read(world: World) -> None:
    _, _, person, dialog = await pm_setup(world, status="active")
    url = f"/api/v1/dialogs/{dialog['id']}/messages"
    # The longest message, every character escaped as a surrogate pair: still under the limit.
    text = "😀" * 4096
    raw = json.dumps({"text": text}, ensure_ascii=True).encode()
    raw += b" " * (MAX_BODY_BYTES - len(raw))  # white space after the value: valid JSON
    assert len(raw) == MAX_BODY_BYTES
    response = await world.api.post(
        url, content=raw, headers={**person.headers, "Content-Type": "application/json"}
    )
    assert ok(response, 201)["text"] == text


async def test_streamed_body_is_cut_off_without_reading_it_all(world: World) -> None:
    """No Content-Length: the server stops at the limit instead of reading 100 MB."""
    _, _, person, dialog = await pm_setup(world, status="active")
    chunk = b" " * 16 * 1024
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"text": "hi"'
        for _ in range(6400):  # 100 MiB if it were all read
            sent += len(chunk)
            yield chunk
        yield b"}"

    response = await world.api.post(
        f"/api/v1/dialogs/{dialog['id']}/messages",
        content=endless(),
        headers={**person.headers, "Content-Type": "application/json"},
    )
    problem(response, 413, "request_too_large")
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert sent <= MAX_BODY_BYTES + 2 * len(chunk), sent
    assert await messages(world, dialog["id"]) == []


async def test_body_limit_applies_to_every_endpoint_with_a_body(world: World) -> None:
    raw = b'{"name": "' + b"a" * MAX_BODY_BYTES + b'"}'
    headers = {**world.admin.headers, "Content-Type": "application/json"}
    before = ok(await world.api.get("/api/v1/clients?limit=200", headers=world.admin.headers))
    for method, url in [
        ("post", "/api/v1/auth/token"),
        ("post", "/api/v1/clients"),
        ("patch", "/api/v1/settings"),
        ("post", "/api/v1/employees"),
    ]:
        problem(await world.api.request(method, url, content=raw, headers=headers), 413)
    after = ok(await world.api.get("/api/v1/clients?limit=200", headers=world.admin.headers))
    assert after == before


async def test_openapi_documents_400_and_413_for_bodies(world: World) -> None:
    document = ok(await world.api.get("/api/v1/openapi.json"))
    with_body = [
        (path, method, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    ]
    assert len(with_body) >= 15
    for path, method, operation in with_body:
        for status in ("400", "413"):
            assert status in operation["responses"], f"{method} {path} lacks {status}"


# --- names -------------------------------------------------------------------------------------


async def test_names_keep_unicode_exactly(world: World) -> None:
    h = world.admin.headers
    for name in TRICKY:
        client = ok(
            await world.api.post(
                "/api/v1/clients", json={"kind": "legal_entity", "name": name}, headers=h
            ),
            201,
        )
        person = ok(
            await world.api.post(
                f"/api/v1/clients/{client['id']}/persons", json={"name": name}, headers=h
            ),
            201,
        )
        employee = await world.employee([], name=name)
        assert client["name"] == person["name"] == name
        got_client = ok(await world.api.get(f"/api/v1/clients/{client['id']}", headers=h))
        got_employee = ok(await world.api.get(f"/api/v1/employees/{employee.id}", headers=h))
        persons = ok(await world.api.get(f"/api/v1/clients/{client['id']}/persons", headers=h))
        stored = [got_client["name"], got_employee["full_name"], persons["items"][0]["name"]]
        # Byte for byte: no normalisation, no stripped marks.
        assert [s.encode() for s in stored] == [name.encode()] * 3
        found = ok(await world.api.get(f"/api/v1/clients?q={quote(name)}", headers=h))
        assert client["id"] in [c["id"] for c in found["items"]]


@pytest.mark.parametrize("control", CONTROLS, ids=repr)
async def test_names_with_control_characters_are_refused_and_nothing_stored(
    world: World, control: str
) -> None:
    h = world.admin.headers
    client = await world.client(name="Исходное имя")
    person = client.persons[0]
    employee = await world.employee([], name="Исходное имя")
    clients_before = ok(await world.api.get("/api/v1/clients?limit=200", headers=h))
    employees_before = ok(await world.api.get("/api/v1/employees?limit=200", headers=h))
    persons_url = f"/api/v1/clients/{client.id}/persons?limit=200"
    persons_before = ok(await world.api.get(persons_url, headers=h))
    bad = f"Имя{control}Фамилия"
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("post", "/api/v1/clients", {"kind": "individual", "name": bad}),
        ("post", "/api/v1/clients", {"kind": "individual", "name": "Ок", "external_id": bad}),
        ("post", f"/api/v1/clients/{client.id}/persons", {"name": bad}),
        ("patch", f"/api/v1/persons/{person.id}", {"name": bad}),
        (
            "post",
            "/api/v1/employees",
            {"login": "new1", "full_name": bad, "password": "password1", "permissions": []},
        ),
        ("patch", f"/api/v1/employees/{employee.id}", {"full_name": bad}),
    ]
    for method, url, body in calls:
        response = await world.api.request(method, url, json=body, headers=h)
        detail = problem(response, 422, "validation_error")["detail"]
        assert "control" in detail, detail
    assert ok(await world.api.get("/api/v1/clients?limit=200", headers=h)) == clients_before
    assert ok(await world.api.get("/api/v1/employees?limit=200", headers=h)) == employees_before
    assert ok(await world.api.get(persons_url, headers=h)) == persons_before


@pytest.mark.parametrize(
    ("url", "field", "limit"),
    [
        ("/api/v1/clients", "name", 300),
        ("/api/v1/clients/{client}/persons", "name", 300),
        ("/api/v1/employees", "full_name", 200),
    ],
)
async def test_name_length_limits_count_characters(
    world: World, url: str, field: str, limit: int
) -> None:
    client = await world.client()
    target = url.format(client=client.id)
    base: dict[str, Any] = {"kind": "individual"} if target == "/api/v1/clients" else {}
    if "employees" in target:
        base = {"password": "password1", "permissions": []}

    def body(name: str, n: int) -> dict[str, Any]:
        extra = {"login": f"limit{n}"} if "employees" in target else {}
        return {**base, **extra, field: name}

    h = world.admin.headers
    listing = f"{target}?limit=200"
    before = ok(await world.api.get(listing, headers=h))
    for n, name in enumerate(["я" * (limit + 1), "😀" * (limit + 1), " " * 5]):
        problem(await world.api.post(target, json=body(name, n), headers=h), 422)
    assert ok(await world.api.get(listing, headers=h)) == before
    # The limit counts characters, not bytes: emoji up to the limit are fine.
    for n, name in enumerate(["я" * limit, "😀" * limit], start=10):
        created = ok(await world.api.post(target, json=body(name, n), headers=h), 201)
        assert created[field] == name


# --- page sizes --------------------------------------------------------------------------------


async def test_every_list_refuses_a_page_above_200(world: World) -> None:
    manager, client, person, dialog = await pm_setup(world, status="active")
    message = await world.write(person, dialog["id"])
    document = ok(await world.api.get("/api/v1/openapi.json"))
    values = {
        "dialog_id": dialog["id"],
        "client_id": client.id,
        "appeal_id": message["appeal_id"],
        "employee_id": manager.id,
    }
    checked = []
    for path, operations in document["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        names = {p["name"] for p in operation.get("parameters", [])}
        if "limit" not in names:
            continue
        # Persons' own list answers persons; every other list answers the administrator.
        who = person if path == "/api/v1/dialogs" else world.admin
        url = path.format(**values)
        for bad in ("201", "1000", "0", "-1", "ten"):
            response = await world.api.get(f"{url}?limit={bad}", headers=who.headers)
            problem(response, 422, "validation_error")
        for good in ("1", "200"):
            response = await world.api.get(f"{url}?limit={good}", headers=who.headers)
            assert response.status_code == 200, f"{url}?limit={good}: {response.text}"
            if path != "/api/v1/events" or "items" in response.json():
                assert_page(response.json())
        checked.append(path)
    assert len(checked) >= 12, checked


# --- JSON types --------------------------------------------------------------------------------


async def test_bodies_take_json_types_as_documented(world: World) -> None:
    """No lax coercion: `false` is not the limit 0, `"5"` not 5, `"no"` not a boolean."""
    h = world.admin.headers
    operator = await world.operator(limit=2)
    settings_before = ok(await world.api.get("/api/v1/settings", headers=h))
    employees_before = ok(await world.api.get("/api/v1/employees?limit=200", headers=h))
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("patch", f"/api/v1/employees/{operator.id}", {"general_limit": False}),
        ("patch", f"/api/v1/employees/{operator.id}", {"general_limit": "5"}),
        ("patch", f"/api/v1/employees/{operator.id}", {"general_limit": 1.0}),
        ("patch", f"/api/v1/employees/{operator.id}", {"is_enabled": "no"}),
        ("patch", f"/api/v1/employees/{operator.id}", {"is_enabled": 0}),
        ("patch", "/api/v1/settings", {"default_general_limit": True}),
        ("patch", "/api/v1/settings", {"requeue_general_on_inactive": "false"}),
        ("patch", "/api/v1/settings", {"offline_grace_seconds": "60"}),
        (
            "post",
            "/api/v1/employees",
            {
                "login": "typed",
                "full_name": "Типы",
                "password": "password1",
                "permissions": [],
                "general_limit": False,
            },
        ),
        (
            "post",
            "/api/v1/personal-managers/moves",
            {"from_employee_id": str(operator.id), "to_employee_id": 1, "dry_run": True},
        ),
        (
            "post",
            "/api/v1/personal-managers/moves",
            {"from_employee_id": operator.id, "to_employee_id": 1, "dry_run": 1},
        ),
    ]
    for method, url, body in calls:
        response = await world.api.request(method, url, json=body, headers=h)
        problem(response, 422, "validation_error")
    assert ok(await world.api.get("/api/v1/settings", headers=h)) == settings_before
    assert ok(await world.api.get("/api/v1/employees?limit=200", headers=h)) == employees_before
    _, _, person, dialog = await pm_setup(world, status="active")
    for body in ({"text": "ok", "client_message_id": 5}, {"up_to_message_id": "1"}):
        url = f"/api/v1/dialogs/{dialog['id']}/" + ("messages" if "text" in body else "read")
        problem(await world.api.post(url, json=body, headers=person.headers), 422)
    assert await messages(world, dialog["id"]) == []
