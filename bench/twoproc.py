"""Workload 5: ingest and delivery against two `switchboard serve` processes on one PostgreSQL,
with Redis fan-out between them; the same figures, and the ratio to one process.

Ingest: the senders are split over both processes. Delivery: every person posts to process A,
the manager's WebSocket is on process B (the event crosses processes through Redis), and the
other employees' WebSockets are spread over both.
"""

from __future__ import annotations

import asyncio
import time

from bench import delivery, ingest
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

REDIS_URL = "redis://127.0.0.1:6379/7"


def _ingest_rows(
    servers: list[ServerProcess], pairs: list[tuple[str, int]], seconds: float
) -> list[tuple[int, float, list[float], float, int]]:
    rows = []
    for concurrency in ingest.CONCURRENCIES:
        cpu0 = sum(s.cpu_seconds() for s in servers)
        t0 = time.monotonic()
        count, latencies, errors = asyncio.run(
            ingest._load([s.url for s in servers], pairs, concurrency, seconds)
        )
        elapsed = time.monotonic() - t0
        cpu = sum(s.cpu_seconds() for s in servers) - cpu0
        rows.append((concurrency, count / elapsed, latencies, cpu / max(count, 1) * 1000, errors))
    return rows


def run_ingest(
    pg_url: str, seconds: float, redis_url: str = REDIS_URL
) -> dict[str, list[tuple[int, float, list[float], float, int]]]:
    """Both variants in one run, so the ratio compares like with like."""
    out = {}
    for variant, processes in (("one", 1), ("two", 2)):
        with scratch_database(pg_url, f"switchboard_bench_twoproc_ingest_{variant}") as url:
            servers = [start_server(url, redis_url=redis_url)]
            try:
                if processes == 2:
                    servers.append(start_server(url, redis_url=redis_url))
                pairs = asyncio.run(ingest._setup(servers[0].url, max(ingest.CONCURRENCIES)))
                out[variant] = _ingest_rows(servers, pairs, seconds)
            finally:
                for s in servers:
                    s.stop()
    return out


def run_delivery(
    pg_url: str,
    seconds: float,
    rates: tuple[int, ...],
    employees: int,
    redis_url: str = REDIS_URL,
) -> dict[str, list[tuple[delivery.Measured, float]]]:
    out = {}
    for variant, processes in (("one", 1), ("two", 2)):
        with scratch_database(pg_url, f"switchboard_bench_twoproc_delivery_{variant}") as url:
            servers = [start_server(url, redis_url=redis_url)]
            try:
                if processes == 2:
                    servers.append(start_server(url, redis_url=redis_url))
                a, b = servers[0], servers[-1]
                setup = delivery.build(url, employees=employees)
                asyncio.run(delivery.activate(b.url, setup.manager_token))
                out[variant] = asyncio.run(
                    delivery.measure(
                        setup,
                        [a.url],
                        b.url,
                        [s.url for s in servers],
                        servers,
                        rates,
                        seconds,
                        variant,
                    )
                )
            finally:
                for s in servers:
                    s.stop()
    return out


def run(
    pg_url: str = DEFAULT_PG,
    seconds: float = 10.0,
    rates: tuple[int, ...] = delivery.RATES,
    employees: int = delivery.EMPLOYEES,
) -> list[Result]:
    results: list[Result] = []
    ing = run_ingest(pg_url, seconds)
    rows = []
    for (c, rate1, _lat1, _cpu1, _e1), (_, rate2, lat2, cpu2, e2) in zip(
        ing["one"], ing["two"], strict=True
    ):
        rows.append(
            [
                str(c),
                f"{rate1:.0f}",
                f"{rate2:.0f}",
                ms(percentile(lat2, 50)),
                ms(percentile(lat2, 99)),
                f"{cpu2:.2f}",
                f"{rate2 / rate1:.2f}×" if rate1 else "n/a",
                str(e2),
            ]
        )
        results.append(
            Result(
                "two processes",
                f"ingest, {c} senders",
                f"{rate2:.0f} msgs/s",
                ms(percentile(lat2, 50)),
                ms(percentile(lat2, 99)),
                f"{cpu2:.2f}",
                f"{rate2 / rate1:.2f}× one process ({rate1:.0f} msgs/s)" if rate1 else "",
            )
        )
    print_table(
        "Ingest, two processes + Redis (senders split over both) vs one process, same run",
        [
            "senders",
            "one: msgs/s",
            "two: msgs/s",
            "two: p50 ms",
            "two: p99 ms",
            "two: CPU-s/1k",
            "ratio",
            "errors",
        ],
        rows,
    )
    dl = run_delivery(pg_url, seconds / 2, rates, employees)
    rows = []
    for (m1, _), (m2, cpu2) in zip(dl["one"], dl["two"], strict=True):
        p99_1 = percentile(m1.latencies, 99)
        p99_2 = percentile(m2.latencies, 99)
        rows.append(
            [
                str(m2.rate),
                f"{m1.achieved:.0f}",
                f"{m2.achieved:.0f}",
                ms(percentile(m1.latencies, 50)),
                ms(percentile(m2.latencies, 50)),
                ms(p99_1),
                ms(p99_2),
                f"{cpu2 / max(m2.acked, 1) * 1000:.2f}",
                f"{m2.delivered}/{m2.offered}",
            ]
        )
        results.append(
            Result(
                "two processes",
                f"delivery, {m2.rate}/s offered",
                f"{m2.achieved:.0f} msgs/s",
                ms(percentile(m2.latencies, 50)),
                ms(p99_2),
                f"{cpu2 / max(m2.acked, 1) * 1000:.2f}",
                f"p99 {p99_2 / p99_1:.2f}× one process; {m2.delivered}/{m2.offered} delivered"
                if p99_1 == p99_1 and p99_1 > 0
                else f"{m2.delivered}/{m2.offered} delivered",
            )
        )
    print_table(
        f"Delivery, posts on process A, manager's WebSocket on process B ({employees} employees "
        "connected) vs one process, same run",
        [
            "offered/s",
            "one: achieved",
            "two: achieved",
            "one: p50 ms",
            "two: p50 ms",
            "one: p99 ms",
            "two: p99 ms",
            "two: CPU-s/1k",
            "two: delivered",
        ],
        rows,
    )
    return results
