"""API.md: GET /settings (any employee) and PATCH /settings (`manage_employees`)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import assert_unauthorized, problem
from tests.support import ALL_PERMISSIONS, World, ok

SETTINGS = "/api/v1/settings"
FIELDS = {
    "default_general_limit",
    "requeue_general_on_inactive",
    "pm_appeals_count_toward_limit",
    "offline_grace_seconds",
}
DEFAULTS = {
    "default_general_limit": 3,
    "requeue_general_on_inactive": True,
    "pm_appeals_count_toward_limit": False,
    "offline_grace_seconds": 60,
}


async def test_get_settings_any_employee(world: World) -> None:
    emp = await world.employee([])
    body = ok(await world.api.get(SETTINGS, headers=emp.headers), 200)
    assert set(body) == FIELDS
    assert body == DEFAULTS


async def test_patch_settings(world: World) -> None:
    change = {
        "default_general_limit": 5,
        "requeue_general_on_inactive": False,
        "pm_appeals_count_toward_limit": True,
        "offline_grace_seconds": 120,
    }
    body = ok(await world.api.patch(SETTINGS, json=change, headers=world.admin.headers), 200)
    assert body == change
    emp = await world.employee([])
    assert ok(await world.api.get(SETTINGS, headers=emp.headers), 200) == change


async def test_patch_settings_partial(world: World) -> None:
    body = ok(
        await world.api.patch(
            SETTINGS, json={"default_general_limit": 0}, headers=world.admin.headers
        ),
        200,
    )
    assert body == {**DEFAULTS, "default_general_limit": 0}
    body = ok(await world.api.patch(SETTINGS, json={}, headers=world.admin.headers), 200)
    assert body == {**DEFAULTS, "default_general_limit": 0}


async def test_raising_default_limit_routes_queued_general_appeals(world: World) -> None:
    ok(
        await world.api.patch(
            SETTINGS, json={"default_general_limit": 0}, headers=world.admin.headers
        )
    )
    operator = await world.operator()
    client = await world.client()
    appeal = await world.ask(client.persons[0], "general")
    assert appeal["status"] == "queued"
    ok(
        await world.api.patch(
            SETTINGS, json={"default_general_limit": 1}, headers=world.admin.headers
        )
    )
    appeal = await world.appeal(appeal["id"])
    assert appeal["status"] == "assigned"
    assert appeal["assignee"]["id"] == operator.id


@pytest.mark.parametrize(
    "change",
    [
        {"default_general_limit": -1},
        {"default_general_limit": "three"},
        {"default_general_limit": None},
        {"requeue_general_on_inactive": None},
        {"requeue_general_on_inactive": "sometimes"},
        {"pm_appeals_count_toward_limit": [True]},
        {"offline_grace_seconds": -5},
        {"offline_grace_seconds": 1.5},
    ],
    ids=repr,
)
async def test_patch_settings_validation(world: World, change: dict[str, Any]) -> None:
    problem(await world.api.patch(SETTINGS, json=change, headers=world.admin.headers), 422)
    assert ok(await world.api.get(SETTINGS, headers=world.admin.headers), 200) == DEFAULTS


async def test_patch_settings_needs_manage_employees(world: World) -> None:
    emp = await world.employee([p for p in ALL_PERMISSIONS if p != "manage_employees"])
    response = await world.api.patch(
        SETTINGS, json={"default_general_limit": 9}, headers=emp.headers
    )
    problem(response, 403)
    assert ok(await world.api.get(SETTINGS, headers=world.admin.headers), 200) == DEFAULTS


async def test_settings_person_is_403(world: World) -> None:
    client = await world.client()
    person = client.persons[0]
    problem(await world.api.get(SETTINGS, headers=person.headers), 403)
    response = await world.api.patch(
        SETTINGS, json={"default_general_limit": 9}, headers=person.headers
    )
    problem(response, 403)


async def test_get_settings_unauthorized(world: World) -> None:
    await assert_unauthorized(world, "GET", SETTINGS)


async def test_patch_settings_unauthorized(world: World) -> None:
    await assert_unauthorized(world, "PATCH", SETTINGS, {"default_general_limit": 9})
