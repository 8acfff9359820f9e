"""Soak: a mixed load on two `switchboard serve` processes with Redis fan-out.

Persons write in both kinds of dialog and close their appeals, employees switch between
«Активен» and «Перерыв», the administrator changes clients' managers, and employees' WebSockets
drop and come back with `after=` — for as long as asked, at a steady rate. At the end: every
response was a success, the servers' memory did not grow after the warm-up, the SPEC 9
invariants hold in the database, and every reconnecting WebSocket saw its events in id order.

`python -m bench soak --seconds 600 --rate 250` is the full run (ten minutes at about half the
measured one-process ingest capacity); tests/realtime/test_soak.py runs a short one.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import websockets

from bench import bulk
from bench.common import ADMIN, Result, ServerProcess, scratch_database, start_server
from bench.lean import HTTPError, LeanClient

MANAGERS = 4
OPERATORS = 4
CLIENTS = 40


@dataclass
class Outcome:
    requests: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    events_seen: int = 0
    reconnects: int = 0
    order_breaks: int = 0
    rss_mib: list[tuple[float, float]] = field(default_factory=list)  # (after warm-up, at end)
    violations: list[str] = field(default_factory=list)

    def count(self, kind: str) -> None:
        self.requests[kind] = self.requests.get(kind, 0) + 1


def rss_mib(server: ServerProcess) -> float:
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Load:
    def __init__(self, servers: list[ServerProcess], outcome: Outcome) -> None:
        self.servers = servers
        self.clients = [LeanClient(s.url, size=64) for s in servers]
        self.outcome = outcome
        self.admin = ""
        self.staff: list[tuple[int, str]] = []  # (employee id, token)
        self.managers: list[int] = []
        self.persons: list[tuple[int, str, list[int]]] = []  # (client id, token, dialog ids)
        self.closed: set[int] = set()  # appeals a close was sent for

    async def call(
        self, kind: str, method: str, path: str, token: str, body: object = None
    ) -> dict[str, object] | None:
        client = random.choice(self.clients)
        try:
            status, data = await client.request(method, path, json_body=body, token=token)
        except HTTPError as exc:
            self.outcome.errors.append(f"{kind}: {exc}")
            return None
        self.outcome.count(kind)
        if status >= 300:
            self.outcome.errors.append(f"{kind} {method} {path} -> {status}: {data[:200]!r}")
            return None
        return json.loads(data) if data else {}

    async def setup(self) -> None:
        first = self.clients[0]
        self.admin = (
            await first.json(
                "POST",
                "/api/v1/auth/token",
                json_body={"login": ADMIN[0], "password": ADMIN[1]},
            )
        )["access_token"]
        for i in range(MANAGERS + OPERATORS):
            employee = await first.json(
                "POST",
                "/api/v1/employees",
                json_body={
                    "login": f"soak-{i}",
                    "full_name": f"Сотрудник {i}",
                    "password": "soak-password-1",
                    "permissions": ["general_chat"],
                    "general_limit": 20,
                },
                token=self.admin,
            )
            token = bulk.employee_token(employee["id"])
            await first.json(
                "PUT", "/api/v1/me/status", json_body={"status": "active"}, token=token
            )
            self.staff.append((employee["id"], token))
            if i < MANAGERS:
                self.managers.append(employee["id"])
        for i in range(CLIENTS):
            client = await first.json(
                "POST",
                "/api/v1/clients",
                json_body={"kind": "individual", "name": f"Клиент {i}"},
                token=self.admin,
            )
            await first.json(
                "PUT",
                f"/api/v1/clients/{client['id']}/personal-manager",
                json_body={"employee_id": self.managers[i % MANAGERS]},
                token=self.admin,
            )
            person = await first.json(
                "POST",
                f"/api/v1/clients/{client['id']}/persons",
                json_body={"name": f"Представитель {i}"},
                token=self.admin,
            )
            token = bulk.person_token(person["id"])
            dialogs = [
                (
                    await first.json(
                        "POST", "/api/v1/dialogs", json_body={"kind": kind}, token=token
                    )
                )["id"]
                for kind in ("general", "personal_manager")
            ]
            self.persons.append((client["id"], token, dialogs))

    async def messages(self, rate: float, stop: float) -> None:
        """Open loop at `rate` a second; now and then the person closes what they opened."""
        tasks: set[asyncio.Task[None]] = set()
        started = time.monotonic()
        n = 0
        while time.monotonic() < stop:
            n += 1
            tasks.add(asyncio.create_task(self.message(n)))
            tasks = {t for t in tasks if not t.done()}
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
        await asyncio.gather(*tasks)

    async def message(self, n: int) -> None:
        _, token, dialogs = random.choice(self.persons)
        posted = await self.call(
            "message",
            "POST",
            f"/api/v1/dialogs/{random.choice(dialogs)}/messages",
            token,
            {"text": f"Сообщение {n}", "client_message_id": f"soak-{n}"},
        )
        if posted is None:
            return
        appeal = int(str(posted["appeal_id"]))
        if n % 10 == 0 and appeal not in self.closed:  # each appeal closed once
            self.closed.add(appeal)
            await self.call("close", "POST", f"/api/v1/appeals/{appeal}/close", token)

    async def statuses(self, stop: float) -> None:
        while time.monotonic() < stop:
            _, token = random.choice(self.staff)
            for status in ("break", "active"):
                await self.call("status", "PUT", "/api/v1/me/status", token, {"status": status})
                await asyncio.sleep(0.3)

    async def manager_changes(self, stop: float) -> None:
        while time.monotonic() < stop:
            client_id, _, _ = random.choice(self.persons)
            await self.call(
                "manager_change",
                "PUT",
                f"/api/v1/clients/{client_id}/personal-manager",
                self.admin,
                {"employee_id": random.choice(self.managers)},
            )
            await asyncio.sleep(1.0)

    async def sockets(self, stop: float) -> None:
        await asyncio.gather(*(self.socket(i, stop) for i in range(len(self.staff))))

    async def socket(self, index: int, stop: float) -> None:
        """Connect, read for a while, drop, come back with after= on the other process."""
        _, token = self.staff[index]
        after = 0
        turn = index
        while time.monotonic() < stop:
            server = self.servers[turn % len(self.servers)]
            turn += 1
            url = server.url.replace("http://", "ws://") + f"/api/v1/ws?token={token}"
            if after:
                url += f"&after={after}"
            until = min(stop, time.monotonic() + random.uniform(1.0, 3.0))
            try:
                async with websockets.connect(url, open_timeout=10) as ws:
                    while (left := until - time.monotonic()) > 0:
                        try:
                            raw = await asyncio.wait_for(ws.recv(), timeout=left)
                        except TimeoutError:
                            break
                        event = json.loads(raw)
                        if "id" not in event:
                            continue
                        if event["id"] <= after:
                            self.outcome.order_breaks += 1
                        after = max(after, event["id"])
                        self.outcome.events_seen += 1
            except (OSError, websockets.WebSocketException) as exc:
                self.outcome.errors.append(f"websocket: {exc!r}")
            self.outcome.reconnects += 1

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()


async def _run_load(servers: list[ServerProcess], seconds: float, rate: float) -> Outcome:
    outcome = Outcome()
    load = Load(servers, outcome)
    try:
        await load.setup()
        start = time.monotonic()
        stop = start + seconds
        work = asyncio.gather(
            load.messages(rate, stop),
            load.statuses(stop),
            load.manager_changes(stop),
            load.sockets(stop),
        )
        await asyncio.sleep(seconds / 4)  # the warm-up: caches, prepared statements, pools
        warm = [rss_mib(s) for s in servers]
        await work
        outcome.rss_mib = list(zip(warm, [rss_mib(s) for s in servers], strict=True))
    finally:
        await load.aclose()
    return outcome


async def _invariants(url: str) -> list[str]:
    from tests.invariants import snapshot, violations

    from switchboard.db.session import Database

    db = Database(url)
    try:
        # Let the sweep settle anything a racing status change left for it (SPEC 10).
        await asyncio.sleep(2)
        return violations(await snapshot(db))
    finally:
        await db.dispose()


def run_soak(pg_url: str, redis_url: str, seconds: float, rate: float) -> Outcome:
    with scratch_database(pg_url, "switchboard_bench_soak") as url:
        servers = [start_server(url, redis_url=redis_url) for _ in range(2)]
        try:
            outcome = asyncio.run(_run_load(servers, seconds, rate))
            outcome.violations = asyncio.run(_invariants(url))
        finally:
            for server in servers:
                server.stop()
    return outcome


def run(pg_url: str, redis_url: str, seconds: float, rate: float) -> list[Result]:
    outcome = run_soak(pg_url, redis_url, seconds, rate)
    total = sum(outcome.requests.values())
    growth = max((end - warm for warm, end in outcome.rss_mib), default=0.0)
    print(f"\nSoak, two processes + Redis, {seconds:.0f} s at {rate:.0f} msgs/s offered")
    print(f"  requests: {outcome.requests}")
    print(f"  errors: {len(outcome.errors)}")
    for error in outcome.errors[:10]:
        print(f"    {error}")
    print(f"  WebSockets: {outcome.reconnects} connections, {outcome.events_seen} events,")
    print(f"    {outcome.order_breaks} out of order")
    print(f"  memory after warm-up → end (MiB): {outcome.rss_mib}")
    print(f"  SPEC 9 violations: {outcome.violations or 'none'}")
    return [
        Result(
            "soak",
            f"{seconds:.0f} s mixed, two processes",
            f"{total / seconds:.0f} req/s",
            "",
            "",
            "",
            f"{len(outcome.errors)} errors, RSS +{growth:.0f} MiB, "
            f"{len(outcome.violations)} violations",
        )
    ]
