"""Workload 1: message ingest over HTTP at several concurrencies, beside pgbench's one-row
INSERT into a table shaped like `messages` (the database's own limit on this machine)."""

from __future__ import annotations

import asyncio
import re
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import (
    ADMIN,
    DEFAULT_PG,
    percentile,
    print_table,
    scratch_database,
    start_server,
)
from bench.lean import HTTPError, LeanClient

CONCURRENCIES = (1, 8, 32)


async def _setup(url: str, senders: int) -> list[tuple[str, int]]:
    """Persons with PM dialogs whose managers are active; returns (token, dialog id) pairs."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as api:
        token = (
            await api.post("/api/v1/auth/token", json={"login": ADMIN[0], "password": ADMIN[1]})
        ).json()["access_token"]
        h = {"Authorization": f"Bearer {token}"}
        managers = []
        for i in range(4):
            e = (
                await api.post(
                    "/api/v1/employees",
                    headers=h,
                    json={
                        "login": f"pm{i}",
                        "full_name": f"Manager {i}",
                        "password": "bench-password",
                        "permissions": ["general_chat"],
                        "general_limit": 1000,
                    },
                )
            ).json()
            t = (
                await api.post(
                    "/api/v1/auth/token", json={"login": f"pm{i}", "password": "bench-password"}
                )
            ).json()["access_token"]
            await api.put(
                "/api/v1/me/status",
                json={"status": "active"},
                headers={"Authorization": f"Bearer {t}"},
            )
            managers.append(e["id"])
        pairs = []
        for i in range(senders):
            c = (
                await api.post(
                    "/api/v1/clients", headers=h, json={"kind": "individual", "name": f"Client {i}"}
                )
            ).json()
            await api.put(
                f"/api/v1/clients/{c['id']}/personal-manager",
                headers=h,
                json={"employee_id": managers[i % 4]},
            )
            p = (
                await api.post(
                    f"/api/v1/clients/{c['id']}/persons", headers=h, json={"name": f"Person {i}"}
                )
            ).json()
            pt = (await api.post(f"/api/v1/persons/{p['id']}/token", headers=h)).json()[
                "access_token"
            ]
            kind = "personal_manager" if i % 2 else "general"
            d = (
                await api.post(
                    "/api/v1/dialogs",
                    json={"kind": kind},
                    headers={"Authorization": f"Bearer {pt}"},
                )
            ).json()
            pairs.append((pt, d["id"]))
        return pairs


async def _load(
    urls: str | list[str], pairs: list[tuple[str, int]], concurrency: int, seconds: float
) -> tuple[int, list[float], int]:
    """Closed-loop senders spread over the servers in `urls`, over the lean keep-alive client
    (httpx costs the load generator about a millisecond of CPU per request)."""
    targets = [urls] if isinstance(urls, str) else urls
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds
    clients = [LeanClient(url, size=concurrency) for url in targets]

    async def sender(index: int) -> None:
        nonlocal errors
        token, dialog = pairs[index % len(pairs)]
        http = clients[index % len(clients)]
        n = 0
        while time.monotonic() < stop:
            n += 1
            started = time.perf_counter()
            try:
                status, _ = await http.request(
                    "POST",
                    f"/api/v1/dialogs/{dialog}/messages",
                    json_body={"text": f"message {n}"},
                    token=token,
                )
            except (HTTPError, OSError):
                status = 0
            latencies.append(time.perf_counter() - started)
            if status != 201:
                errors += 1

    try:
        await asyncio.gather(*(sender(i) for i in range(concurrency)))
    finally:
        for c in clients:
            await c.aclose()
    return len(latencies), latencies, errors


def _pgbench(database_url: str, concurrency: int, seconds: int) -> float:
    from sqlalchemy.engine import make_url

    u = make_url(database_url)
    subprocess.run(
        [
            "psql",
            "-q",
            "-h",
            u.host or "127.0.0.1",
            "-p",
            str(u.port or 5432),
            "-U",
            u.username or "postgres",
            u.database or "",
            "-c",
            "CREATE TABLE IF NOT EXISTS pgbench_messages (id bigserial PRIMARY KEY,"
            " dialog_id int NOT NULL, appeal_id int NOT NULL, author_type varchar(16) NOT NULL,"
            " author_person_id int, author_employee_id int, text text NOT NULL,"
            " client_message_id varchar(128), created_at timestamptz NOT NULL DEFAULT now())",
        ],
        check=True,
    )
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(
            "INSERT INTO pgbench_messages (dialog_id, appeal_id, author_type, author_person_id,"
            " text) VALUES (1, 1, 'person', 1, 'message');\n"
        )
        script = f.name
    out = subprocess.run(
        [
            "pgbench",
            "-n",
            "-h",
            u.host or "127.0.0.1",
            "-p",
            str(u.port or 5432),
            "-U",
            u.username or "postgres",
            "-c",
            str(concurrency),
            "-j",
            str(min(concurrency, 2)),
            "-T",
            str(seconds),
            "-f",
            script,
            u.database or "",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    Path(script).unlink()
    match = re.search(r"tps = ([0-9.]+)", out)
    return float(match.group(1)) if match else float("nan")


def run(pg_url: str = DEFAULT_PG, seconds: float = 10.0) -> list[list[str]]:
    rows: list[list[str]] = []
    with scratch_database(pg_url, "switchboard_bench_ingest") as url:
        server = start_server(url)
        try:
            pairs = asyncio.run(_setup(server.url, max(CONCURRENCIES)))
            for concurrency in CONCURRENCIES:
                cpu0 = server.cpu_seconds()
                t0 = time.monotonic()
                count, latencies, errors = asyncio.run(
                    _load(server.url, pairs, concurrency, seconds)
                )
                elapsed = time.monotonic() - t0
                cpu = server.cpu_seconds() - cpu0
                rate = count / elapsed
                pg = _pgbench(url, concurrency, int(seconds))
                rows.append(
                    [
                        str(concurrency),
                        f"{rate:.0f}",
                        f"{percentile(latencies, 50) * 1000:.1f}",
                        f"{percentile(latencies, 99) * 1000:.1f}",
                        f"{cpu / count * 1000:.2f}",
                        f"{pg:.0f}",
                        f"{rate / pg * 100:.1f}%",
                        str(errors),
                    ]
                )
        finally:
            server.stop()
    print_table(
        "Message ingest (PostgreSQL, one server process, load over loopback)",
        ["senders", "msgs/s", "p50 ms", "p99 ms", "CPU-s/1k", "pgbench tps", "ratio", "errors"],
        rows,
    )
    return rows
