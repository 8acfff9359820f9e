"""Shared pieces: a throwaway PostgreSQL database, a server process, CPU accounting, tables."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_PG = os.environ.get("SWITCHBOARD_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
ADMIN = ("bench-admin", "bench-password-1")


@contextmanager
def scratch_database(base_url: str, name: str) -> Iterator[str]:
    """A fresh database next to `base_url`, dropped afterwards."""
    admin = create_engine(
        make_url(base_url).set(drivername="postgresql+psycopg2"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    url: str

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process so far (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_server(
    database_url: str,
    *,
    redis_url: str | None = None,
    workdir: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> ServerProcess:
    port = free_port()
    env = {
        **os.environ,
        "SWITCHBOARD_DATABASE_URL": database_url,
        "SWITCHBOARD_SECRET_KEY": "bench-secret",
        "SWITCHBOARD_ADMIN_LOGIN": ADMIN[0],
        "SWITCHBOARD_ADMIN_PASSWORD": ADMIN[1],
    }
    env.pop("SWITCHBOARD_REDIS_URL", None)
    if redis_url:
        env["SWITCHBOARD_REDIS_URL"] = redis_url
    env.update(extra_env or {})
    log = open((workdir or Path("/tmp")) / f"bench-server-{port}.log", "ab")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "switchboard", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return ServerProcess(process, url)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass
class Result:
    """One line of the summary table of `python -m bench all`."""

    workload: str
    variant: str
    throughput: str
    p50_ms: str
    tail_ms: str  # p99, or p95 where the workload says so
    cpu_per_1k: str
    note: str = ""


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def print_results(results: list[Result]) -> None:
    print_table(
        "Summary (server CPU-s per 1,000 operations; tail = p99, p95 for reading)",
        ["workload", "variant", "throughput", "p50 ms", "tail ms", "CPU-s/1k", "note"],
        [
            [r.workload, r.variant, r.throughput, r.p50_ms, r.tail_ms, r.cpu_per_1k, r.note]
            for r in results
        ],
    )
