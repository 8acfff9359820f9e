"""Workload 3: routing bursts.

(a) 1,000 PM appeals queued for one manager who is offline; the manager sets `active` — the PUT's
    duration (it returns after routing has committed) and a check that all are assigned.
(b) 10,000 general appeals queued; 200 operators with general_limit 5 become active at once —
    assignments per second until capacity is full (1,000 assignments).
(c) a portfolio move of 2,000 clients while the old manager holds 300 open appeals — the move's
    duration (a dry run, then the real one).

The queued state is written straight into the database (bench/bulk.py), as the service would
have left it; the bursts themselves go through the HTTP API.
"""

from __future__ import annotations

import asyncio
import time

from bench import bulk
from bench.common import (
    ADMIN,
    DEFAULT_PG,
    Result,
    ServerProcess,
    ms,
    percentile,
    print_table,
    scratch_database,
    start_server,
)
from bench.lean import LeanClient


def _count(url: str, sql: str, *args: object) -> int:
    conn = bulk.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            row = cur.fetchone()
            return int(row[0]) if row else 0
    finally:
        conn.close()


def pm_burst(url: str, server: ServerProcess, appeals: int) -> Result:
    conn = bulk.connect(url)
    clock = bulk.Clock()
    with conn, conn.cursor() as cur:
        (manager,) = bulk.add_employees(cur, 1, prefix="burst-pm", permissions=[], clock=clock)
        parties = bulk.add_clients(cur, [manager] * appeals, prefix="pm-burst", clock=clock)
        bulk.add_dialogs_with_open_appeals(
            cur, parties, kind="personal_manager", status="queued", clock=clock
        )
    conn.close()

    async def go() -> tuple[float, int]:
        client = LeanClient(server.url, size=1)
        try:
            started = time.perf_counter()
            status, _ = await client.request(
                "PUT",
                "/api/v1/me/status",
                json_body={"status": "active"},
                token=bulk.employee_token(manager),
            )
            return time.perf_counter() - started, status
        finally:
            await client.aclose()

    cpu0 = server.cpu_seconds()
    duration, status = asyncio.run(go())
    cpu = server.cpu_seconds() - cpu0
    assigned = _count(
        url,
        "SELECT count(*) FROM appeals WHERE assignee_id = %s AND status = 'assigned'"
        " AND reason = 'personal_manager_active'",
        manager,
    )
    print(
        f"  (a) PUT /me/status → {status} in {duration * 1000:.0f} ms; "
        f"{assigned}/{appeals} assigned when it returned"
    )
    return Result(
        "routing",
        f"{appeals} PM appeals, manager becomes active",
        f"{assigned / duration:.0f} assign/s",
        ms(duration),
        ms(duration),
        f"{cpu / max(assigned, 1) * 1000:.2f}",
        f"PUT {status}; {assigned}/{appeals} assigned on return",
    )


def general_burst(url: str, server: ServerProcess, appeals: int, operators: int) -> Result:
    limit = 5
    conn = bulk.connect(url)
    clock = bulk.Clock()
    with conn, conn.cursor() as cur:
        ops = bulk.add_employees(
            cur,
            operators,
            prefix="burst-op",
            permissions=["general_chat"],
            general_limit=limit,
            clock=clock,
        )
        parties = bulk.add_clients(cur, [None] * appeals, prefix="general-burst", clock=clock)
        bulk.add_dialogs_with_open_appeals(
            cur, parties, kind="general", status="queued", clock=clock
        )
    conn.close()
    capacity = min(appeals, operators * limit)

    async def go() -> tuple[float, list[float], list[int], int]:
        client = LeanClient(server.url, size=operators)
        durations: list[float] = []
        statuses: list[int] = []
        start = asyncio.Event()
        retried = 0

        async def one(employee_id: int) -> None:
            nonlocal retried
            await start.wait()
            t = time.perf_counter()
            # A 503 (the server's pool or statement timeout) is retried, as the web UI would.
            for _ in range(100):
                status, _ = await client.request(
                    "PUT",
                    "/api/v1/me/status",
                    json_body={"status": "active"},
                    token=bulk.employee_token(employee_id),
                )
                if status != 503:
                    break
                retried += 1
                await asyncio.sleep(0.1)
            durations.append(time.perf_counter() - t)
            statuses.append(status)

        tasks = [asyncio.create_task(one(e)) for e in ops]
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        start.set()
        await asyncio.gather(*tasks)
        total = time.perf_counter() - started
        await client.aclose()
        return total, durations, statuses, retried

    cpu0 = server.cpu_seconds()
    total, durations, statuses, retried = asyncio.run(go())
    cpu = server.cpu_seconds() - cpu0
    assigned = _count(
        url,
        "SELECT count(*) FROM appeals WHERE status = 'assigned' AND kind = 'general'"
        " AND assignee_id = ANY(%s)",
        ops,
    )
    over = _count(
        url,
        "SELECT count(*) FROM (SELECT assignee_id FROM appeals WHERE status = 'assigned'"
        " AND kind = 'general' GROUP BY assignee_id HAVING count(*) > %s) t",
        limit,
    )
    ok = sum(1 for s in statuses if s == 200)
    print(
        f"  (b) {operators} PUTs ({ok} × 200, {retried} answers 503 retried) in "
        f"{total * 1000:.0f} ms; {assigned}/{capacity} "
        f"assigned; operators over their limit: {over}"
    )
    return Result(
        "routing",
        f"{appeals} general queued, {operators} operators (limit {limit}) active at once",
        f"{assigned / total:.0f} assign/s",
        ms(percentile(durations, 50)),
        ms(percentile(durations, 99)),
        f"{cpu / max(assigned, 1) * 1000:.2f}",
        f"{assigned}/{capacity} assigned in {total:.2f} s; {retried} × 503 retried; PUT p50/p99",
    )


def portfolio_move(url: str, server: ServerProcess, clients: int, held: int) -> list[Result]:
    conn = bulk.connect(url)
    clock = bulk.Clock()
    with conn, conn.cursor() as cur:
        old, new = bulk.add_employees(cur, 2, prefix="move-pm", permissions=[], clock=clock)
        cur.execute("SELECT id FROM employees WHERE login = %s", (ADMIN[0],))
        row = cur.fetchone()
        assert row is not None
        admin = int(row[0])
    conn.close()

    async def activate() -> None:
        client = LeanClient(server.url, size=2)
        for e in (old, new):
            await client.json(
                "PUT",
                "/api/v1/me/status",
                json_body={"status": "active"},
                token=bulk.employee_token(e),
            )
        await client.aclose()

    asyncio.run(activate())  # both active before the old one is given appeals to hold
    conn = bulk.connect(url)
    with conn, conn.cursor() as cur:
        parties = bulk.add_clients(cur, [old] * clients, prefix="move", clock=clock)
        bulk.add_dialogs_with_open_appeals(
            cur,
            parties[:held],
            kind="personal_manager",
            status="assigned",
            assignees=[old] * held,
            clock=clock,
        )
    conn.close()

    async def move(dry_run: bool) -> tuple[float, int, bytes]:
        client = LeanClient(server.url, size=1)
        t = time.perf_counter()
        status, body = await client.request(
            "POST",
            "/api/v1/personal-managers/moves",
            json_body={"from_employee_id": old, "to_employee_id": new, "dry_run": dry_run},
            token=bulk.employee_token(admin),
        )
        elapsed = time.perf_counter() - t
        await client.aclose()
        return elapsed, status, body

    results = []
    for dry_run in (True, False):
        cpu0 = server.cpu_seconds()
        elapsed, status, body = asyncio.run(move(dry_run))
        cpu = server.cpu_seconds() - cpu0
        print(f"  (c) move dry_run={dry_run} → {status} in {elapsed * 1000:.0f} ms: {body[:200]!r}")
        results.append(
            Result(
                "routing",
                f"portfolio move of {clients} clients, {held} held"
                + (" (dry run)" if dry_run else ""),
                f"{clients / elapsed:.0f} clients/s",
                ms(elapsed),
                ms(elapsed),
                f"{cpu / clients * 1000:.2f}",
                f"HTTP {status}",
            )
        )
    moved = _count(url, "SELECT count(*) FROM clients WHERE personal_manager_id = %s", new)
    staying = _count(
        url, "SELECT count(*) FROM appeals WHERE assignee_id = %s AND status = 'assigned'", old
    )
    print(
        f"  (c) after the move: {moved}/{clients} clients with the new manager; "
        f"{staying}/{held} appeals still held by the old one (SPEC 6.1)"
    )
    return results


def run(pg_url: str = DEFAULT_PG, quick: bool = False) -> list[Result]:
    scale = 0.1 if quick else 1.0
    results: list[Result] = []
    with scratch_database(pg_url, "switchboard_bench_routing") as url:
        server = start_server(url)
        try:
            results.append(pm_burst(url, server, int(1000 * scale)))
            results.append(
                general_burst(url, server, int(10_000 * scale), max(2, int(200 * scale)))
            )
            results.extend(portfolio_move(url, server, int(2000 * scale), int(300 * scale)))
        finally:
            server.stop()
    print_table(
        "Routing bursts (one server process)",
        ["burst", "throughput", "p50 ms", "p99 ms", "CPU-s/1k", "note"],
        [[r.variant, r.throughput, r.p50_ms, r.tail_ms, r.cpu_per_1k, r.note] for r in results],
    )
    return results
