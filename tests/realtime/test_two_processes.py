"""Several `switchboard serve` processes on one PostgreSQL with Redis fan-out (API.md "Real
time", SPEC 9-10)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from switchboard.db.session import Database
from switchboard.dialogs.models import Message
from tests.invariants import snapshot, violations
from tests.realtime.server import Server, open_socket
from tests.support import PersonRef, World, ok

pytestmark = pytest.mark.postgres_only


async def test_a_message_on_one_process_reaches_a_manager_on_the_other(
    two_servers: tuple[Server, Server], live2: World
) -> None:
    a, b = two_servers
    manager = await live2.manager(status="active")
    colleague = await live2.manager(status="active")
    outsider = await live2.operator(limit=3)
    client = await live2.client(manager=manager)
    person = client.persons[0]
    dialog = await live2.dialog(person, "personal_manager")
    ok(
        await live2.api.post(
            f"/api/v1/dialogs/{dialog['id']}/participants",
            json={"employee_id": colleague.id},
            headers=manager.headers,
        ),
        201,
    )
    async with (
        open_socket(b, manager.token) as mine,
        open_socket(b, colleague.token) as invited,
        open_socket(b, outsider.token) as theirs,
    ):
        async with httpx.AsyncClient(base_url=a.url) as on_a:
            posted = ok(
                await on_a.post(
                    f"/api/v1/dialogs/{dialog['id']}/messages",
                    json={"text": "через процесс A"},
                    headers=person.headers,
                ),
                201,
            )
        got = await mine.wait_for(
            lambda e: e["type"] == "message.created" and e["data"]["id"] == posted["id"],
            timeout=1.0,
        )
        assert got["data"]["text"] == "через процесс A"
        await invited.wait_for(
            lambda e: e["type"] == "message.created" and e["data"]["id"] == posted["id"],
            timeout=1.0,
        )
        await asyncio.sleep(0.5)
        assert all(e["data"].get("dialog_id") != dialog["id"] for e in theirs.events)


async def test_presence_survives_the_death_of_the_process_holding_the_connection(
    two_servers: tuple[Server, Server], live2: World
) -> None:
    a, _ = two_servers
    ok(
        await live2.api.patch(
            "/api/v1/settings", json={"offline_grace_seconds": 1}, headers=live2.admin.headers
        )
    )
    manager = await live2.manager(status="active")
    sock_cm = open_socket(a, manager.token)
    await sock_cm.__aenter__()
    await asyncio.sleep(0.3)
    a.kill()  # its in-memory state is gone; the database remembers the connection
    with contextlib.suppress(Exception):  # the server is dead
        await sock_cm.__aexit__(None, None, None)
    async with httpx.AsyncClient(base_url=two_servers[1].url) as on_b:
        for _ in range(40):
            me = ok(await on_b.get(f"/api/v1/employees/{manager.id}", headers=manager.headers))
            if me["status"] == "offline":
                break
            await asyncio.sleep(0.25)
        assert me["status"] == "offline"


async def _send_stream(
    urls: list[str], persons: list[PersonRef], dialogs: dict[int, int], per_person: int
) -> list[tuple[int, str]]:
    """Each person posts `per_person` messages with idempotency keys, alternating processes,
    retrying on the other process when one dies; returns the acknowledged (person, key)."""
    acknowledged: list[tuple[int, str]] = []

    async def one(person: PersonRef) -> None:
        async with httpx.AsyncClient(timeout=5) as http:
            for n in range(per_person):
                key = f"{person.id}-{n}"
                for attempt in range(6):
                    url = urls[(n + attempt) % len(urls)]
                    try:
                        r = await http.post(
                            f"{url}/api/v1/dialogs/{dialogs[person.id]}/messages",
                            json={"text": f"сообщение {n}", "client_message_id": key},
                            headers=person.headers,
                        )
                    except httpx.HTTPError:
                        continue
                    if r.status_code in (200, 201):
                        acknowledged.append((person.id, key))
                        break

    await asyncio.gather(*(one(p) for p in persons))
    return acknowledged


async def test_sigkill_under_load_loses_no_acknowledged_message_and_leaves_nothing_stuck(
    two_servers: tuple[Server, Server], live2: World, database_url: str
) -> None:
    a, b = two_servers
    managers = [await live2.manager(status="active") for _ in range(2)]
    await live2.operator(limit=3)
    persons: list[PersonRef] = []
    dialogs: dict[int, int] = {}
    for i in range(12):
        client = await live2.client(manager=managers[i % 2] if i % 3 else None)
        person = client.persons[0]
        kind = "personal_manager" if i % 3 else "general"
        dialogs[person.id] = (await live2.dialog(person, kind))["id"]
        persons.append(person)

    sender = asyncio.create_task(_send_stream([a.url, b.url], persons, dialogs, 15))
    await asyncio.sleep(0.8)
    a.kill()
    acknowledged = await sender
    assert len(acknowledged) == len(persons) * 15  # every message got through on B at last

    await asyncio.sleep(1.0)  # B's sweep runs every 0.3 s
    db = Database(database_url)
    try:
        async with db.uow() as uow:
            for person_id, key in acknowledged:
                count = await uow.session.scalar(
                    select(func.count())
                    .select_from(Message)
                    .where(Message.author_person_id == person_id, Message.client_message_id == key)
                )
                assert count == 1, (person_id, key, count)
        assert violations(await snapshot(db)) == []
    finally:
        await db.dispose()


async def test_routing_invariants_hold_with_two_processes_taking_requests(
    two_servers: tuple[Server, Server], live2: World, database_url: str
) -> None:
    a, b = two_servers
    managers = [await live2.manager(status="offline") for _ in range(3)]
    operators = [await live2.operator(limit=2, status="offline") for _ in range(3)]
    persons: list[PersonRef] = []
    clients = []
    for i in range(8):
        client = await live2.client(manager=managers[i % 3])
        clients.append(client)
        persons.append(client.persons[0])
    staff = managers + operators
    rng = random.Random(7)

    async def actor(seed: int) -> None:
        local = random.Random(seed)
        async with httpx.AsyncClient(timeout=10) as http:
            for _ in range(40):
                url = rng.choice([a.url, b.url])
                roll = local.random()
                r: Any
                if roll < 0.45:
                    person = local.choice(persons)
                    kind = local.choice(["general", "personal_manager"])
                    d = await http.post(
                        f"{url}/api/v1/dialogs", json={"kind": kind}, headers=person.headers
                    )
                    r = await http.post(
                        f"{url}/api/v1/dialogs/{d.json()['id']}/messages",
                        json={"text": "?"},
                        headers=person.headers,
                    )
                elif roll < 0.8:
                    who = local.choice(staff)
                    r = await http.put(
                        f"{url}/api/v1/me/status",
                        json={"status": local.choice(["active", "active", "break", "offline"])},
                        headers=who.headers,
                    )
                else:
                    r = await http.put(
                        f"{url}/api/v1/clients/{local.choice(clients).id}/personal-manager",
                        json={"employee_id": local.choice(managers).id},
                        headers=live2.admin.headers,
                    )
                assert r.status_code < 500, r.text

    await asyncio.gather(*(actor(s) for s in range(8)))
    db = Database(database_url)
    try:
        snap = await snapshot(db)
        assert len(snap.appeals) > 10
        assert violations(snap) == []
    finally:
        await db.dispose()
