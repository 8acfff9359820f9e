"""SPEC 9.4 and 10: the sweep heals what a crash interrupted, and moves nothing twice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from switchboard.appeals.models import Appeal, AppealEvent
from switchboard.routing.sweep import sweep_once
from tests.support import World


async def _strand(app: Any, appeal_id: int, waiting_for: int | None) -> None:
    """Put an appeal back in the queue behind routing's back, as a crash mid-change could."""
    async with app.state.db.uow() as uow:
        await uow.session.execute(
            update(Appeal)
            .where(Appeal.id == appeal_id)
            .values(status="queued", assignee_id=None, waiting_for_id=waiting_for)
        )
        await uow.commit()


async def _history_len(app: Any, appeal_id: int) -> int:
    async with app.state.db.uow() as uow:
        rows = await uow.session.execute(
            select(AppealEvent.id).where(AppealEvent.appeal_id == appeal_id)
        )
        return len(rows.all())


async def test_spec_10_sweep_routes_a_stranded_pm_appeal_once(world: World, app: Any) -> None:
    manager = await world.manager(status="active")
    client = await world.client(manager=manager)
    appeal = await world.ask(client.persons[0], "personal_manager")
    assert appeal["assignee"]["id"] == manager.id
    await _strand(app, appeal["id"], manager.id)
    before = await _history_len(app, appeal["id"])

    assert await sweep_once(app.state.db) == 1
    healed = await world.appeal(appeal["id"])
    assert healed["status"] == "assigned"
    assert healed["assignee"]["id"] == manager.id
    assert await _history_len(app, appeal["id"]) == before + 1

    assert await sweep_once(app.state.db) == 0
    assert await _history_len(app, appeal["id"]) == before + 1


async def test_spec_10_sweep_routes_stranded_general_appeals_oldest_first(
    world: World, app: Any
) -> None:
    first = await world.client()
    second = await world.client()
    a1 = await world.ask(first.persons[0], "general")
    a2 = await world.ask(second.persons[0], "general")
    assert a1["status"] == a2["status"] == "queued"
    operator = await world.operator(limit=1, status="offline")
    # The operator turns active in a transaction that "crashed" before routing ran.
    async with app.state.db.uow() as uow:
        from switchboard.people.models import Employee

        await uow.session.execute(
            update(Employee).where(Employee.id == operator.id).values(status="active")
        )
        await uow.commit()
    assert (await world.appeal(a1["id"]))["status"] == "queued"

    assert await sweep_once(app.state.db) == 1
    assert (await world.appeal(a1["id"]))["assignee"]["id"] == operator.id
    assert (await world.appeal(a2["id"]))["status"] == "queued"
    assert await sweep_once(app.state.db) == 0


async def test_spec_10_sweep_leaves_a_pm_appeal_whose_manager_is_away(
    world: World, app: Any
) -> None:
    manager = await world.manager(status="offline")
    client = await world.client(manager=manager)
    appeal = await world.ask(client.persons[0], "personal_manager")
    assert appeal["status"] == "queued"
    assert await sweep_once(app.state.db) == 0
    assert (await world.appeal(appeal["id"]))["status"] == "queued"


async def test_spec_4_7_a_disabled_operator_keeps_nothing_even_without_requeue(
    world: World, app: Any
) -> None:
    ok_status = await world.api.patch(
        "/api/v1/settings",
        json={"requeue_general_on_inactive": False},
        headers=world.admin.headers,
    )
    assert ok_status.status_code == 200
    operator = await world.operator(limit=2)
    client = await world.client()
    appeal = await world.ask(client.persons[0], "general")
    assert appeal["assignee"]["id"] == operator.id
    await world.set_status(operator, "break")  # the setting keeps it with them on a break
    assert (await world.appeal(appeal["id"]))["assignee"]["id"] == operator.id
    r = await world.api.patch(
        f"/api/v1/employees/{operator.id}", json={"is_enabled": False}, headers=world.admin.headers
    )
    assert r.status_code == 200
    returned = await world.appeal(appeal["id"])
    assert returned["status"] == "queued"
    assert returned["reason"] == "returned_operator_inactive"
