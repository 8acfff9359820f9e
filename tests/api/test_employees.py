"""API.md "Auth and employees": /employees, /employees/{id}, /me/status, /employees/{id}/status."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import (
    EMPLOYEE_FIELDS,
    assert_page,
    assert_unauthorized,
    collect,
    disable_employee,
    problem,
)
from tests.support import ALL_PERMISSIONS, PASSWORD, World, login_token, ok

EMPLOYEES = "/api/v1/employees"


def new_employee(login: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "login": login,
        "full_name": "Иван Иванов",
        "password": PASSWORD,
        "permissions": ["general_chat"],
    }
    body.update(extra)
    return body


async def employee_count(world: World) -> int:
    items, _ = await collect(world.api, EMPLOYEES, world.admin.headers, 200)
    return len(items)


# --- POST /employees -----------------------------------------------------------------------


async def test_create_employee(world: World) -> None:
    body = new_employee(
        "ivan.ivanov", permissions=["general_chat", "manage_clients"], general_limit=5
    )
    created = ok(await world.api.post(EMPLOYEES, json=body, headers=world.admin.headers), 201)
    assert created.keys() >= EMPLOYEE_FIELDS
    assert isinstance(created["id"], int)
    assert created["login"] == "ivan.ivanov"
    assert created["full_name"] == "Иван Иванов"
    assert sorted(created["permissions"]) == ["general_chat", "manage_clients"]
    assert created["general_limit"] == 5
    assert created["status"] == "offline"
    assert created["is_enabled"] is True
    assert "password" not in created and "password_hash" not in created
    # The new employee can log in with the password given.
    token = await login_token(world.api, "ivan.ivanov", PASSWORD)
    me = ok(await world.api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}), 200)
    assert me["id"] == created["id"]


async def test_create_employee_general_limit_defaults_to_null(world: World) -> None:
    body = new_employee("no.limit")
    created = ok(await world.api.post(EMPLOYEES, json=body, headers=world.admin.headers), 201)
    assert created["general_limit"] is None
    body = new_employee("zero.limit", general_limit=0, permissions=[])
    created = ok(await world.api.post(EMPLOYEES, json=body, headers=world.admin.headers), 201)
    assert created["general_limit"] == 0
    assert created["permissions"] == []


async def test_create_employee_login_taken(world: World) -> None:
    emp = await world.employee()
    before = await employee_count(world)
    response = await world.api.post(
        EMPLOYEES, json=new_employee(emp.login), headers=world.admin.headers
    )
    problem(response, 409, "login_taken")
    assert await employee_count(world) == before
    # The admin's own login too.
    response = await world.api.post(
        EMPLOYEES, json=new_employee(world.admin.login), headers=world.admin.headers
    )
    problem(response, 409, "login_taken")


@pytest.mark.parametrize(
    "change",
    [
        {"login": None},
        {"login": ""},
        {"login": "has space"},
        {"login": "x" * 101},
        {"full_name": ""},
        {"full_name": "   "},
        {"full_name": "Иван\x00Иванов"},
        {"password": "short"},
        {"password": None},
        {"permissions": ["fly"]},
        {"permissions": "general_chat"},
        {"general_limit": -1},
        {"general_limit": "many"},
        {"general_limit": 1.5},
    ],
    ids=lambda c: repr(c)[:40],
)
async def test_create_employee_validation(world: World, change: dict[str, Any]) -> None:
    body = new_employee("valid.login")
    body.update(change)
    body = {k: v for k, v in body.items() if not (v is None and k in ("login", "password"))}
    before = await employee_count(world)
    problem(await world.api.post(EMPLOYEES, json=body, headers=world.admin.headers), 422)
    assert await employee_count(world) == before


async def test_create_employee_needs_manage_employees(world: World) -> None:
    supervisor = await world.employee([p for p in ALL_PERMISSIONS if p != "manage_employees"])
    response = await world.api.post(EMPLOYEES, json=new_employee("x1"), headers=supervisor.headers)
    problem(response, 403)
    client = await world.client()
    response = await world.api.post(
        EMPLOYEES, json=new_employee("x2"), headers=client.persons[0].headers
    )
    problem(response, 403)
    problem(
        await world.api.post("/api/v1/auth/token", json={"login": "x1", "password": PASSWORD}),
        401,
        "invalid_credentials",
    )


async def test_create_employee_unauthorized(world: World) -> None:
    await assert_unauthorized(world, "POST", EMPLOYEES, new_employee("nobody"))


# --- GET /employees ------------------------------------------------------------------------


async def test_list_employees_pages_with_limit_and_cursor(world: World) -> None:
    created = [await world.employee(name=f"Сотрудник {i}") for i in range(5)]
    items, pages = await collect(world.api, EMPLOYEES, world.admin.headers, 2)
    ids = [e["id"] for e in items]
    assert len(ids) == len(set(ids)), "no employee twice"
    assert {e.id for e in created} | {world.admin.id} == set(ids)
    assert pages == 3
    for item in items:
        assert item.keys() >= EMPLOYEE_FIELDS
    # Without limit: the default page (50) holds them all.
    page = ok(await world.api.get(EMPLOYEES, headers=world.admin.headers), 200)
    assert [e["id"] for e in assert_page(page)] == ids
    assert page["next_cursor"] is None


async def test_list_employees_exact_page_has_no_next_cursor(world: World) -> None:
    await world.employee()
    page = ok(await world.api.get(f"{EMPLOYEES}?limit=2", headers=world.admin.headers), 200)
    assert len(page["items"]) == 2
    assert page["next_cursor"] is None


async def test_list_employees_any_employee_may(world: World) -> None:
    emp = await world.employee([])
    page = ok(await world.api.get(f"{EMPLOYEES}?limit=200", headers=emp.headers), 200)
    assert emp.id in {e["id"] for e in assert_page(page)}


@pytest.mark.parametrize("limit", ["201", "1000", "0", "-1", "many"])
async def test_list_employees_bad_limit(world: World, limit: str) -> None:
    response = await world.api.get(f"{EMPLOYEES}?limit={limit}", headers=world.admin.headers)
    problem(response, 422)


async def test_list_employees_limit_200_is_fine(world: World) -> None:
    ok(await world.api.get(f"{EMPLOYEES}?limit=200", headers=world.admin.headers), 200)


@pytest.mark.parametrize("cursor", ["garbage", "!!!", "eyJpZCI6ICJ4In0"])
async def test_list_employees_bad_cursor(world: World, cursor: str) -> None:
    response = await world.api.get(f"{EMPLOYEES}?cursor={cursor}", headers=world.admin.headers)
    problem(response, 422)


async def test_list_employees_person_is_403(world: World) -> None:
    client = await world.client()
    problem(await world.api.get(EMPLOYEES, headers=client.persons[0].headers), 403)


async def test_list_employees_unauthorized(world: World) -> None:
    await assert_unauthorized(world, "GET", EMPLOYEES)


# --- GET /employees/{id} -------------------------------------------------------------------


async def test_get_employee(world: World) -> None:
    target = await world.employee(["general_chat"], general_limit=2, name="Пётр Сидоров")
    viewer = await world.employee([])
    body = ok(await world.api.get(f"{EMPLOYEES}/{target.id}", headers=viewer.headers), 200)
    assert body.keys() >= EMPLOYEE_FIELDS
    assert body["id"] == target.id
    assert body["login"] == target.login
    assert body["full_name"] == "Пётр Сидоров"
    assert body["permissions"] == ["general_chat"]
    assert body["general_limit"] == 2
    assert body["status"] == "offline"
    assert body["is_enabled"] is True


async def test_get_employee_unknown_is_404(world: World) -> None:
    problem(await world.api.get(f"{EMPLOYEES}/999999", headers=world.admin.headers), 404)


async def test_get_employee_bad_id_is_422(world: World) -> None:
    problem(await world.api.get(f"{EMPLOYEES}/abc", headers=world.admin.headers), 422)


async def test_get_employee_person_is_403(world: World) -> None:
    client = await world.client()
    response = await world.api.get(
        f"{EMPLOYEES}/{world.admin.id}", headers=client.persons[0].headers
    )
    problem(response, 403)


async def test_get_employee_unauthorized(world: World) -> None:
    await assert_unauthorized(world, "GET", f"{EMPLOYEES}/{world.admin.id}")


# --- PATCH /employees/{id} -----------------------------------------------------------------


async def test_patch_employee_fields(world: World) -> None:
    emp = await world.employee(["general_chat"], general_limit=2)
    body = {
        "full_name": "Новое Имя",
        "permissions": ["supervise", "manage_clients"],
        "general_limit": 7,
    }
    out = ok(
        await world.api.patch(f"{EMPLOYEES}/{emp.id}", json=body, headers=world.admin.headers),
        200,
    )
    assert out.keys() >= EMPLOYEE_FIELDS
    assert out["full_name"] == "Новое Имя"
    assert sorted(out["permissions"]) == ["manage_clients", "supervise"]
    assert out["general_limit"] == 7
    assert out["is_enabled"] is True
    again = ok(await world.api.get(f"{EMPLOYEES}/{emp.id}", headers=world.admin.headers), 200)
    assert again == out
    # Only what is given changes; null general_limit means the default setting.
    out = ok(
        await world.api.patch(
            f"{EMPLOYEES}/{emp.id}", json={"general_limit": None}, headers=world.admin.headers
        ),
        200,
    )
    assert out["general_limit"] is None
    assert out["full_name"] == "Новое Имя"
    out = ok(await world.api.patch(f"{EMPLOYEES}/{emp.id}", json={}, headers=world.admin.headers))
    assert out["full_name"] == "Новое Имя"


async def test_patch_disable_ends_tokens_at_once(world: World) -> None:
    emp = await world.employee(["general_chat"])
    ok(await world.api.get("/api/v1/me", headers=emp.headers), 200)
    out = ok(
        await world.api.patch(
            f"{EMPLOYEES}/{emp.id}", json={"is_enabled": False}, headers=world.admin.headers
        ),
        200,
    )
    assert out["is_enabled"] is False
    problem(await world.api.get("/api/v1/me", headers=emp.headers), 401)
    problem(await world.api.get(EMPLOYEES, headers=emp.headers), 401)
    problem(
        await world.api.post("/api/v1/auth/token", json={"login": emp.login, "password": PASSWORD}),
        401,
        "invalid_credentials",
    )
    # Enabled again: a fresh login works, the old token stays void.
    out = ok(
        await world.api.patch(
            f"{EMPLOYEES}/{emp.id}", json={"is_enabled": True}, headers=world.admin.headers
        ),
        200,
    )
    assert out["is_enabled"] is True
    token = await login_token(world.api, emp.login, PASSWORD)
    ok(await world.api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}), 200)


async def test_patch_disable_active_employee_sets_offline(world: World) -> None:
    emp = await world.employee(["general_chat"], status="active")
    await disable_employee(world, emp)
    out = ok(await world.api.get(f"{EMPLOYEES}/{emp.id}", headers=world.admin.headers), 200)
    assert out["is_enabled"] is False
    assert out["status"] == "offline"


async def test_patch_password_change_ends_old_tokens(world: World) -> None:
    emp = await world.employee(["general_chat"])
    new_password = "another-long-password"
    ok(
        await world.api.patch(
            f"{EMPLOYEES}/{emp.id}", json={"password": new_password}, headers=world.admin.headers
        ),
        200,
    )
    problem(await world.api.get("/api/v1/me", headers=emp.headers), 401)
    problem(
        await world.api.post("/api/v1/auth/token", json={"login": emp.login, "password": PASSWORD}),
        401,
        "invalid_credentials",
    )
    token = await login_token(world.api, emp.login, new_password)
    ok(await world.api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}), 200)


async def test_patch_disabling_a_personal_manager_is_409(world: World) -> None:
    manager = await world.manager()
    await world.client(manager=manager)
    response = await world.api.patch(
        f"{EMPLOYEES}/{manager.id}", json={"is_enabled": False}, headers=world.admin.headers
    )
    problem(response, 409, "employee_is_personal_manager")
    ok(await world.api.get("/api/v1/me", headers=manager.headers), 200)


@pytest.mark.parametrize(
    "body",
    [
        {"full_name": ""},
        {"full_name": "  "},
        {"full_name": None},
        {"permissions": ["root"]},
        {"permissions": None},
        {"general_limit": -3},
        {"is_enabled": "maybe"},
        {"is_enabled": None},
        {"password": "short"},
    ],
    ids=repr,
)
async def test_patch_employee_validation(world: World, body: dict[str, Any]) -> None:
    emp = await world.employee(["general_chat"], general_limit=2)
    before = ok(await world.api.get(f"{EMPLOYEES}/{emp.id}", headers=world.admin.headers))
    response = await world.api.patch(
        f"{EMPLOYEES}/{emp.id}", json=body, headers=world.admin.headers
    )
    problem(response, 422)
    after = ok(await world.api.get(f"{EMPLOYEES}/{emp.id}", headers=world.admin.headers))
    assert after == before
    ok(await world.api.get("/api/v1/me", headers=emp.headers), 200)


async def test_patch_employee_needs_manage_employees(world: World) -> None:
    emp = await world.employee([p for p in ALL_PERMISSIONS if p != "manage_employees"])
    target = await world.employee(["general_chat"])
    response = await world.api.patch(
        f"{EMPLOYEES}/{target.id}", json={"full_name": "Взлом"}, headers=emp.headers
    )
    problem(response, 403)
    # Not even oneself.
    response = await world.api.patch(
        f"{EMPLOYEES}/{emp.id}", json={"permissions": ALL_PERMISSIONS}, headers=emp.headers
    )
    problem(response, 403)
    client = await world.client()
    response = await world.api.patch(
        f"{EMPLOYEES}/{target.id}", json={"full_name": "Взлом"}, headers=client.persons[0].headers
    )
    problem(response, 403)
    out = ok(await world.api.get(f"{EMPLOYEES}/{target.id}", headers=world.admin.headers))
    assert out["full_name"] != "Взлом"


async def test_patch_employee_unknown_is_404(world: World) -> None:
    response = await world.api.patch(
        f"{EMPLOYEES}/999999", json={"full_name": "Никто"}, headers=world.admin.headers
    )
    problem(response, 404)


async def test_patch_employee_unauthorized(world: World) -> None:
    await assert_unauthorized(
        world, "PATCH", f"{EMPLOYEES}/{world.admin.id}", {"full_name": "Взлом"}
    )


# --- PUT /me/status ------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["active", "break", "offline"])
async def test_set_my_status(world: World, status: str) -> None:
    emp = await world.employee(["general_chat"])
    body = ok(
        await world.api.put("/api/v1/me/status", json={"status": status}, headers=emp.headers),
        200,
    )
    assert body == {"status": status}
    out = ok(await world.api.get(f"{EMPLOYEES}/{emp.id}", headers=world.admin.headers))
    assert out["status"] == status
    me = ok(await world.api.get("/api/v1/me", headers=emp.headers))
    assert me["status"] == status


@pytest.mark.parametrize("body", [{"status": "busy"}, {"status": None}, {}, {"status": "Active"}])
async def test_set_my_status_validation(world: World, body: dict[str, Any]) -> None:
    emp = await world.employee(["general_chat"], status="break")
    problem(await world.api.put("/api/v1/me/status", json=body, headers=emp.headers), 422)
    out = ok(await world.api.get(f"{EMPLOYEES}/{emp.id}", headers=world.admin.headers))
    assert out["status"] == "break"


async def test_set_my_status_person_is_403(world: World) -> None:
    client = await world.client()
    response = await world.api.put(
        "/api/v1/me/status", json={"status": "active"}, headers=client.persons[0].headers
    )
    problem(response, 403)


async def test_set_my_status_unauthorized(world: World) -> None:
    await assert_unauthorized(world, "PUT", "/api/v1/me/status", {"status": "active"})


# --- PUT /employees/{id}/status ------------------------------------------------------------


async def test_supervisor_sets_someones_status(world: World) -> None:
    supervisor = await world.supervisor()
    emp = await world.employee(["general_chat"])
    for status in ("active", "break", "offline"):
        body = ok(
            await world.api.put(
                f"{EMPLOYEES}/{emp.id}/status", json={"status": status}, headers=supervisor.headers
            ),
            200,
        )
        assert body == {"status": status}
        me = ok(await world.api.get("/api/v1/me", headers=emp.headers))
        assert me["status"] == status


async def test_set_status_needs_supervise(world: World) -> None:
    emp = await world.employee([p for p in ALL_PERMISSIONS if p != "supervise"])
    target = await world.employee(["general_chat"])
    response = await world.api.put(
        f"{EMPLOYEES}/{target.id}/status", json={"status": "active"}, headers=emp.headers
    )
    problem(response, 403)
    client = await world.client()
    response = await world.api.put(
        f"{EMPLOYEES}/{target.id}/status",
        json={"status": "active"},
        headers=client.persons[0].headers,
    )
    problem(response, 403)
    out = ok(await world.api.get(f"{EMPLOYEES}/{target.id}", headers=world.admin.headers))
    assert out["status"] == "offline"


async def test_set_status_unknown_employee_is_404(world: World) -> None:
    response = await world.api.put(
        f"{EMPLOYEES}/999999/status", json={"status": "active"}, headers=world.admin.headers
    )
    problem(response, 404)


async def test_set_status_validation(world: World) -> None:
    emp = await world.employee(["general_chat"])
    response = await world.api.put(
        f"{EMPLOYEES}/{emp.id}/status", json={"status": "lunch"}, headers=world.admin.headers
    )
    problem(response, 422)


async def test_set_status_of_disabled_employee_is_409(world: World) -> None:
    emp = await world.employee(["general_chat"])
    await disable_employee(world, emp)
    response = await world.api.put(
        f"{EMPLOYEES}/{emp.id}/status", json={"status": "active"}, headers=world.admin.headers
    )
    problem(response, 409)
    out = ok(await world.api.get(f"{EMPLOYEES}/{emp.id}", headers=world.admin.headers))
    assert out["status"] == "offline"


async def test_set_status_unauthorized(world: World) -> None:
    await assert_unauthorized(
        world, "PUT", f"{EMPLOYEES}/{world.admin.id}/status", {"status": "active"}
    )
