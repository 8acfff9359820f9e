"""Bad days (issue 6 item 5): PostgreSQL or Redis out of reach behind a TCP proxy the test cuts
and restores — the shared servers themselves are never touched."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import make_url

from switchboard.db.session import Database
from switchboard.dialogs.models import Message
from switchboard.people.models import Employee
from tests.invariants import snapshot, violations
from tests.ops.metrics_text import Scrape
from tests.ops.proxy import Proxy
from tests.realtime.server import ADMIN_LOGIN, ADMIN_PASSWORD, Server, open_socket
from tests.support import PersonRef, World, ok

pytestmark = pytest.mark.postgres_only

CLIENT_TIMEOUT = 10.0
# Small bounds, so that a silent network ("hang") is detected within the test's budget.
FAST_FAILURE = {
    "SWITCHBOARD_DB_CONNECT_TIMEOUT_SECONDS": "1",
    "SWITCHBOARD_DB_COMMAND_TIMEOUT_SECONDS": "2",
    "SWITCHBOARD_DB_POOL_TIMEOUT_SECONDS": "2",
}


@pytest.fixture
def pg_proxy(database_url: str) -> Iterator[tuple[Proxy, str]]:
    url = make_url(database_url)
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432).start()
    yield proxy, url.set(port=proxy.port).render_as_string(hide_password=False)
    proxy.stop()


@pytest.fixture
def redis_proxy() -> Iterator[Proxy]:
    proxy = Proxy("127.0.0.1", 6379).start()
    yield proxy
    proxy.stop()


@dataclass
class Sent:
    key: str
    status: int | None  # None: no answer at all
    seconds: float
    body: Any = None


@dataclass
class Load:
    """Persons posting messages with idempotency keys, without pause, until stopped."""

    base_url: str
    persons: list[PersonRef]
    dialogs: dict[int, int]
    sent: list[Sent] = field(default_factory=list)
    running: bool = True

    async def run(self) -> None:
        await asyncio.gather(*(self._one(p) for p in self.persons))

    async def _one(self, person: PersonRef) -> None:
        n = 0
        async with httpx.AsyncClient(base_url=self.base_url, timeout=CLIENT_TIMEOUT) as http:
            while self.running:
                key = f"{person.id}-{n}"
                n += 1
                started = time.monotonic()
                try:
                    r = await http.post(
                        f"/api/v1/dialogs/{self.dialogs[person.id]}/messages",
                        json={"text": f"сообщение {key}", "client_message_id": key},
                        headers=person.headers,
                    )
                    status: int | None = r.status_code
                    body = r.json() if r.content else None
                except httpx.HTTPError:
                    status, body = None, None
                self.sent.append(Sent(key, status, time.monotonic() - started, body))
                await asyncio.sleep(0.02)


async def _until(check: Callable[[], Any], seconds: float) -> float:
    """Polls until check() is true; returns how long it took."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if await check():
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {seconds}s")


async def _ready(api: httpx.AsyncClient) -> bool:
    try:
        return (await api.get("/readyz")).status_code == 200
    except httpx.HTTPError:
        return False


async def test_postgresql_out_of_reach_answers_503_at_once_and_heals_by_itself(
    start_server: Callable[..., Server], pg_proxy: tuple[Proxy, str], database_url: str
) -> None:
    proxy, proxied_url = pg_proxy
    server = start_server(FAST_FAILURE, database=proxied_url)
    async with httpx.AsyncClient(base_url=server.url, timeout=CLIENT_TIMEOUT) as api:
        world = await World.connect(api, ADMIN_LOGIN, ADMIN_PASSWORD)
        manager = await world.manager(status="active")
        operator = await world.operator(limit=1)
        persons: list[PersonRef] = []
        dialogs: dict[int, int] = {}
        for i in range(4):
            person = (await world.client(manager=manager if i % 2 else None)).persons[0]
            kind = "personal_manager" if i % 2 else "general"
            dialogs[person.id] = (await world.dialog(person, kind))["id"]
            persons.append(person)
        # Two general appeals for an operator with room for one: the second waits.
        waiting = await world.ask((await world.client()).persons[0], "general")
        assert waiting["status"] == "assigned"
        waiting = await world.ask((await world.client()).persons[0], "general")
        assert waiting["status"] == "queued"

        load = Load(server.url, persons, dialogs)
        loader = asyncio.create_task(load.run())
        await asyncio.sleep(0.5)
        proxy.cut("refuse")  # PostgreSQL stopped: connections reset, new ones refused
        cut_at = len(load.sent)
        await asyncio.sleep(0.3)
        cut_from = len(load.sent)  # requests that started after the cut took effect
        during = await api.get("/readyz")
        assert during.status_code == 503 and during.json() == {"ready": False}
        scraped = await api.get("/metrics")
        assert scraped.status_code == 200
        assert Scrape(scraped.text).value("switchboard_database_up") == 0
        # Meanwhile a change reaches the database without its routing, as a process that died
        # half-way would leave it: the operator now has room for the waiting appeal.
        direct = Database(database_url)
        try:
            async with direct.uow() as uow:
                await uow.session.execute(
                    update(Employee).where(Employee.id == operator.id).values(general_limit=2)
                )
                await uow.commit()
        finally:
            await direct.dispose()
        await asyncio.sleep(1.5)
        cut_to = len(load.sent)
        proxy.restore()
        healed = await _until(lambda: _ready(api), 10)
        await asyncio.sleep(1.0)
        load.running = False
        await loader

        outage = load.sent[cut_from:cut_to]
        assert len(outage) >= len(persons)
        for sent in outage:
            assert sent.status == 503, sent
            assert sent.body["code"] == "database_unavailable"
            assert sent.seconds < CLIENT_TIMEOUT / 4, sent  # refused fast, not hung
        assert all(s.status in (200, 201, 503) for s in load.sent), [
            s for s in load.sent if s.status not in (200, 201, 503)
        ]
        after = [s for s in load.sent[cut_to:] if s.status in (200, 201)]
        assert after, "no message got through after the database came back"
        assert healed < 10
        assert cut_at <= cut_from

        # The sweep routes what waited, by itself.
        async def routed() -> bool:
            return (await world.appeal(waiting["id"]))["status"] == "assigned"

        await _until(routed, 10)

        # Nothing half-written: an acknowledged message is stored once; a refused one was not
        # stored at all, or is stored once when the client retries with its key.
        for sent in [s for s in load.sent if s.status == 503]:
            person_id = int(sent.key.split("-")[0])
            person = next(p for p in persons if p.id == person_id)
            ok(
                await api.post(
                    f"/api/v1/dialogs/{dialogs[person_id]}/messages",
                    json={"text": f"сообщение {sent.key}", "client_message_id": sent.key},
                    headers=person.headers,
                ),
                200,
                201,
            )
    db = Database(database_url)
    try:
        async with db.uow() as uow:
            counts = dict(
                (
                    await uow.session.execute(
                        select(Message.client_message_id, func.count())
                        .where(Message.client_message_id.is_not(None))
                        .group_by(Message.client_message_id)
                    )
                ).all()
            )
        answered = [s.key for s in load.sent if s.status is not None]
        assert all(counts.get(key) == 1 for key in answered), {
            k: counts.get(k) for k in answered if counts.get(k) != 1
        }
        assert violations(await snapshot(db)) == []
    finally:
        await db.dispose()


async def test_a_silent_network_to_postgresql_is_bounded_by_the_timeouts(
    start_server: Callable[..., Server], pg_proxy: tuple[Proxy, str]
) -> None:
    proxy, proxied_url = pg_proxy
    server = start_server(FAST_FAILURE, database=proxied_url)
    async with httpx.AsyncClient(base_url=server.url, timeout=CLIENT_TIMEOUT) as api:
        world = await World.connect(api, ADMIN_LOGIN, ADMIN_PASSWORD)
        proxy.cut("hang")  # packets go nowhere: nothing is refused, nothing answers
        for _ in range(2):
            started = time.monotonic()
            r = await api.get("/api/v1/me", headers=world.admin.headers)
            took = time.monotonic() - started
            assert r.status_code == 503, r.text
            assert r.json()["code"] == "database_unavailable"
            # pre-ping (2 s) then a reconnect (1 s) at worst: well inside the client's patience
            assert took < CLIENT_TIMEOUT / 2, took
        assert (await api.get("/readyz")).status_code == 503
        proxy.restore()
        await _until(lambda: _ready(api), 10)
        ok(await api.get("/api/v1/me", headers=world.admin.headers))


async def test_redis_out_of_reach_loses_no_event_and_delivery_resumes(
    start_server: Callable[..., Server], redis_proxy: Proxy
) -> None:
    redis_url = f"redis://127.0.0.1:{redis_proxy.port}/0"
    # B polls the database only every 30 s: what reaches it sooner came through Redis, or
    # through the catch-up that follows its re-subscription.
    a = start_server(redis=redis_url)
    b = start_server({"SWITCHBOARD_EVENT_POLL_SECONDS": "30"}, redis=redis_url)
    async with httpx.AsyncClient(base_url=a.url, timeout=CLIENT_TIMEOUT) as api:
        world = await World.connect(api, ADMIN_LOGIN, ADMIN_PASSWORD)
        manager = await world.manager(status="active")
        person = (await world.client(manager=manager)).persons[0]
        dialog = await world.dialog(person, "personal_manager")

        async def post(n: int) -> int:
            started = time.monotonic()
            message = ok(
                await api.post(
                    f"/api/v1/dialogs/{dialog['id']}/messages",
                    json={"text": f"№{n}", "client_message_id": f"r{n}"},
                    headers=person.headers,
                ),
                201,
            )
            assert time.monotonic() - started < CLIENT_TIMEOUT / 4
            return int(message["id"])

        async with open_socket(b, manager.token) as sock:

            def got(ids: list[int]) -> Callable[[], Any]:
                async def check() -> bool:
                    seen = {e["data"]["id"] for e in sock.events if e["type"] == "message.created"}
                    return set(ids) <= seen

                return check

            sent = [await post(0)]
            await _until(got(sent), 5)
            redis_proxy.cut("refuse")
            for n in range(1, 4):  # stored and acknowledged while Redis is away
                sent.append(await post(n))
            await asyncio.sleep(1.0)
            redis_proxy.restore()
            await _until(got(sent), 12)  # well before B's 30 s poll
            sent.append(await post(4))
            await _until(got(sent), 5)

        delivered = [e["data"]["id"] for e in sock.events if e["type"] == "message.created"]
        assert delivered == sent  # every one, once, in order
        event_ids = [e["id"] for e in sock.events]
        assert event_ids == sorted(set(event_ids))
