"""API.md "Auth and employees": POST /auth/token and GET /me."""

from __future__ import annotations

import pytest

from tests.api.helpers import (
    EMPLOYEE_FIELDS,
    assert_unauthorized,
    disable_employee,
    disable_person,
    problem,
)
from tests.support import PASSWORD, World, auth, ok

TOKEN = "/api/v1/auth/token"
ME = "/api/v1/me"


async def test_token_issued_for_valid_credentials(world: World) -> None:
    emp = await world.employee(["general_chat"])
    body = ok(await world.api.post(TOKEN, json={"login": emp.login, "password": PASSWORD}), 200)
    assert set(body) >= {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert isinstance(body["access_token"], str) and body["access_token"]
    assert isinstance(body["expires_in"], int) and body["expires_in"] > 0
    me = ok(await world.api.get(ME, headers=auth(body["access_token"])), 200)
    assert me["id"] == emp.id
    assert me["type"] == "employee"


@pytest.mark.parametrize("case", ["wrong password", "unknown login", "empty-ish password"])
async def test_token_invalid_credentials(world: World, case: str) -> None:
    emp = await world.employee(["general_chat"])
    body = {
        "wrong password": {"login": emp.login, "password": PASSWORD + "x"},
        "unknown login": {"login": "nobody-here", "password": PASSWORD},
        "empty-ish password": {"login": emp.login, "password": " "},
    }[case]
    problem(await world.api.post(TOKEN, json=body), 401, "invalid_credentials")


async def test_token_refused_for_disabled_employee(world: World) -> None:
    emp = await world.employee(["general_chat"])
    await disable_employee(world, emp)
    response = await world.api.post(TOKEN, json={"login": emp.login, "password": PASSWORD})
    problem(response, 401, "invalid_credentials")


async def test_login_is_case_sensitive_and_exact(world: World) -> None:
    emp = await world.employee(["general_chat"])
    response = await world.api.post(TOKEN, json={"login": emp.login.upper(), "password": PASSWORD})
    problem(response, 401, "invalid_credentials")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"login": "x"},
        {"password": "x"},
        {"login": "", "password": "x"},
        {"login": 5, "password": "x"},
        {"login": "x", "password": None},
        [],
        "login",
    ],
)
async def test_token_bad_body_is_422(world: World, body: object) -> None:
    problem(await world.api.post(TOKEN, json=body), 422)


async def test_me_employee(world: World) -> None:
    emp = await world.employee(["general_chat", "supervise"], general_limit=4, name="Анна Петрова")
    body = ok(await world.api.get(ME, headers=emp.headers), 200)
    assert body["type"] == "employee"
    assert body.keys() >= EMPLOYEE_FIELDS
    assert body["id"] == emp.id
    assert body["login"] == emp.login
    assert body["full_name"] == "Анна Петрова"
    assert sorted(body["permissions"]) == ["general_chat", "supervise"]
    assert body["general_limit"] == 4
    assert body["status"] == "offline"
    assert body["is_enabled"] is True
    assert "password" not in body and "password_hash" not in body


async def test_me_person(world: World) -> None:
    client = await world.client(name="ООО Ромашка")
    person = client.persons[0]
    body = ok(await world.api.get(ME, headers=person.headers), 200)
    assert body["type"] == "person"
    assert body["id"] == person.id
    assert body["name"] == person.name
    assert body["client_id"] == client.id
    assert body["is_enabled"] is True


async def test_me_unauthorized(world: World) -> None:
    await assert_unauthorized(world, "GET", ME)


async def test_tampered_token_is_401(world: World) -> None:
    emp = await world.employee(["general_chat"])
    head, payload, signature = emp.token.split(".")
    forged = f"{head}.{payload}.{signature[::-1]}"
    problem(await world.api.get(ME, headers=auth(forged)), 401)
    problem(await world.api.get(ME, headers=auth(emp.token + "x")), 401)


async def test_expired_token_is_401(world: World, app: object) -> None:
    emp = await world.employee(["general_chat"])
    signer = app.state.signer  # type: ignore[attr-defined]
    expired, _ = signer.issue("employee", emp.id, 0, -5)
    problem(await world.api.get(ME, headers=auth(expired)), 401)


async def test_disabled_employee_token_is_401_at_once(world: World) -> None:
    emp = await world.employee(["general_chat"])
    ok(await world.api.get(ME, headers=emp.headers), 200)
    await disable_employee(world, emp)
    problem(await world.api.get(ME, headers=emp.headers), 401)


async def test_disabled_person_token_is_401_at_once(world: World) -> None:
    client = await world.client()
    person = client.persons[0]
    ok(await world.api.get(ME, headers=person.headers), 200)
    await disable_person(world, person)
    problem(await world.api.get(ME, headers=person.headers), 401)
