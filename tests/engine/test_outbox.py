"""Events are written in the same transaction as the change, with the audience of that moment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from switchboard.events.models import EventRecipient, EventRecord
from tests.support import World


@dataclass
class Event:
    id: int
    type: str
    dialog_id: int | None
    data: dict[str, Any]
    supervisors: bool
    employee_ids: set[int]
    person_ids: set[int]


async def _events(app: Any) -> list[Event]:
    async with app.state.db.uow() as uow:
        rows = (await uow.session.execute(select(EventRecord).order_by(EventRecord.id))).scalars()
        readers = (await uow.session.execute(select(EventRecipient))).scalars().all()
        return [
            Event(
                e.id,
                e.type,
                e.dialog_id,
                e.data,
                e.supervisors,
                {r.reader_id for r in readers if r.event_id == e.id and r.reader_type == "e"},
                {r.reader_id for r in readers if r.event_id == e.id and r.reader_type == "p"},
            )
            for e in rows.all()
        ]


async def test_a_message_writes_its_event_for_the_dialogs_audience(world: World, app: Any) -> None:
    manager = await world.manager(status="active")
    client = await world.client(manager=manager)
    person = client.persons[0]
    before = len(await _events(app))
    appeal = await world.ask(person, "personal_manager", "Здравствуйте")

    new = (await _events(app))[before:]
    types = [e.type for e in new]
    assert types == ["appeal.opened", "appeal.assigned", "message.created"]
    message = new[-1]
    assert message.data["text"] == "Здравствуйте"
    assert message.data["dialog_id"] == message.dialog_id
    assert message.data["appeal_id"] == appeal["id"]
    assert manager.id in message.employee_ids
    assert person.id in message.person_ids
    assert message.supervisors is True
    ids = [e.id for e in new]
    assert ids == sorted(ids)


async def test_a_refused_request_writes_no_event(world: World, app: Any) -> None:
    client = await world.client()  # no personal manager
    person = client.persons[0]
    before = len(await _events(app))
    response = await world.api.post(
        "/api/v1/dialogs", json={"kind": "personal_manager"}, headers=person.headers
    )
    assert response.status_code == 409
    assert response.json()["code"] == "no_personal_manager"
    assert len(await _events(app)) == before


async def test_closing_tells_the_closer_who_loses_access(world: World, app: Any) -> None:
    operator = await world.operator(limit=2)
    client = await world.client()
    appeal = await world.ask(client.persons[0], "general")
    assert appeal["assignee"]["id"] == operator.id
    await world.close(operator, appeal["id"])
    closed = [e for e in await _events(app) if e.type == "appeal.closed"]
    assert len(closed) == 1
    assert operator.id in closed[0].employee_ids


async def test_events_older_than_the_retention_are_pruned(world: World, app: Any) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from switchboard.kit.clock import utcnow
    from switchboard.maintenance import prune_events

    client = await world.client()
    await world.ask(client.persons[0], "general")
    events = await _events(app)
    old_ids = [e.id for e in events[:2]]
    async with app.state.db.uow() as uow:
        await uow.session.execute(
            update(EventRecord)
            .where(EventRecord.id.in_(old_ids))
            .values(created_at=utcnow() - timedelta(days=8))
        )
        await uow.commit()
    await prune_events(app.state.db, retention_seconds=7 * 24 * 3600)
    remaining = await _events(app)
    assert [e.id for e in remaining] == [e.id for e in events[2:]]
    async with app.state.db.uow() as uow:
        orphans = await uow.session.execute(
            select(EventRecipient).where(EventRecipient.event_id.in_(old_ids))
        )
        assert orphans.all() == []
