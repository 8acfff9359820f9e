"""SPEC §8: reason codes in the appeal history."""

from __future__ import annotations

from typing import Any

from tests.scenarios.steps import (
    ALL_REASONS,
    ASSIGNED_REASONS,
    CLOSED_REASONS,
    GENERAL,
    INFORMATIONAL,
    PM,
    QUEUED_REASONS,
    assigned_to,
    patch_employee,
    patch_settings,
    pm_client,
    routing,
    transfer,
    waiting_for,
)
from tests.support import World, ok


def _latest_routing_reason(history: list[dict[str, Any]]) -> str:
    return [e["reason"] for e in history if e["reason"] and e["reason"] not in INFORMATIONAL][-1]


async def test_spec_8_every_reason_code_in_use_and_reason_is_the_latest(world: World) -> None:
    """Drive each code of SPEC 8 once; every appeal's `reason` is its latest routing reason."""
    seen: set[str] = set()
    appeal_ids: list[int] = []

    async def track(appeal_id: int) -> None:
        appeal_ids.append(appeal_id)

    # General: no_eligible_operator, routed, returned_operator_inactive, transferred,
    # returned_by_employee, closed_by_employee.
    person = (await world.client()).persons[0]
    general = await world.ask(person, GENERAL)
    await track(general["id"])
    first = await world.operator(limit=1)
    await world.set_status(first, "break")
    second = await world.operator(limit=2)
    third = await world.operator(limit=2)
    ok(await transfer(world, second, general["id"], third))
    ok(await transfer(world, third, general["id"], None))
    general = await world.appeal(general["id"])
    await world.close(world.admin, general["id"])

    # PM: waiting_for_personal_manager, personal_manager_active, personal_manager_changed,
    # handover_to_new_personal_manager, no_personal_manager, opened_by_employee,
    # closed_by_person.
    a = await world.manager(status="offline")
    b = await world.manager(status="active")
    client, pm_person = await pm_client(world, a)
    pm = await world.ask(pm_person, PM)
    await track(pm["id"])
    await world.set_status(a, "active")
    await world.set_manager(client, b)
    await world.set_status(a, "break")
    assigned_to(await world.appeal(pm["id"]), b, "handover_to_new_personal_manager")
    await world.set_manager(client, None)
    await world.set_status(b, "offline")
    waiting_for(await world.appeal(pm["id"]), None, "no_personal_manager")
    await world.close(pm_person, pm["id"])

    c = await world.manager()
    other_client, other_person = await pm_client(world, c)
    dialog_id = (await world.dialog(other_person, PM))["id"]
    written = await world.write(c, dialog_id, "Менеджер пишет первым")
    await track(written["appeal_id"])

    for appeal_id in appeal_ids:
        history = await world.history(appeal_id)
        appeal = await world.appeal(appeal_id)
        for entry in history:
            if entry["reason"] is not None:
                assert entry["reason"] in ALL_REASONS, entry
                seen.add(entry["reason"])
        assert appeal["reason"] == _latest_routing_reason(history)
        assert appeal["reason"] not in INFORMATIONAL
        expected = {"queued": QUEUED_REASONS, "assigned": ASSIGNED_REASONS}
        assert appeal["reason"] in expected.get(appeal["status"], CLOSED_REASONS)

    assert seen == ALL_REASONS
    del other_client


async def test_spec_8_pm_appeal_back_to_queue_is_not_returned_operator_inactive(
    world: World,
) -> None:
    manager = await world.employee(["general_chat"], status="active")
    _, person = await pm_client(world, manager)
    pm = await world.ask(person, PM)
    general = await world.ask(person, GENERAL)
    assigned_to(general, manager, "routed")

    await world.set_status(manager, "break")
    waiting_for(await world.appeal(pm["id"]), manager, "waiting_for_personal_manager")
    waiting_for(await world.appeal(general["id"]), None, "returned_operator_inactive")
    assert "returned_operator_inactive" not in {e["reason"] for e in await world.history(pm["id"])}


async def test_spec_8_removed_manager_appeal_back_to_queue_gets_no_personal_manager(
    world: World,
) -> None:
    manager = await world.manager(status="active")
    client, person = await pm_client(world, manager)
    pm = await world.ask(person, PM)
    await world.set_manager(client, None)
    await world.set_status(manager, "offline")
    appeal = await world.appeal(pm["id"])
    waiting_for(appeal, None, "no_personal_manager")
    assert routing(await world.history(pm["id"]))[-1] == ("no_personal_manager", None)


async def test_spec_8_a_routing_attempt_that_changes_nothing_records_nothing(
    world: World,
) -> None:
    manager = await world.manager(status="offline")
    operator = await world.operator(limit=1)
    _, person = await pm_client(world, manager)
    pm = await world.ask(person, PM)
    general = await world.ask((await world.client()).persons[0], GENERAL)
    queued_general = await world.ask((await world.client()).persons[0], GENERAL)
    assigned_to(general, operator, "routed")
    before = {a["id"]: await world.history(a["id"]) for a in (pm, general, queued_general)}

    # None of these can change where any appeal is.
    await world.set_status(manager, "break")
    await world.set_status(manager, "offline")
    await world.set_status(operator, "active")  # already active
    await patch_settings(world, default_general_limit=5)  # operator has an own limit of 1
    await patch_employee(world, operator, general_limit=1)
    await patch_employee(world, operator, full_name="Переименован")
    await world.write(person, pm["dialog_id"], "Ещё сообщение")
    ok(
        await world.api.put(
            f"/api/v1/clients/{person.client_id}/personal-manager",
            json={"employee_id": manager.id},
            headers=world.admin.headers,
        )
    )  # the same manager again

    for appeal_id, history in before.items():
        assert await world.history(appeal_id) == history
    waiting_for(await world.appeal(pm["id"]), manager, "waiting_for_personal_manager")
    waiting_for(await world.appeal(queued_general["id"]), None, "no_eligible_operator")


async def test_spec_8_handover_after_waiting_and_at_once(world: World) -> None:
    # At once: A leaves, B active.
    a = await world.manager(status="active")
    b = await world.manager(status="active")
    client, person = await pm_client(world, a)
    now = await world.ask(person, PM)
    await world.set_manager(client, b)
    await world.set_status(a, "offline")
    assigned_to(await world.appeal(now["id"]), b, "handover_to_new_personal_manager")

    # After waiting: A leaves, C offline, then C active.
    c = await world.manager(status="offline")
    d = await world.manager(status="active")
    client2, person2 = await pm_client(world, d)
    later = await world.ask(person2, PM)
    await world.set_manager(client2, c)
    await world.set_status(d, "offline")
    waiting_for(await world.appeal(later["id"]), c, "waiting_for_personal_manager")
    await world.set_status(c, "active")
    assigned_to(await world.appeal(later["id"]), c, "handover_to_new_personal_manager")

    # Never had another assignee: personal_manager_active, even after a change of manager.
    e = await world.manager(status="offline")
    f = await world.manager(status="offline")
    client3, person3 = await pm_client(world, e)
    fresh = await world.ask(person3, PM)
    await world.set_manager(client3, f)
    await world.set_status(f, "active")
    assigned_to(await world.appeal(fresh["id"]), f, "personal_manager_active")
