"""Status changes that arrive together share one transaction and one routing pass (SPEC 4, 5.1),
and each is answered on its own: a refused change refuses nobody else."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from switchboard.auth.principals import Actor
from switchboard.db.errors import database_away
from switchboard.db.session import Database
from switchboard.kit.errors import Conflict, NotFound
from switchboard.people.service import StatusChange
from switchboard.people.status_lane import StatusLane
from tests.invariants import snapshot, violations
from tests.support import World, auth, ok


async def test_changes_arriving_together_are_one_transaction_with_one_routing_pass(
    world: World, app: Any
) -> None:
    operators = [await world.operator(limit=2, status="offline") for _ in range(3)]
    disabled = await world.operator(limit=2, status="offline")
    ok(
        await world.api.patch(
            f"/api/v1/employees/{disabled.id}",
            json={"is_enabled": False},
            headers=world.admin.headers,
        )
    )
    manager = await world.manager(status="offline")
    client = await world.client(manager=manager)
    waiting = await world.ask(client.persons[0], "personal_manager")
    general = [await world.ask((await world.client()).persons[0], "general") for _ in range(7)]
    assert {a["status"] for a in general} == {"queued"}

    lane = StatusLane(app.state.db)
    changes = [StatusChange(Actor("employee", e.id), e.id, "active") for e in operators]
    changes += [
        StatusChange(Actor("employee", disabled.id), disabled.id, "active"),
        StatusChange(Actor("employee", manager.id), manager.id, "active"),
        StatusChange(Actor.system(), 2_000_000, "break"),
    ]
    tasks = [asyncio.ensure_future(lane.change(c)) for c in changes]
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)

    assert lane.transactions == 1
    assert outcomes[:3] == ["active"] * 3
    assert isinstance(outcomes[3], Conflict) and outcomes[3].code == "employee_disabled"
    assert outcomes[4] == "active"
    assert isinstance(outcomes[5], NotFound) and outcomes[5].code == "employee_not_found"

    # The manager's waiting appeal is theirs; the oldest six general appeals fill the three
    # operators' limits of two, least loaded first; the newest one waits.
    assert (await world.appeal(waiting["id"]))["assignee"]["id"] == manager.id
    states = [await world.appeal(a["id"]) for a in general]
    assert [s["status"] for s in states] == ["assigned"] * 6 + ["queued"]
    held = [s["assignee"]["id"] for s in states[:6]]
    assert sorted(held.count(e.id) for e in operators) == [2, 2, 2]
    disabled_now = ok(
        await world.api.get(f"/api/v1/employees/{disabled.id}", headers=world.admin.headers)
    )
    assert disabled_now["status"] == "offline"
    assert violations(await snapshot(app.state.db)) == []


async def test_a_batch_that_fails_as_a_whole_is_retried_change_by_change(
    world: World, app: Any
) -> None:
    first = await world.operator(status="offline")
    second = await world.operator(status="offline")
    lane = StatusLane(app.state.db)
    # A status the database refuses (its check constraint): only the API's validation stands
    # between a request and this, so it stands for any failure of the transaction as a whole.
    changes = [
        StatusChange(Actor("employee", first.id), first.id, "active"),
        StatusChange(Actor("employee", second.id), second.id, "lunch"),
    ]
    tasks = [asyncio.ensure_future(lane.change(c)) for c in changes]
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)

    assert outcomes[0] == "active"
    assert isinstance(outcomes[1], IntegrityError)  # the check constraint, on the change alone
    assert lane.transactions == 3  # the batch, then each change alone
    rows = {
        e["id"]: e["status"]
        for e in ok(
            await world.api.get("/api/v1/employees?limit=200", headers=world.admin.headers)
        )["items"]
    }
    assert rows[first.id] == "active"
    assert rows[second.id] == "offline"


async def test_a_shift_starting_at_once_over_http(world: World, app: Any) -> None:
    """Many operators press «Активен» at the same moment: every answer is 200 and the queue is
    handed out within the limits, as if they had come one by one."""
    count = 12
    operators = [await world.operator(limit=3, status="offline") for _ in range(count)]
    appeals = [await world.ask((await world.client()).persons[0], "general") for _ in range(40)]
    answers = await asyncio.gather(
        *(
            world.api.put("/api/v1/me/status", json={"status": "active"}, headers=auth(e.token))
            for e in operators
        )
    )
    assert [(r.status_code, r.json()) for r in answers] == [(200, {"status": "active"})] * count
    assert app.state.status_lane.transactions >= 1  # the endpoint went through the lane
    states = [await world.appeal(a["id"]) for a in appeals]
    assigned = [s for s in states if s["status"] == "assigned"]
    assert len(assigned) == min(40, 3 * count)
    assert [s["status"] for s in states] == ["assigned"] * len(assigned) + ["queued"] * (
        40 - len(assigned)
    )
    loads = [sum(1 for s in assigned if s["assignee"]["id"] == e.id) for e in operators]
    assert max(loads) <= 3
    assert violations(await snapshot(app.state.db)) == []


async def test_one_employee_twice_in_a_batch_ends_as_one_change_after_the_other(
    world: World, app: Any
) -> None:
    """A manager who goes «Активен» and straight back to «Перерыв» within one batch: their
    waiting appeal ends exactly as it does when the two changes come one after the other."""
    outcomes: list[tuple[str, str | None, bool]] = []
    for batched in (True, False):
        manager = await world.manager(status="offline")
        client = await world.client(manager=manager)
        appeal = await world.ask(client.persons[0], "personal_manager")
        lane = StatusLane(app.state.db)
        changes = [
            StatusChange(Actor("employee", manager.id), manager.id, status)
            for status in ("active", "break")
        ]
        if batched:
            tasks = [asyncio.ensure_future(lane.change(c)) for c in changes]
            assert await asyncio.gather(*tasks) == ["active", "break"]
            assert lane.transactions == 1
        else:
            for change in changes:
                await lane.change(change)
            assert lane.transactions == 2
        after = await world.appeal(appeal["id"])
        history = await world.history(appeal["id"])
        outcomes.append(
            (after["status"], after["reason"], any(h["event"] == "assigned" for h in history))
        )
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][2]  # it was the manager's while they were active
    assert violations(await snapshot(app.state.db)) == []


async def test_with_the_database_away_every_waiting_change_fails_at_once(
    database_url: str, tmp_path: Path
) -> None:
    """No change-by-change retry when nothing can be written: a burst during an outage is told
    so (503) after one attempt, not after one connection timeout per change."""
    away = (
        f"sqlite:///{tmp_path}/missing/folder/switchboard.db"
        if database_url.startswith("sqlite")
        else "postgresql://postgres@127.0.0.1:9/test"  # nothing listens on the discard port
    )
    db = Database(away, connect_timeout=2.0)
    try:
        lane = StatusLane(db)
        changes = [StatusChange(Actor.system(), employee_id, "active") for employee_id in (1, 2, 3)]
        tasks = [asyncio.ensure_future(lane.change(c)) for c in changes]
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(database_away(o) for o in outcomes if isinstance(o, BaseException))
        assert all(isinstance(o, BaseException) for o in outcomes)
        assert lane.transactions == 1
    finally:
        await db.engine.dispose()


async def test_the_lane_checks_each_callers_token_and_permission(world: World, app: Any) -> None:
    """The request does no database work of its own: the lane checks, in its transaction, that
    each caller's token still holds and that they may make the change — and refuses only them."""
    fine = await world.operator(status="offline")
    revoked = await world.operator(status="offline")
    ok(
        await world.api.patch(
            f"/api/v1/employees/{revoked.id}",
            json={"password": "a-new-password-1"},
            headers=world.admin.headers,
        )
    )
    plain = await world.operator(status="offline")  # no `supervise`
    supervisor = await world.supervisor()
    person = (await world.client()).persons[0]
    target = await world.operator(status="offline")
    other = await world.operator(status="offline")

    def put(path: str, token: str) -> Any:
        return world.api.put(path, json={"status": "active"}, headers=auth(token))

    answers = await asyncio.gather(
        put("/api/v1/me/status", fine.token),
        put("/api/v1/me/status", revoked.token),
        put(f"/api/v1/employees/{other.id}/status", plain.token),
        put(f"/api/v1/employees/{target.id}/status", supervisor.token),
        put("/api/v1/me/status", person.token),
        put(f"/api/v1/employees/{other.id}/status", person.token),
    )
    assert [(r.status_code, r.json().get("code", r.json().get("status"))) for r in answers] == [
        (200, "active"),
        (401, "invalid_token"),
        (403, "permission_denied"),
        (200, "active"),
        (403, "employee_only"),
        (403, "employee_only"),
    ]
    rows = {
        e["id"]: e["status"]
        for e in ok(
            await world.api.get("/api/v1/employees?limit=200", headers=world.admin.headers)
        )["items"]
    }
    assert [rows[e.id] for e in (fine, revoked, plain, target, other)] == [
        "active",
        "offline",
        "offline",
        "active",
        "offline",
    ]
