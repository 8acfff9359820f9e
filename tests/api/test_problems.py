"""API.md "Conventions" and SPEC 10: every error is problem JSON, bad input is never a 500,
and the served OpenAPI document lists every path of the contract."""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import quote

import pytest

from tests.api.helpers import PROBLEM_JSON, messages, pm_setup, problem
from tests.support import World, ok

HUGE_IDS = [2**31, 2**63, 10**30]

# API.md's paths and methods, except the "Real time" section (ws, events).
CONTRACT = {
    "/api/v1/auth/token": {"post"},
    "/api/v1/me": {"get"},
    "/api/v1/employees": {"get", "post"},
    "/api/v1/employees/{}": {"get", "patch"},
    "/api/v1/me/status": {"put"},
    "/api/v1/employees/{}/status": {"put"},
    "/api/v1/settings": {"get", "patch"},
    "/api/v1/clients": {"get", "post"},
    "/api/v1/clients/{}": {"get"},
    "/api/v1/me/clients": {"get"},
    "/api/v1/clients/{}/persons": {"get", "post"},
    "/api/v1/persons/{}": {"patch"},
    "/api/v1/persons/{}/token": {"post"},
    "/api/v1/clients/{}/personal-manager": {"put"},
    "/api/v1/clients/{}/personal-manager/history": {"get"},
    "/api/v1/personal-managers/moves": {"post"},
    "/api/v1/dialogs": {"get", "post"},
    "/api/v1/dialogs/{}": {"get"},
    "/api/v1/dialogs/{}/messages": {"get", "post"},
    "/api/v1/dialogs/{}/read": {"post"},
    "/api/v1/dialogs/{}/participants": {"get", "post"},
    "/api/v1/dialogs/{}/participants/{}": {"delete"},
    "/api/v1/appeals/{}": {"get"},
    "/api/v1/appeals/{}/history": {"get"},
    "/api/v1/appeals/{}/close": {"post"},
    "/api/v1/appeals/{}/transfer": {"post"},
    "/api/v1/queue": {"get"},
    "/api/v1/inbox": {"get"},
}

# Bodies for the endpoints that take one.
BODIES: dict[tuple[str, str], Any] = {
    ("post", "/api/v1/auth/token"): {"login": "x", "password": "y"},
    ("post", "/api/v1/employees"): {
        "login": "l",
        "full_name": "f",
        "password": "password1",
        "permissions": [],
    },
    ("patch", "/api/v1/employees/{}"): {"full_name": "f"},
    ("put", "/api/v1/me/status"): {"status": "active"},
    ("put", "/api/v1/employees/{}/status"): {"status": "active"},
    ("patch", "/api/v1/settings"): {"default_general_limit": 3},
    ("post", "/api/v1/clients"): {"kind": "individual", "name": "n"},
    ("post", "/api/v1/clients/{}/persons"): {"name": "n"},
    ("patch", "/api/v1/persons/{}"): {"name": "n"},
    ("put", "/api/v1/clients/{}/personal-manager"): {"employee_id": None},
    ("post", "/api/v1/personal-managers/moves"): {
        "from_employee_id": 1,
        "to_employee_id": 2,
        "dry_run": True,
    },
    ("post", "/api/v1/dialogs"): {"kind": "general"},
    ("post", "/api/v1/dialogs/{}/messages"): {"text": "t"},
    ("post", "/api/v1/dialogs/{}/read"): {"up_to_message_id": 0},
    ("post", "/api/v1/dialogs/{}/participants"): {"employee_id": 1},
    ("post", "/api/v1/appeals/{}/transfer"): {"employee_id": None},
}
WITH_BODY = sorted(BODIES)


def concrete(path: str, value: object = 1) -> str:
    return path.replace("{}", str(value))


# --- the OpenAPI document ------------------------------------------------------------------


async def test_openapi_lists_every_path_of_the_contract(world: World) -> None:
    response = await world.api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    served: dict[str, set[str]] = {}
    for path, operations in document["paths"].items():
        normal = re.sub(r"\{[^}]+\}", "{}", path)
        served.setdefault(normal, set()).update(
            m for m in operations if m in {"get", "post", "put", "patch", "delete"}
        )
    for path, methods in CONTRACT.items():
        assert path in served, f"{path} is missing from openapi.json"
        assert methods <= served[path], f"{path}: {methods - served[path]} missing"
    assert "Problem" in document["components"]["schemas"]


async def test_docs_page_is_served(world: World) -> None:
    response = await world.api.get("/api/v1/docs")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]


# --- unknown routes and methods ------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing-here", "/api/v2/me", "/nothing", "/api/v1/dialogs/1/nothing"]
)
async def test_unknown_route_is_404_problem(world: World, path: str) -> None:
    problem(await world.api.get(path, headers=world.admin.headers), 404)
    problem(await world.api.get(path), 404)


async def test_wrong_method_is_problem(world: World) -> None:
    response = await world.api.delete("/api/v1/employees", headers=world.admin.headers)
    problem(response, 405)


# --- malformed bodies ----------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), WITH_BODY, ids=lambda v: str(v))
async def test_malformed_json_is_422(world: World, method: str, path: str) -> None:
    headers = {**world.admin.headers, "Content-Type": "application/json"}
    for raw in (b'{"text": ', b"{'single': 'quotes'}", b"[1, 2,]", b"nul", b'{"a": 1}}'):
        response = await world.api.request(method, concrete(path), content=raw, headers=headers)
        problem(response, 422)
    # Not even UTF-8: bad input too (API.md: "400/422 bad input").
    for raw in (b"\xff\xfe\x00", b'{"text": "\xff"}'):
        response = await world.api.request(method, concrete(path), content=raw, headers=headers)
        assert response.status_code in (400, 422), response.text
        problem(response, response.status_code)


@pytest.mark.parametrize(("method", "path"), WITH_BODY, ids=lambda v: str(v))
async def test_wrong_body_shape_is_422(world: World, method: str, path: str) -> None:
    for body in ("null", "[]", '"text"', "42", "true"):
        response = await world.api.request(
            method,
            concrete(path),
            content=body.encode(),
            headers={**world.admin.headers, "Content-Type": "application/json"},
        )
        problem(response, 422)


async def test_missing_body_is_422(world: World) -> None:
    _, _, person, dialog = await pm_setup(world)
    response = await world.api.post(
        f"/api/v1/dialogs/{dialog['id']}/messages", headers=person.headers
    )
    problem(response, 422)
    response = await world.api.post(
        f"/api/v1/dialogs/{dialog['id']}/messages",
        content=b"text=hello",
        headers={**person.headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code in (415, 422), response.text
    problem(response, response.status_code)
    assert await messages(world, dialog["id"]) == []


async def test_deeply_nested_json_is_bad_input(world: World) -> None:
    _, _, person, dialog = await pm_setup(world)
    # Deep, yet within the body limit (kit/bodies.py): the parser, not the limit, refuses it.
    raw = b"[" * 30_000 + b"]" * 30_000
    response = await world.api.post(
        f"/api/v1/dialogs/{dialog['id']}/messages",
        content=raw,
        headers={**person.headers, "Content-Type": "application/json"},
    )
    assert response.status_code in (400, 422), response.text
    problem(response, response.status_code)


async def test_non_finite_numbers_are_422(world: World) -> None:
    response = await world.api.patch(
        "/api/v1/settings",
        content=b'{"default_general_limit": NaN}',
        headers={**world.admin.headers, "Content-Type": "application/json"},
    )
    problem(response, 422)
    response = await world.api.patch(
        "/api/v1/settings",
        content=b'{"offline_grace_seconds": Infinity}',
        headers={**world.admin.headers, "Content-Type": "application/json"},
    )
    problem(response, 422)


# --- ids and numbers out of any range ------------------------------------------------------


@pytest.mark.parametrize("huge", HUGE_IDS)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", p)
        for p, methods in CONTRACT.items()
        if "{}" in p and "get" in methods and not p.endswith("history")
    ]
    + [
        ("get", "/api/v1/clients/{}/personal-manager/history"),
        ("get", "/api/v1/appeals/{}/history"),
    ]
    + [(m, p) for (m, p) in WITH_BODY if "{}" in p]
    + [("post", "/api/v1/appeals/{}/close"), ("post", "/api/v1/persons/{}/token")]
    + [("delete", "/api/v1/dialogs/{}/participants/{}")],
    ids=lambda v: str(v),
)
async def test_huge_path_id_is_404(world: World, method: str, path: str, huge: int) -> None:
    body = BODIES.get((method, path))
    kwargs: dict[str, Any] = {"headers": world.admin.headers}
    if body is not None:
        kwargs["json"] = body
    response = await world.api.request(method, concrete(path, huge), **kwargs)
    problem(response, 404)


@pytest.mark.parametrize("huge", HUGE_IDS)
async def test_huge_ids_in_bodies_are_422(world: World, huge: int) -> None:
    manager, client, person, dialog = await pm_setup(world, status="active")
    message = await world.write(person, dialog["id"])
    operator = await world.operator()
    general = await world.ask(person, "general")
    assert general["assignee"]["id"] == operator.id
    h = world.admin.headers
    calls: list[tuple[str, str, Any]] = [
        ("put", f"/api/v1/clients/{client.id}/personal-manager", {"employee_id": huge}),
        (
            "post",
            "/api/v1/personal-managers/moves",
            {"from_employee_id": manager.id, "to_employee_id": huge, "dry_run": True},
        ),
        (
            "post",
            "/api/v1/personal-managers/moves",
            {"from_employee_id": huge, "to_employee_id": manager.id, "dry_run": False},
        ),
        ("post", f"/api/v1/dialogs/{dialog['id']}/participants", {"employee_id": huge}),
        ("post", f"/api/v1/appeals/{general['id']}/transfer", {"employee_id": huge}),
        ("post", f"/api/v1/dialogs/{dialog['id']}/read", {"up_to_message_id": huge}),
        (
            "post",
            "/api/v1/employees",
            {"login": "big", "full_name": "Б", "password": "password1", "general_limit": huge},
        ),
        ("patch", f"/api/v1/employees/{operator.id}", {"general_limit": huge}),
        ("patch", "/api/v1/settings", {"default_general_limit": huge}),
        ("patch", "/api/v1/settings", {"offline_grace_seconds": huge}),
    ]
    calls.append(("post", "/api/v1/dialogs", {"kind": "general", "person_id": huge}))
    for method, url, body in calls:
        response = await world.api.request(method, url, json=body, headers=h)
        problem(response, 422)
    assert (await world.appeal(general["id"]))["assignee"]["id"] == operator.id
    assert (await world.appeal(message["appeal_id"]))["assignee"]["id"] == manager.id


async def test_huge_message_positions(world: World) -> None:
    _, _, person, dialog = await pm_setup(world, status="active")
    sent = await world.write(person, dialog["id"])
    url = f"/api/v1/dialogs/{dialog['id']}/messages"
    # Message ids are 64-bit: beyond 32 bits is merely "none yet".
    for position in (2**31, 2**63 - 1):
        after = ok(await world.api.get(f"{url}?after={position}", headers=person.headers), 200)
        assert after == {"items": [], "next_cursor": None}
        before = ok(await world.api.get(f"{url}?before={position}", headers=person.headers), 200)
        assert [m["id"] for m in before["items"]] == [sent["id"]]
    for huge in (2**63, 10**30):
        for query in ("after", "before"):
            problem(await world.api.get(f"{url}?{query}={huge}", headers=person.headers), 422)
        response = await world.api.post(
            f"/api/v1/dialogs/{dialog['id']}/read",
            json={"up_to_message_id": huge},
            headers=person.headers,
        )
        problem(response, 422)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/employees",
        "/api/v1/clients",
        "/api/v1/me/clients",
        "/api/v1/queue",
        "/api/v1/inbox",
        "/api/v1/dialogs/{dialog}/participants",
        "/api/v1/clients/{client}/persons",
        "/api/v1/clients/{client}/personal-manager/history",
        "/api/v1/appeals/{appeal}/history",
    ],
)
async def test_forged_cursors_are_422(world: World, url: str) -> None:
    manager, client, person, dialog = await pm_setup(world, status="active")
    message = await world.write(person, dialog["id"])
    target = url.format(dialog=dialog["id"], client=client.id, appeal=message["appeal_id"])
    forged: list[Any] = [
        # Appeal history events have 64-bit ids; every other list here 32-bit ones.
        {"id": 2**63 if "appeals" in url else 2**31},
        {"id": 2**63},
        {"id": 10**30},
        {"id": -1},
        {"id": "1"},
        {"id": None},
        {"id": 1.5},
        {"offset": -5},
        {"at": "yesterday", "id": 1} if "inbox" in url else {"id": True},
        {"at": "2024-01-01T00:00:00+00:00", "id": 10**30},
        {},
        [1, 2],
        "just a string",
        None,
    ]
    for cursor in forged:
        raw = base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode().rstrip("=")
        response = await world.api.get(f"{target}?cursor={raw}", headers=world.admin.headers)
        problem(response, 422)
    nested = base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode().rstrip("=")
    problem(await world.api.get(f"{target}?cursor={nested}", headers=world.admin.headers), 422)
    for raw in ("%%%", "not base64!", "eyJpZCI6"):
        problem(await world.api.get(f"{target}?cursor={raw}", headers=world.admin.headers), 422)
    del manager


# --- strings a database may choke on --------------------------------------------------------


async def test_nul_and_control_characters_never_500(world: World) -> None:
    _, client, person, dialog = await pm_setup(world)
    h = world.admin.headers
    response = await world.api.post(
        "/api/v1/auth/token", json={"login": "adm\x00in", "password": "p\x00"}
    )
    problem(response, 422)
    for body in (
        {"kind": "individual", "name": "Клиент", "external_id": "ext\x00"},
        {"kind": "individual", "name": "Клиент", "external_id": "ext\nline"},
        {"kind": "individual", "name": "Кли\x00ент"},
    ):
        problem(await world.api.post("/api/v1/clients", json=body, headers=h), 422)
    for body in ({"name": "Имя", "external_id": "p\x00"}, {"name": "Им\x00я"}):
        problem(
            await world.api.post(f"/api/v1/clients/{client.id}/persons", json=body, headers=h), 422
        )
    problem(
        await world.api.patch(f"/api/v1/persons/{person.id}", json={"name": "\x00"}, headers=h), 422
    )
    response = await world.api.post(
        f"/api/v1/dialogs/{dialog['id']}/messages",
        json={"text": "Привет", "client_message_id": "key\x00"},
        headers=person.headers,
    )
    problem(response, 422)
    assert await messages(world, dialog["id"]) == []
    for query in ("q", "external_id"):
        response = await world.api.get(f"/api/v1/clients?{query}={quote(chr(0))}", headers=h)
        problem(response, 422)
    response = await world.api.get(f"/api/v1/inbox?q={quote(chr(0))}", headers=h)
    problem(response, 422)


async def test_long_names_fold_and_store(world: World) -> None:
    # Case folding and NFKC may make a name longer ("ß" folds to "ss", "ﬃ" to "ffi"):
    # a name of the greatest allowed length is still accepted and found.
    for name in ("ß" * 300, "ﬃ" * 300, "Ǆ" * 300, "ﷺ" * 300):
        body = ok(
            await world.api.post(
                "/api/v1/clients",
                json={"kind": "individual", "name": name},
                headers=world.admin.headers,
            ),
            201,
        )
        assert body["name"] == name
        found = ok(
            await world.api.get(
                f"/api/v1/clients?q={quote(name[:3])}", headers=world.admin.headers
            ),
            200,
        )
        assert body["id"] in [c["id"] for c in found["items"]]


async def test_long_search_query(world: World) -> None:
    h = world.admin.headers
    ok(await world.api.get(f"/api/v1/clients?q={'я' * 200}", headers=h), 200)
    problem(await world.api.get(f"/api/v1/clients?q={'я' * 201}", headers=h), 422)
    ok(await world.api.get(f"/api/v1/clients?q={quote('ﷺ' * 200)}", headers=h), 200)


# --- the shape of every error ---------------------------------------------------------------


async def test_problem_shape_on_every_status(world: World) -> None:
    client = await world.client()
    person = client.persons[0]
    cases = [
        (await world.api.get("/api/v1/me"), 401),
        (await world.api.get("/api/v1/queue", headers=person.headers), 403),
        (await world.api.get("/api/v1/employees/999999", headers=world.admin.headers), 404),
        (
            await world.api.post(
                "/api/v1/dialogs", json={"kind": "personal_manager"}, headers=person.headers
            ),
            409,
        ),
        (await world.api.get("/api/v1/employees?limit=201", headers=world.admin.headers), 422),
    ]
    for response, status in cases:
        body = problem(response, status)
        assert response.headers["content-type"].startswith(PROBLEM_JSON)
        assert body["status"] == status
    # 401 says how to authenticate.
    assert cases[0][0].headers.get("www-authenticate", "").lower().startswith("bearer")


async def test_huge_path_id_still_needs_a_token(world: World) -> None:
    for huge in HUGE_IDS:
        problem(await world.api.get(f"/api/v1/employees/{huge}"), 401)
        problem(
            await world.api.get(f"/api/v1/dialogs/{huge}", headers={"Authorization": "Bearer x"}),
            401,
        )
