from __future__ import annotations

from tests.support import World


async def test_spec_5_1_manager_offline_then_active(world: World) -> None:
    manager = await world.manager(status="offline")
    client = await world.client(manager=manager)
    person = client.persons[0]
    appeal = await world.ask(person, "personal_manager")
    assert appeal["status"] == "queued"
    assert appeal["reason"] == "waiting_for_personal_manager"
    assert appeal["waiting_for"]["id"] == manager.id
    await world.set_status(manager, "active")
    appeal = await world.appeal(appeal["id"])
    assert appeal["status"] == "assigned"
    assert appeal["assignee"]["id"] == manager.id
    assert appeal["reason"] == "personal_manager_active"
