"""GET /metrics (API.md "Operations"; docs/operations.md lists the families): each family is
there, and each moves with the real action it counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update

from switchboard.app import create_app
from switchboard.appeals.models import Appeal
from switchboard.config import Settings
from switchboard.kit.clock import utcnow
from tests.ops.metrics_text import scrape
from tests.support import World, ok

FAMILIES = {
    "switchboard_http_requests",
    "switchboard_http_request_duration_seconds",
    "switchboard_queue_length",
    "switchboard_queue_oldest_wait_seconds",
    "switchboard_appeals",
    "switchboard_appeals_opened",
    "switchboard_appeals_queued",
    "switchboard_appeals_closed",
    "switchboard_assignments",
    "switchboard_employees",
    "switchboard_websocket_connections",
    "switchboard_events_newest_id",
    "switchboard_events_delivered_id",
    "switchboard_event_lag",
    "switchboard_database_up",
}
PM_WAIT = {"kind": "personal_manager", "reason": "waiting_for_personal_manager"}


async def test_every_family_is_exposed(world: World) -> None:
    s = await scrape(world.api)
    assert set(s.families) >= FAMILIES, FAMILIES - set(s.families)
    assert s.value("switchboard_database_up") == 1


async def test_queue_appeals_oldest_wait_and_assignments_follow_a_pm_appeal(
    world: World, app: Any
) -> None:
    manager = await world.manager(status="offline")
    client = await world.client(manager=manager)
    person = client.persons[0]
    before = await scrape(world.api)
    assert before.value("switchboard_queue_length", **PM_WAIT) == 0
    active_before = before.value("switchboard_employees", status="active")

    appeal = await world.ask(person, "personal_manager")
    assert appeal["status"] == "queued"
    queued = await scrape(world.api)
    assert queued.value("switchboard_queue_length", **PM_WAIT) == 1
    assert queued.value("switchboard_appeals", state="queued") == 1
    assert queued.value("switchboard_appeals_opened_total", kind="personal_manager") == 1
    assert (
        queued.value("switchboard_appeals_queued_total", reason="waiting_for_personal_manager") == 1
    )

    # The oldest wait is read from the database: make the appeal a minute and a half old.
    async with app.state.db.uow() as uow:
        await uow.session.execute(
            update(Appeal)
            .where(Appeal.id == appeal["id"])
            .values(queued_at=utcnow() - timedelta(seconds=90))
        )
        await uow.commit()
    waited = await scrape(world.api)
    oldest = waited.value("switchboard_queue_oldest_wait_seconds", kind="personal_manager")
    assert 90 <= oldest < 90 + 60
    assert waited.value("switchboard_queue_oldest_wait_seconds", kind="general") == 0

    await world.set_status(manager, "active")
    assigned = await scrape(world.api)
    assert assigned.value("switchboard_queue_length", **PM_WAIT) == 0
    assert assigned.value("switchboard_appeals", state="queued") == 0
    assert assigned.value("switchboard_appeals", state="assigned") == 1
    assert assigned.value("switchboard_queue_oldest_wait_seconds", kind="personal_manager") == 0
    assert (
        assigned.value("switchboard_assignments_total", reason="personal_manager_active")
        == queued.value("switchboard_assignments_total", reason="personal_manager_active") + 1
    )
    assert assigned.value("switchboard_employees", status="active") == active_before + 1

    await world.close(manager, appeal["id"])
    closed = await scrape(world.api)
    assert closed.value("switchboard_appeals", state="assigned") == 0
    assert closed.value("switchboard_appeals_closed_total", reason="closed_by_employee") == 1


async def test_general_routing_counts_by_reason(world: World) -> None:
    operator = await world.operator(limit=1)
    first = await world.ask((await world.client()).persons[0], "general")
    second = await world.ask((await world.client()).persons[0], "general")
    assert (first["status"], second["status"]) == ("assigned", "queued")
    s = await scrape(world.api)
    assert s.value("switchboard_assignments_total", reason="routed") == 1
    general_wait = {"kind": "general", "reason": "no_eligible_operator"}
    assert s.value("switchboard_queue_length", **general_wait) == 1
    ok(
        await world.api.post(
            f"/api/v1/appeals/{first['id']}/transfer",
            json={"employee_id": None},
            headers=operator.headers,
        )
    )
    s = await scrape(world.api)
    # Returned to the queue, then routed again: the older appeal first (SPEC 4.1, 4.5).
    assert s.value("switchboard_appeals_queued_total", reason="returned_by_employee") == 1
    assert s.value("switchboard_assignments_total", reason="routed") == 2


async def test_requests_are_labelled_by_route_template_and_status(world: World) -> None:
    manager = await world.manager()
    client = await world.client(manager=manager)
    person = client.persons[0]
    dialog = await world.dialog(person, "personal_manager")
    await world.write(person, dialog["id"])
    missing = await world.api.get("/api/v1/dialogs/999999", headers=person.headers)
    assert missing.status_code == 404
    s = await scrape(world.api)
    template = "/api/v1/dialogs/{dialog_id}/messages"
    assert s.value("switchboard_http_requests_total", method="POST", route=template, status="201")
    assert s.value(
        "switchboard_http_requests_total",
        method="GET",
        route="/api/v1/dialogs/{dialog_id}",
        status="404",
    )
    assert s.value(
        "switchboard_http_request_duration_seconds_count",
        method="POST",
        route=template,
        status="201",
    )
    routes = s.label_values("switchboard_http_requests_total", "route")
    assert not any(any(ch.isdigit() for ch in r.replace("/api/v1/", "")) for r in routes), routes


async def test_the_unmatched_label_keeps_raw_paths_out(world: World) -> None:
    for n in range(3):
        await world.api.get(f"/no/such/page/{n}")
    s = await scrape(world.api)
    assert s.value("switchboard_http_requests_total", method="GET", route="unmatched", status="404")
    assert not any(
        "/no/such" in r for r in s.label_values("switchboard_http_requests_total", "route")
    )


async def test_event_lag_is_what_the_hub_has_not_delivered(world: World, app: Any) -> None:
    hub = app.state.hub
    await hub.deliver_new()
    settled = await scrape(world.api)
    assert settled.value("switchboard_event_lag") == 0
    # The hub stalls: events are committed but neither read nor handed to it from memory.
    await hub.stop()
    app.state.db.event_listeners.remove(hub.committed_here)
    manager = await world.manager(status="active")
    behind = await scrape(world.api)
    assert behind.value("switchboard_events_newest_id") > settled.value(
        "switchboard_events_newest_id"
    )
    assert behind.value("switchboard_event_lag") >= 1
    assert behind.value("switchboard_events_delivered_id") == settled.value(
        "switchboard_events_delivered_id"
    )
    await hub.deliver_new()
    caught_up = await scrape(world.api)
    assert caught_up.value("switchboard_event_lag") == 0
    assert manager.id > 0


async def test_two_applications_in_one_process_keep_separate_registries(
    settings: Settings,
) -> None:
    apps = [create_app(settings, run_sweeper_task=False) for _ in range(2)]
    async with apps[0].router.lifespan_context(apps[0]), apps[1].router.lifespan_context(apps[1]):
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://t")
            for a in apps
        ]
        try:
            await clients[0].get("/healthz")
            await clients[0].get("/healthz")
            first, second = [await scrape(c) for c in clients]
        finally:
            for c in clients:
                await c.aclose()
    healthz = {"method": "GET", "route": "/healthz", "status": "200"}
    assert first.value("switchboard_http_requests_total", **healthz) == 2
    assert second.value("switchboard_http_requests_total", **healthz) == 0
