"""API.md: PUT /clients/{id}/personal-manager, its history, and POST /personal-managers/moves."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import (
    PM_CHANGE_FIELDS,
    assert_page,
    assert_time,
    assert_unauthorized,
    collect,
    disable_employee,
    problem,
)
from tests.support import ALL_PERMISSIONS, ClientRef, Emp, World, ok

MOVES = "/api/v1/personal-managers/moves"


def pm_url(client_id: int) -> str:
    return f"/api/v1/clients/{client_id}/personal-manager"


async def put_pm(world: World, who: Emp, client_id: int, employee_id: Any) -> Any:
    return await world.api.put(
        pm_url(client_id), json={"employee_id": employee_id}, headers=who.headers
    )


async def current_pm(world: World, client: ClientRef) -> int | None:
    body = ok(await world.api.get(f"/api/v1/clients/{client.id}", headers=world.admin.headers))
    pm = body["personal_manager"]
    return None if pm is None else int(pm["id"])


async def history(world: World, client: ClientRef, who: Emp | None = None) -> list[dict[str, Any]]:
    headers = (who or world.admin).headers
    page = ok(await world.api.get(f"{pm_url(client.id)}/history?limit=200", headers=headers), 200)
    return assert_page(page)


# --- PUT /clients/{id}/personal-manager ----------------------------------------------------


async def test_set_change_and_remove_personal_manager(world: World) -> None:
    boss = await world.employee(["manage_personal_managers"])
    first, second = await world.manager(), await world.manager()
    client = await world.client()

    body = ok(await put_pm(world, boss, client.id, first.id), 200)
    assert set(body) >= PM_CHANGE_FIELDS
    assert body["client_id"] == client.id
    assert body["personal_manager_id"] == first.id
    assert body["previous_personal_manager_id"] is None
    assert body["changed_by"] == boss.id
    assert_time(body["changed_at"])
    assert await current_pm(world, client) == first.id

    body = ok(await put_pm(world, boss, client.id, second.id), 200)
    assert body["personal_manager_id"] == second.id
    assert body["previous_personal_manager_id"] == first.id
    assert await current_pm(world, client) == second.id

    body = ok(await put_pm(world, boss, client.id, None), 200)
    assert body["personal_manager_id"] is None
    assert body["previous_personal_manager_id"] == second.id
    assert await current_pm(world, client) is None


async def test_set_personal_manager_employee_not_found(world: World) -> None:
    manager = await world.manager()
    client = await world.client(manager=manager)
    problem(await put_pm(world, world.admin, client.id, 999999), 422, "employee_not_found")
    assert await current_pm(world, client) == manager.id
    assert len(await history(world, client)) == 1


async def test_set_personal_manager_employee_disabled(world: World) -> None:
    manager = await world.manager()
    disabled = await world.manager()
    await disable_employee(world, disabled)
    client = await world.client(manager=manager)
    problem(await put_pm(world, world.admin, client.id, disabled.id), 422, "employee_disabled")
    assert await current_pm(world, client) == manager.id
    assert len(await history(world, client)) == 1


@pytest.mark.parametrize("body", [{}, {"employee_id": "one"}, {"employee_id": 1.5}, []], ids=repr)
async def test_set_personal_manager_bad_body(world: World, body: Any) -> None:
    client = await world.client()
    response = await world.api.put(pm_url(client.id), json=body, headers=world.admin.headers)
    problem(response, 422)
    assert await current_pm(world, client) is None


async def test_set_personal_manager_needs_manage_personal_managers(world: World) -> None:
    manager = await world.manager()
    client = await world.client()
    others = await world.employee([p for p in ALL_PERMISSIONS if p != "manage_personal_managers"])
    problem(await put_pm(world, others, client.id, manager.id), 403)
    # Not even for oneself.
    problem(await put_pm(world, others, client.id, others.id), 403)
    response = await world.api.put(
        pm_url(client.id), json={"employee_id": manager.id}, headers=client.persons[0].headers
    )
    problem(response, 403)
    assert await current_pm(world, client) is None
    assert await history(world, client) == []


async def test_set_personal_manager_unknown_client_is_404(world: World) -> None:
    manager = await world.manager()
    problem(await put_pm(world, world.admin, 999999, manager.id), 404)


async def test_set_personal_manager_unauthorized(world: World) -> None:
    client = await world.client()
    await assert_unauthorized(world, "PUT", pm_url(client.id), {"employee_id": None}, body=True)


# --- GET /clients/{id}/personal-manager/history -------------------------------------------


async def test_history_newest_first_with_changed_by(world: World) -> None:
    boss = await world.employee(["manage_personal_managers"])
    a, b = await world.manager(), await world.manager()
    client = await world.client()
    first = ok(await put_pm(world, world.admin, client.id, a.id))
    second = ok(await put_pm(world, boss, client.id, b.id))
    third = ok(await put_pm(world, boss, client.id, None))
    items = await history(world, client)
    assert items == [third, second, first]
    for item in items:
        assert set(item) >= PM_CHANGE_FIELDS
        assert item["client_id"] == client.id
    assert [i["changed_by"] for i in items] == [boss.id, boss.id, world.admin.id]
    assert [i["personal_manager_id"] for i in items] == [None, b.id, a.id]
    assert [i["previous_personal_manager_id"] for i in items] == [b.id, a.id, None]
    # Paged: the same, newest first.
    paged, pages = await collect(world.api, f"{pm_url(client.id)}/history", world.admin.headers, 2)
    assert paged == items
    assert pages == 2


async def test_history_readable_with_supervise(world: World) -> None:
    client = await world.client(manager=await world.manager())
    supervisor = await world.supervisor()
    assert len(await history(world, client, supervisor)) == 1


async def test_history_needs_permission(world: World) -> None:
    manager = await world.manager()
    client = await world.client(manager=manager)
    emp = await world.employee(["general_chat", "manage_clients", "manage_employees"])
    problem(await world.api.get(f"{pm_url(client.id)}/history", headers=emp.headers), 403)
    # The manager themself holds neither permission.
    problem(await world.api.get(f"{pm_url(client.id)}/history", headers=manager.headers), 403)
    person = client.persons[0]
    problem(await world.api.get(f"{pm_url(client.id)}/history", headers=person.headers), 403)


async def test_history_unknown_client_is_404(world: World) -> None:
    problem(await world.api.get(f"{pm_url(999999)}/history", headers=world.admin.headers), 404)


async def test_history_limit_above_200_is_422(world: World) -> None:
    client = await world.client()
    response = await world.api.get(
        f"{pm_url(client.id)}/history?limit=201", headers=world.admin.headers
    )
    problem(response, 422)


async def test_history_unauthorized(world: World) -> None:
    client = await world.client()
    await assert_unauthorized(world, "GET", f"{pm_url(client.id)}/history")


# --- POST /personal-managers/moves ---------------------------------------------------------


async def portfolio(world: World) -> tuple[Emp, Emp, list[ClientRef], dict[str, Any]]:
    """A (active) manages three clients; one person's PM appeal is assigned to A."""
    a = await world.manager(status="active")
    b = await world.manager(status="offline")
    clients = [await world.client(manager=a) for _ in range(3)]
    appeal = await world.ask(clients[0].persons[0], "personal_manager")
    assert appeal["status"] == "assigned"
    assert appeal["assignee"]["id"] == a.id
    return a, b, clients, appeal


async def test_move_dry_run_changes_nothing(world: World) -> None:
    a, b, clients, appeal = await portfolio(world)
    other = await world.client(manager=b)
    histories = [await history(world, c) for c in clients]
    body = ok(
        await world.api.post(
            MOVES,
            json={"from_employee_id": a.id, "to_employee_id": b.id, "dry_run": True},
            headers=world.admin.headers,
        ),
        200,
    )
    assert body["clients"] == 3
    assert body["open_appeals_staying"] == 1
    assert body["queued_appeals_moving"] == 0
    for client, before in zip(clients, histories, strict=True):
        assert await current_pm(world, client) == a.id
        assert await history(world, client) == before
    assert await current_pm(world, other) == b.id
    assert await world.appeal(appeal["id"]) == appeal
    mine = ok(await world.api.get("/api/v1/me/clients", headers=a.headers))
    assert [c["id"] for c in mine["items"]] == [c.id for c in clients]


async def test_move_moves_every_client(world: World) -> None:
    a, b, clients, appeal = await portfolio(world)
    boss = await world.employee(["manage_personal_managers"])
    body = ok(
        await world.api.post(
            MOVES,
            json={"from_employee_id": a.id, "to_employee_id": b.id, "dry_run": False},
            headers=boss.headers,
        ),
        200,
    )
    assert body["clients"] == 3
    assert body["open_appeals_staying"] == 1
    assert body["queued_appeals_moving"] == 0
    for client in clients:
        assert await current_pm(world, client) == b.id
        latest = (await history(world, client))[0]
        assert latest["personal_manager_id"] == b.id
        assert latest["previous_personal_manager_id"] == a.id
        assert latest["changed_by"] == boss.id
    # SPEC 6.1: the appeal A holds stays with A while A is active.
    moved = await world.appeal(appeal["id"])
    assert moved["status"] == "assigned"
    assert moved["assignee"]["id"] == a.id
    mine = ok(await world.api.get("/api/v1/me/clients", headers=a.headers))
    assert mine["items"] == []
    theirs = ok(await world.api.get("/api/v1/me/clients", headers=b.headers))
    assert [c["id"] for c in theirs["items"]] == [c.id for c in clients]
    # Moving an empty portfolio moves nothing.
    body = ok(
        await world.api.post(
            MOVES,
            json={"from_employee_id": a.id, "to_employee_id": b.id, "dry_run": False},
            headers=boss.headers,
        ),
        200,
    )
    assert (body["clients"], body["open_appeals_staying"], body["queued_appeals_moving"]) == (
        0,
        0,
        0,
    )


async def test_move_queued_appeals_follow(world: World) -> None:
    a = await world.manager(status="offline")
    b = await world.manager(status="active")
    clients = [await world.client(manager=a) for _ in range(2)]
    waiting = [await world.ask(c.persons[0], "personal_manager") for c in clients]
    assert all(w["status"] == "queued" and w["waiting_for"]["id"] == a.id for w in waiting)
    dry = ok(
        await world.api.post(
            MOVES,
            json={"from_employee_id": a.id, "to_employee_id": b.id, "dry_run": True},
            headers=world.admin.headers,
        ),
        200,
    )
    assert (dry["clients"], dry["open_appeals_staying"], dry["queued_appeals_moving"]) == (2, 0, 2)
    for w in waiting:
        assert await world.appeal(w["id"]) == w
    real = ok(
        await world.api.post(
            MOVES,
            json={"from_employee_id": a.id, "to_employee_id": b.id, "dry_run": False},
            headers=world.admin.headers,
        ),
        200,
    )
    assert (real["clients"], real["open_appeals_staying"], real["queued_appeals_moving"]) == (
        2,
        0,
        2,
    )
    for w in waiting:
        now = await world.appeal(w["id"])
        assert now["status"] == "assigned"
        assert now["assignee"]["id"] == b.id


@pytest.mark.parametrize("which", ["from", "to"])
async def test_move_employee_not_found(world: World, which: str) -> None:
    a = await world.manager()
    client = await world.client(manager=a)
    body = {"from_employee_id": a.id, "to_employee_id": 999999, "dry_run": False}
    if which == "from":
        body = {"from_employee_id": 999999, "to_employee_id": a.id, "dry_run": False}
    problem(
        await world.api.post(MOVES, json=body, headers=world.admin.headers),
        422,
        "employee_not_found",
    )
    assert await current_pm(world, client) == a.id


async def test_move_to_disabled_employee(world: World) -> None:
    a, b = await world.manager(), await world.manager()
    await disable_employee(world, b)
    client = await world.client(manager=a)
    response = await world.api.post(
        MOVES,
        json={"from_employee_id": a.id, "to_employee_id": b.id, "dry_run": False},
        headers=world.admin.headers,
    )
    problem(response, 422, "employee_disabled")
    assert await current_pm(world, client) == a.id


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"from_employee_id": 1},
        {"from_employee_id": "a", "to_employee_id": 2, "dry_run": False},
        {"from_employee_id": 1, "to_employee_id": 2, "dry_run": "perhaps"},
    ],
    ids=repr,
)
async def test_move_bad_body(world: World, body: dict[str, Any]) -> None:
    problem(await world.api.post(MOVES, json=body, headers=world.admin.headers), 422)


async def test_move_needs_manage_personal_managers(world: World) -> None:
    a, b = await world.manager(), await world.manager()
    client = await world.client(manager=a)
    emp = await world.employee([p for p in ALL_PERMISSIONS if p != "manage_personal_managers"])
    body = {"from_employee_id": a.id, "to_employee_id": b.id, "dry_run": False}
    problem(await world.api.post(MOVES, json=body, headers=emp.headers), 403)
    problem(await world.api.post(MOVES, json=body, headers=client.persons[0].headers), 403)
    assert await current_pm(world, client) == a.id


async def test_move_unauthorized(world: World) -> None:
    await assert_unauthorized(
        world, "POST", MOVES, {"from_employee_id": 1, "to_employee_id": 2, "dry_run": True}
    )
