"""Failed logins are throttled per login and per client address; sessions end at once.

The window is 15 minutes; the tests move the stored window back instead of waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from switchboard.app import create_app
from switchboard.auth.models import LoginThrottle
from switchboard.config import Settings
from switchboard.kit.clock import utcnow
from tests.api.helpers import disable_employee, problem
from tests.support import PASSWORD, World, auth, ok

TOKEN = "/api/v1/auth/token"
LOGIN_LIMIT = 5
ADDRESS_LIMIT = 20
WINDOW = 15 * 60


def _body(login: str, password: str = PASSWORD) -> dict[str, str]:
    return {"login": login, "password": password}


async def _fail(api: httpx.AsyncClient, login: str, times: int) -> None:
    for _ in range(times):
        problem(
            await api.post(TOKEN, json=_body(login, "wrong-password")), 401, "invalid_credentials"
        )


def _throttled(response: httpx.Response) -> int:
    body = problem(response, 429, "too_many_attempts")
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= WINDOW
    assert body["retry_after"] == retry_after
    return retry_after


async def _age_windows(app: Any, seconds: int) -> None:
    """Move every throttle window `seconds` into the past, as if that time had gone by."""
    async with app.state.db.uow() as uow:
        await uow.session.execute(
            update(LoginThrottle).values(window_started_at=utcnow() - timedelta(seconds=seconds))
        )
        await uow.commit()


async def _audit(world: World, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = ok(
        await world.api.get(
            "/api/v1/audit", params={"limit": 200, **params}, headers=world.admin.headers
        )
    )["items"]
    return items


async def test_after_five_failures_even_the_right_password_gets_429(world: World) -> None:
    emp = await world.employee(["general_chat"])
    await _fail(world.api, emp.login, LOGIN_LIMIT)
    retry_after = _throttled(await world.api.post(TOKEN, json=_body(emp.login)))
    assert retry_after > WINDOW - 60
    _throttled(await world.api.post(TOKEN, json=_body(emp.login, "wrong-password")))
    # Other logins from the same address are not held up by one login's failures.
    other = await world.employee(["general_chat"])
    ok(await world.api.post(TOKEN, json=_body(other.login)), 200)
    # The token issued before the failures still works: throttling refuses logins, not sessions.
    ok(await world.api.get("/api/v1/me", headers=emp.headers), 200)

    records = await _audit(world, employee_id=emp.id)
    actions = [r["action"] for r in records]
    assert actions.count("login_failed") == LOGIN_LIMIT
    assert actions.count("login_throttled") == 2
    throttled = next(r for r in records if r["action"] == "login_throttled")
    assert throttled["actor"] == {"type": "system", "id": None}
    assert throttled["details"]["login"] == emp.login
    assert throttled["details"]["limits"] == ["login"]
    assert throttled["details"]["address"] == "127.0.0.1"
    failed = next(r for r in records if r["action"] == "login_failed")
    assert failed["details"]["reason"] == "wrong_password"


async def test_the_fifth_failure_is_still_checked(world: World) -> None:
    emp = await world.employee(["general_chat"])
    await _fail(world.api, emp.login, LOGIN_LIMIT - 1)
    ok(await world.api.post(TOKEN, json=_body(emp.login)), 200)


async def test_after_the_window_the_right_password_works_again(world: World, app: Any) -> None:
    emp = await world.employee(["general_chat"])
    await _fail(world.api, emp.login, LOGIN_LIMIT)
    _throttled(await world.api.post(TOKEN, json=_body(emp.login)))
    await _age_windows(app, WINDOW - 5)
    retry_after = _throttled(await world.api.post(TOKEN, json=_body(emp.login)))
    assert retry_after <= 5
    await _age_windows(app, WINDOW)
    ok(await world.api.post(TOKEN, json=_body(emp.login)), 200)


async def test_failures_of_an_old_window_start_a_new_count(world: World, app: Any) -> None:
    emp = await world.employee(["general_chat"])
    await _fail(world.api, emp.login, LOGIN_LIMIT)
    await _age_windows(app, WINDOW + 1)
    await _fail(world.api, emp.login, LOGIN_LIMIT)  # a fresh window: five more are checked
    _throttled(await world.api.post(TOKEN, json=_body(emp.login)))


async def test_a_success_resets_the_login_count(world: World) -> None:
    emp = await world.employee(["general_chat"])
    await _fail(world.api, emp.login, LOGIN_LIMIT - 1)
    ok(await world.api.post(TOKEN, json=_body(emp.login)), 200)
    await _fail(world.api, emp.login, LOGIN_LIMIT)
    _throttled(await world.api.post(TOKEN, json=_body(emp.login)))


async def test_unknown_logins_are_throttled_too(world: World) -> None:
    await _fail(world.api, "nobody-at-all", LOGIN_LIMIT)
    _throttled(await world.api.post(TOKEN, json=_body("nobody-at-all")))
    records = await _audit(world, action="login_failed")
    assert all(r["employee_id"] is None for r in records)
    assert {r["details"]["reason"] for r in records} == {"unknown_login"}


@pytest.fixture
async def elsewhere(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client at another address."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_an_address_is_throttled_after_twenty_failures(
    world: World, elsewhere: httpx.AsyncClient
) -> None:
    emp = await world.employee(["general_chat"])
    # Twenty failures spread over logins, none of which reaches its own limit.
    for n in range(ADDRESS_LIMIT // 4):
        await _fail(world.api, f"guess-{n}", 4)
    response = await world.api.post(TOKEN, json=_body(emp.login))
    _throttled(response)
    records = await _audit(world, action="login_throttled")
    assert records[0]["details"]["limits"] == ["address"]
    assert records[0]["employee_id"] == emp.id
    # The same employee from another address logs in.
    ok(await elsewhere.post(TOKEN, json=_body(emp.login)), 200)
    records = await _audit(world, action="login")
    assert records[0]["details"]["address"] == "203.0.113.7"


async def test_successful_logins_never_count_against_an_address(world: World) -> None:
    emp = await world.employee(["general_chat"])
    await _fail(world.api, "someone-else", 4)
    for _ in range(ADDRESS_LIMIT + 5):
        ok(await world.api.post(TOKEN, json=_body(emp.login)), 200)


async def test_concurrent_guesses_never_pass_the_limit(world: World) -> None:
    emp = await world.employee(["general_chat"])
    attempts = 12
    responses = await asyncio.gather(
        *(world.api.post(TOKEN, json=_body(emp.login, f"guess-{n}")) for n in range(attempts))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [401] * LOGIN_LIMIT + [429] * (attempts - LOGIN_LIMIT)


async def test_the_count_is_shared_by_every_server_process(
    world: World, settings: Settings
) -> None:
    """Two app instances (two processes' worth of engines) on one database share the count."""
    emp = await world.employee(["general_chat"])
    second = create_app(settings, run_sweeper_task=False)
    async with second.router.lifespan_context(second):
        transport = httpx.ASGITransport(app=second)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            await _fail(world.api, emp.login, 3)
            await _fail(other, emp.login, 2)
            _throttled(await world.api.post(TOKEN, json=_body(emp.login)))
            _throttled(await other.post(TOKEN, json=_body(emp.login)))


async def test_the_password_never_reaches_the_audit_trail(world: World) -> None:
    emp = await world.employee(["general_chat"])
    secret = "Very-Secret-Guess-42"
    problem(await world.api.post(TOKEN, json=_body(emp.login, secret)), 401)
    ok(
        await world.api.patch(
            f"/api/v1/employees/{emp.id}",
            json={"password": "another-Secret-99"},
            headers=world.admin.headers,
        )
    )
    token = ok(await world.api.post(TOKEN, json=_body(emp.login, "another-Secret-99")))
    dump = str(await _audit(world))
    assert secret not in dump and "another-Secret-99" not in dump
    assert token["access_token"] not in dump and emp.token not in dump
    assert PASSWORD not in dump


async def test_429_is_documented_with_retry_after(world: World) -> None:
    schema = ok(await world.api.get("/api/v1/openapi.json"))
    response = schema["paths"][TOKEN]["post"]["responses"]["429"]
    assert "Retry-After" in response["headers"]


# --- sessions end at once -------------------------------------------------------------------


async def test_a_password_change_ends_every_session_at_once(world: World) -> None:
    emp = await world.employee(["general_chat"])
    second = ok(await world.api.post(TOKEN, json=_body(emp.login)))["access_token"]
    for token in (emp.token, second):
        ok(await world.api.get("/api/v1/me", headers=auth(token)), 200)
    ok(
        await world.api.patch(
            f"/api/v1/employees/{emp.id}",
            json={"password": "a-new-password"},
            headers=world.admin.headers,
        )
    )
    for token in (emp.token, second):
        problem(await world.api.get("/api/v1/me", headers=auth(token)), 401, "invalid_token")
    problem(await world.api.post(TOKEN, json=_body(emp.login)), 401, "invalid_credentials")
    fresh = ok(await world.api.post(TOKEN, json=_body(emp.login, "a-new-password")))
    ok(await world.api.get("/api/v1/me", headers=auth(fresh["access_token"])), 200)
    records = await _audit(world, employee_id=emp.id, action="password_changed")
    assert [r["actor"] for r in records] == [{"type": "employee", "id": world.admin.id}]


async def test_disabling_ends_every_session_at_once(world: World) -> None:
    emp = await world.employee(["general_chat"], status="active")
    second = ok(await world.api.post(TOKEN, json=_body(emp.login)))["access_token"]
    await disable_employee(world, emp)
    for token in (emp.token, second):
        problem(await world.api.get("/api/v1/me", headers=auth(token)), 401, "invalid_token")
        problem(
            await world.api.put(
                "/api/v1/me/status", json={"status": "active"}, headers=auth(token)
            ),
            401,
        )
    # Enabling again does not bring old tokens back.
    ok(
        await world.api.patch(
            f"/api/v1/employees/{emp.id}", json={"is_enabled": True}, headers=world.admin.headers
        )
    )
    problem(await world.api.get("/api/v1/me", headers=auth(second)), 401, "invalid_token")
