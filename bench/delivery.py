"""Workload 2: delivery latency — from the start of a person's POST to the `message.created`
event arriving on the manager's WebSocket, with 500 employees connected, at offered rates of
50, 200 and 1,000 msgs/s (open loop: sends are scheduled at the offered rate, never waiting for
the previous one)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field

import websockets

from bench import bulk
from bench.common import (
    DEFAULT_PG,
    Result,
    ServerProcess,
    ms,
    percentile,
    print_table,
    scratch_database,
    start_server,
)
from bench.lean import HTTPError, LeanClient

RATES = (50, 200, 1000)
EMPLOYEES = 500  # connected over WebSocket, the measured manager among them
SUPERVISORS = 5  # receive every message.created too
PERSONS = 200  # the manager's clients' persons who write
DRAIN_SECONDS = 30.0


@dataclass
class Setup:
    manager_token: str
    other_tokens: list[str]
    senders: list[tuple[str, int]]  # (person token, PM dialog id)


def build(database_url: str, persons: int = PERSONS, employees: int = EMPLOYEES) -> Setup:
    """The manager, supervisors, operators, and `persons` persons of the manager's clients, each
    with a (still empty) PM dialog."""
    conn = bulk.connect(database_url)
    clock = bulk.Clock()
    with conn, conn.cursor() as cur:
        (manager,) = bulk.add_employees(cur, 1, prefix="manager", permissions=[], clock=clock)
        supervisors = bulk.add_employees(
            cur, SUPERVISORS, prefix="supervisor", permissions=["supervise"], clock=clock
        )
        operators = bulk.add_employees(
            cur,
            employees - 1 - SUPERVISORS,
            prefix="operator",
            permissions=["general_chat"],
            general_limit=5,
            clock=clock,
        )
        parties = bulk.add_clients(cur, [manager] * persons, prefix="delivery", clock=clock)
        dialogs = bulk.add_dialogs(cur, parties, kind="personal_manager", clock=clock)
    conn.close()
    return Setup(
        manager_token=bulk.employee_token(manager),
        other_tokens=[bulk.employee_token(e) for e in supervisors + operators],
        senders=[
            (bulk.person_token(p.person_id), d) for p, d in zip(parties, dialogs, strict=True)
        ],
    )


@dataclass
class Sockets:
    connections: list[websockets.ClientConnection] = field(default_factory=list)
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    arrived: dict[str, float] = field(default_factory=dict)  # text -> perf_counter at arrival
    received: int = 0

    async def close(self) -> None:
        for task in self.readers:
            task.cancel()
        for ws in self.connections:
            with contextlib.suppress(Exception):
                await ws.close()


async def _drain(ws: websockets.ClientConnection, sockets: Sockets, measured: bool) -> None:
    with contextlib.suppress(websockets.ConnectionClosed, asyncio.CancelledError):
        async for raw in ws:
            sockets.received += 1
            if not measured:
                continue
            now = time.perf_counter()
            event = json.loads(raw)
            if event.get("type") == "message.created":
                sockets.arrived.setdefault(event["data"]["text"], now)


async def connect_all(
    setup: Setup, manager_url: str, other_urls: list[str], parallel: int = 20
) -> Sockets:
    """The manager on `manager_url`, everyone else spread over `other_urls`."""
    sockets = Sockets()
    gate = asyncio.Semaphore(parallel)

    async def one(url: str, token: str, measured: bool) -> None:
        ws_url = url.replace("http://", "ws://") + f"/api/v1/ws?token={token}"
        async with gate:
            ws = await websockets.connect(ws_url, ping_interval=None, max_size=None)
        sockets.connections.append(ws)
        sockets.readers.append(asyncio.create_task(_drain(ws, sockets, measured)))

    await one(manager_url, setup.manager_token, True)
    await asyncio.gather(
        *(
            one(other_urls[i % len(other_urls)], token, False)
            for i, token in enumerate(setup.other_tokens)
        )
    )
    return sockets


@dataclass
class Measured:
    rate: int
    offered: int
    acked: int
    delivered: int
    errors: int
    achieved: float
    latencies: list[float]
    failures: Counter[str] = field(default_factory=Counter)


async def offer(
    clients: list[LeanClient], setup: Setup, sockets: Sockets, rate: int, seconds: float, tag: str
) -> Measured:
    count = max(1, int(rate * seconds))
    started: dict[str, float] = {}
    acked_at: list[float] = []
    errors = 0
    failures: Counter[str] = Counter()  # what each error was: a status, or the client's exception

    async def send(i: int) -> None:
        nonlocal errors
        token, dialog = setup.senders[i % len(setup.senders)]
        text = f"{tag}-{i}"
        started[text] = time.perf_counter()
        try:
            status, _ = await clients[i % len(clients)].request(
                "POST", f"/api/v1/dialogs/{dialog}/messages", json_body={"text": text}, token=token
            )
        except (HTTPError, OSError) as exc:
            status = 0
            failures[f"{type(exc).__name__}: {exc}"[:120]] += 1
        if status == 201:
            acked_at.append(time.perf_counter())
        else:
            errors += 1
            if status:
                failures[f"HTTP {status}"] += 1

    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.05
    p0 = time.perf_counter() + 0.05
    tasks = []
    for i in range(count):
        delay = t0 + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(i)))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*tasks), DRAIN_SECONDS)
    for _ in range(250):  # up to 5 s more for the last events
        if all(t in sockets.arrived for t in started):
            break
        await asyncio.sleep(0.02)
    latencies = [sockets.arrived[t] - s for t, s in started.items() if t in sockets.arrived]
    span = (max(acked_at) - p0) if acked_at else float("nan")
    return Measured(
        rate=rate,
        offered=count,
        acked=len(acked_at),
        delivered=len(latencies),
        errors=errors + sum(1 for t in tasks if not t.done()),
        achieved=len(acked_at) / span if acked_at else 0.0,
        latencies=latencies,
        failures=failures,
    )


async def warm_up(client: LeanClient, setup: Setup, workers: int = 4) -> None:
    pending = list(setup.senders)
    failed = 0

    async def worker() -> None:
        nonlocal failed
        while pending:
            token, dialog = pending.pop()
            status, _ = await client.request(
                "POST",
                f"/api/v1/dialogs/{dialog}/messages",
                json_body={"text": "hello"},
                token=token,
            )
            failed += status != 201

    await asyncio.gather(*(worker() for _ in range(workers)))
    if failed:
        print(f"  warm-up: {failed} of {len(setup.senders)} first messages failed")
    await asyncio.sleep(1.0)


async def measure(
    setup: Setup,
    post_urls: list[str],
    manager_url: str,
    socket_urls: list[str],
    servers: list[ServerProcess],
    rates: tuple[int, ...],
    seconds: float,
    label: str,
) -> list[tuple[Measured, float]]:
    """Connect everyone, open each dialog's appeal with one message, then offer each rate."""
    clients = [LeanClient(url, size=512) for url in post_urls]
    sockets = await connect_all(setup, manager_url, socket_urls)
    results = []
    try:
        # The first message of each dialog opens its appeal (assigned to the active manager):
        # sent closed-loop by a few workers, so the routing lock is not what gets measured.
        await warm_up(clients[0], setup)
        for rate in rates:
            cpu0 = sum(s.cpu_seconds() for s in servers)
            m = await offer(clients, setup, sockets, rate, seconds, f"{label}-{rate}")
            cpu = sum(s.cpu_seconds() for s in servers) - cpu0
            results.append((m, cpu))
            await asyncio.sleep(1.0)
    finally:
        for c in clients:
            await c.aclose()
        await sockets.close()
    return results


def rows_of(results: list[tuple[Measured, float]]) -> list[list[str]]:
    return [
        [
            str(m.rate),
            f"{m.achieved:.0f}",
            f"{m.acked}/{m.offered}",
            str(m.delivered),
            ms(percentile(m.latencies, 50)),
            ms(percentile(m.latencies, 99)),
            f"{cpu / max(m.acked, 1) * 1000:.2f}",
            str(m.errors),
        ]
        for m, cpu in results
    ]


HEADER = [
    "offered/s",
    "achieved/s",
    "acked",
    "delivered",
    "p50 ms",
    "p99 ms",
    "CPU-s/1k",
    "errors",
]


def results_of(results: list[tuple[Measured, float]], variant: str) -> list[Result]:
    return [
        Result(
            "delivery",
            f"{variant}{m.rate}/s offered",
            f"{m.achieved:.0f} msgs/s",
            ms(percentile(m.latencies, 50)),
            ms(percentile(m.latencies, 99)),
            f"{cpu / max(m.acked, 1) * 1000:.2f}",
            f"{m.delivered}/{m.offered} delivered, {m.errors} errors"
            + (f" ({_failures(m)})" if m.failures else ""),
        )
        for m, cpu in results
    ]


def _failures(m: Measured) -> str:
    return "; ".join(f"{n} × {what}" for what, n in m.failures.most_common(3))


async def activate(url: str, token: str) -> None:
    client = LeanClient(url, size=1)
    try:
        await client.json("PUT", "/api/v1/me/status", json_body={"status": "active"}, token=token)
    finally:
        await client.aclose()


def run(
    pg_url: str = DEFAULT_PG,
    seconds: float = 5.0,
    rates: tuple[int, ...] = RATES,
    employees: int = EMPLOYEES,
) -> list[Result]:
    with scratch_database(pg_url, "switchboard_bench_delivery") as url:
        server = start_server(url)
        try:
            setup = build(url, employees=employees)
            asyncio.run(activate(server.url, setup.manager_token))
            results = asyncio.run(
                measure(
                    setup,
                    [server.url],
                    server.url,
                    [server.url],
                    [server],
                    rates,
                    seconds,
                    "one",
                )
            )
        finally:
            server.stop()
    print_table(
        f"Delivery latency: POST → message.created on the manager's WebSocket "
        f"({employees} employees connected, one server process)",
        HEADER,
        rows_of(results),
    )
    return results_of(results, "")
