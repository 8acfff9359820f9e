"""SPEC 10: presence with a grace period, recorded in the database, across processes."""

from __future__ import annotations

import asyncio

from tests.realtime.server import Server, open_socket
from tests.support import World, ok

GRACE = 1.5


async def _status(live: World, employee_id: int) -> str:
    data = ok(await live.api.get(f"/api/v1/employees/{employee_id}", headers=live.admin.headers))
    status: str = data["status"]
    return status


async def _short_grace(live: World) -> None:
    ok(
        await live.api.patch(
            "/api/v1/settings", json={"offline_grace_seconds": 1}, headers=live.admin.headers
        )
    )


async def test_spec_10_a_connection_back_within_the_grace_changes_nothing(
    server: Server, live: World
) -> None:
    await _short_grace(live)
    manager = await live.manager(status="active")
    client = await live.client(manager=manager)
    appeal = await live.ask(client.persons[0], "personal_manager")
    assert appeal["assignee"]["id"] == manager.id
    async with open_socket(server, manager.token):
        await asyncio.sleep(0.3)
    async with open_socket(server, manager.token):
        await asyncio.sleep(0.3)
        async with open_socket(server, manager.token):
            await asyncio.sleep(0.2)
        # one of two connections closed: still connected
        await asyncio.sleep(GRACE + 1.0)
        assert await _status(live, manager.id) == "active"
    assert (await live.appeal(appeal["id"]))["assignee"]["id"] == manager.id


async def test_spec_10_gone_past_the_grace_goes_offline_with_every_consequence(
    server: Server, live: World
) -> None:
    await _short_grace(live)
    old = await live.manager(status="active")
    new = await live.manager(status="active")
    operator = await live.operator(limit=2)
    client = await live.client(manager=old)
    pm_appeal = await live.ask(client.persons[0], "personal_manager")
    other = await live.client()
    general = await live.ask(other.persons[0], "general")
    assert general["assignee"]["id"] == operator.id
    await live.set_manager(client, new)  # the old manager keeps it while active (SPEC 6.1)
    assert (await live.appeal(pm_appeal["id"]))["assignee"]["id"] == old.id

    async with open_socket(server, old.token), open_socket(server, operator.token):
        await asyncio.sleep(0.3)
    await asyncio.sleep(GRACE + 1.5)

    assert await _status(live, old.id) == "offline"
    assert await _status(live, operator.id) == "offline"
    handed = await live.appeal(pm_appeal["id"])
    assert handed["assignee"]["id"] == new.id
    assert handed["reason"] == "handover_to_new_personal_manager"
    returned = await live.appeal(general["id"])
    assert returned["status"] == "queued"
    assert returned["reason"] == "returned_operator_inactive"
    history = await live.history(pm_appeal["id"])
    assert history[-1]["actor"]["type"] == "system"


async def test_spec_10_an_employee_who_never_connected_is_left_alone(
    server: Server, live: World
) -> None:
    await _short_grace(live)
    api_only = await live.operator(limit=2)
    await asyncio.sleep(GRACE + 1.0)
    assert await _status(live, api_only.id) == "active"
    del server
