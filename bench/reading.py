"""Workload 4: reading at scale.

A generator builds, with `INSERT … SELECT generate_series` inside PostgreSQL (no row crosses the
wire), 1,000,000 dialogs, 10,000,000 messages and 2,000 employees at `--scale 1`, with the
clients, persons, appeals, appeal history, read marks and invitations the data model needs.
Secondary indexes are dropped during the load and rebuilt after it; foreign-key triggers are
skipped (`session_replication_role = replica`): the rows are consistent by construction.

The shape (scale 1): 2,000 employees — 10 supervisors, 200 personal managers, 1,790 operators;
500,000 individual clients with one person each and a PM each (2,500 clients per PM); every
person has a general and a PM dialog of 10 messages each, spread over the last year; one appeal
per dialog: 1% of general dialogs queued (the supervisors' queue, 5,000), 1% assigned to
operators, 0.1% to supervisors; 1% of PM dialogs assigned to their PM, 1% waiting for them; the
rest closed; each PM has read their PM dialogs up to the 8th message; 0.5% of PM dialogs have an
invited operator.

Then, against one server process: the Inbox first page and a later cursor page (a manager with
2,500 dialogs, and a supervisor with 100), the Inbox of an operator invited into 27 dialogs, a
dialog's history page, and the supervisor's queue — p50/p95
over 1,000 requests each (sequential), and `EXPLAIN (ANALYZE, BUFFERS)` of the Inbox and queue
queries.

The database is `switchboard_bench_reading_<scale>`: `--keep` leaves it after the run, `--reuse`
measures on it again without rebuilding when it was built at the same scale.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import psycopg2.errors  # type: ignore[import-untyped]
from sqlalchemy import create_engine, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url

from bench import bulk
from bench.common import (
    DEFAULT_PG,
    Result,
    ServerProcess,
    ms,
    percentile,
    print_table,
    start_server,
)
from bench.lean import LeanClient

LOADED_TABLES = (
    "employees",
    "clients",
    "persons",
    "dialogs",
    "appeals",
    "appeal_history",
    "messages",
    "read_marks",
    "dialog_participants",
)


@dataclass(frozen=True)
class Shape:
    scale: float

    @property
    def employees(self) -> int:
        return max(40, round(2000 * self.scale))

    @property
    def supervisors(self) -> int:
        return max(2, self.employees // 200)

    @property
    def managers(self) -> int:
        return max(4, self.employees // 10)

    @property
    def operators(self) -> int:
        return self.employees - self.supervisors - self.managers

    @property
    def persons(self) -> int:
        return max(1000, round(500_000 * self.scale))


def database_name(scale: float) -> str:
    return "switchboard_bench_reading_" + f"{scale:g}".replace(".", "_")


def _admin_engine(pg_url: str) -> Any:
    return create_engine(
        make_url(pg_url).set(drivername="postgresql+psycopg2"), isolation_level="AUTOCOMMIT"
    )


def _built_scale(pg_url: str, name: str) -> float | None:
    admin = _admin_engine(pg_url)
    try:
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                return None
    finally:
        admin.dispose()
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    conn = bulk.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('bench_reading_meta')")
            row = cur.fetchone()
            if not row or row[0] is None:
                return None
            cur.execute("SELECT scale FROM bench_reading_meta")
            meta = cur.fetchone()
            return float(meta[0]) if meta else None
    finally:
        conn.close()


def _recreate(pg_url: str, name: str) -> None:
    admin = _admin_engine(pg_url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def drop(pg_url: str, name: str) -> None:
    admin = _admin_engine(pg_url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def generate(url: str, shape: Shape) -> float:
    """Fill a migrated, empty database (only the first administrator in it). Returns seconds."""
    started = time.monotonic()
    conn = bulk.connect(url)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET session_replication_role = replica")
    cur.execute("SET maintenance_work_mem = '512MB'")
    cur.execute("SET synchronous_commit = off")  # the generator's own load only
    cur.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
        " AND tablename = ANY(%s) AND indexname NOT IN"
        " (SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))",
        (list(LOADED_TABLES),),
    )
    indexes = cur.fetchall()
    for name, _ in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    cur.execute("SELECT coalesce(max(id), 0) FROM employees")
    row = cur.fetchone()
    eb = int(row[0]) if row else 0
    s = shape
    p = {
        "eb": eb,
        "e": s.employees,
        "sup": s.supervisors,
        "pms": s.managers,
        "ops": s.operators,
        "n": s.persons,
        "hash": bulk.password_hash(),
    }
    # Employee ids: supervisors eb+1..eb+sup, managers next, operators after them.
    pm_of_person = "(%(eb)s + %(sup)s + 1 + (g %% %(pms)s))"
    op_of = "(%(eb)s + %(sup)s + %(pms)s + 1 + ({x} %% %(ops)s))"
    steps: list[tuple[str, str]] = [
        (
            "employees",
            """INSERT INTO employees (id, login, full_name, password_hash, permissions,
                general_limit, status, status_changed_at, is_enabled, token_version, created_at)
            SELECT %(eb)s + g, 'reader-' || g, 'Employee ' || g, %(hash)s,
                (CASE WHEN g <= %(sup)s THEN '["general_chat", "supervise"]'
                      WHEN g <= %(sup)s + %(pms)s THEN '[]'
                      ELSE '["general_chat"]' END)::json,
                CASE WHEN g > %(sup)s + %(pms)s THEN 5 END, 'offline', now(), true, 0, now()
            FROM generate_series(1, %(e)s) g""",
        ),
        (
            "clients",
            f"""INSERT INTO clients (id, kind, name, name_folded, personal_manager_id, created_at)
            SELECT g, 'individual', 'Client ' || g, 'client ' || g, {pm_of_person}, now()
            FROM generate_series(1, %(n)s) g""",
        ),
        (
            "persons",
            """INSERT INTO persons (id, client_id, name, is_enabled, token_version, created_at)
            SELECT g, g, 'Person ' || g, true, 0, now() FROM generate_series(1, %(n)s) g""",
        ),
        # Dialog d: person (d + 1) / 2; odd d general, even d personal_manager.
        (
            "dialogs",
            f"""INSERT INTO dialogs (id, person_id, client_id, kind, responsible_id, created_at,
                last_message_id, last_message_at, last_activity_at)
            SELECT d, (d + 1) / 2, (d + 1) / 2,
                CASE WHEN d %% 2 = 1 THEN 'general' ELSE 'personal_manager' END,
                CASE WHEN d %% 2 = 0 THEN {pm_of_person.replace("g", "((d + 1) / 2)")} END,
                t - interval '30 days', d * 10, t, t
            FROM (SELECT d, now() - interval '1 second' * ((d::bigint * 7919) %% 31536000) AS t
                  FROM generate_series(1, 2 * %(n)s) d) x""",
        ),
        (
            "appeals",
            f"""INSERT INTO appeals (id, dialog_id, client_id, kind, status, assignee_id,
                waiting_for_id, last_assignee_id, reason, opened_at, queued_at, assigned_at,
                closed_at)
            SELECT d, d, c, kind, status,
                CASE WHEN status = 'assigned' THEN holder END,
                CASE WHEN status = 'queued' AND kind = 'personal_manager' THEN pm END,
                CASE WHEN status <> 'queued' THEN holder END,
                CASE WHEN status = 'queued' AND kind = 'general' THEN 'no_eligible_operator'
                     WHEN status = 'queued' THEN 'waiting_for_personal_manager'
                     WHEN status = 'assigned' AND kind = 'general' THEN 'routed'
                     WHEN status = 'assigned' THEN 'personal_manager_active'
                     WHEN kind = 'general' THEN 'closed_by_employee'
                     ELSE 'closed_by_person' END,
                t - interval '10 minutes', t - interval '10 minutes',
                CASE WHEN status <> 'queued' THEN t - interval '9 minutes' END,
                CASE WHEN status = 'closed' THEN t END
            FROM (
                SELECT d, c, t, kind, pm,
                    CASE WHEN kind = 'general' AND d %% 1000 = 5
                            THEN %(eb)s + 1 + (d / 1000) %% %(sup)s
                         WHEN kind = 'general' THEN {op_of.format(x="d")}
                         ELSE pm END AS holder,
                    CASE WHEN d %% 100 IN (1, 4) THEN 'queued'
                         WHEN d %% 100 IN (2, 3) OR d %% 1000 = 5 THEN 'assigned'
                         ELSE 'closed' END AS status
                FROM (SELECT id AS d, client_id AS c, kind, last_activity_at AS t,
                             {pm_of_person.replace("g", "client_id")} AS pm
                      FROM dialogs) y
            ) x""",
        ),
        (
            "appeal_history",
            """INSERT INTO appeal_history (appeal_id, at, event, reason, employee_id,
                actor_type, actor_id)
            SELECT a.id, a.opened_at, 'opened', NULL, NULL, 'person', d.person_id
            FROM appeals a JOIN dialogs d ON d.id = a.dialog_id
            UNION ALL
            SELECT a.id, coalesce(a.closed_at, a.assigned_at, a.queued_at),
                CASE a.status WHEN 'queued' THEN 'queued' WHEN 'assigned' THEN 'assigned'
                    ELSE 'closed' END,
                a.reason, coalesce(a.assignee_id, a.waiting_for_id, a.last_assignee_id),
                CASE WHEN a.status = 'closed' AND a.kind = 'personal_manager' THEN 'person'
                     WHEN a.status = 'closed' THEN 'employee' ELSE 'person' END,
                CASE WHEN a.status = 'closed' AND a.kind = 'general' THEN a.last_assignee_id
                     ELSE d.person_id END
            FROM appeals a JOIN dialogs d ON d.id = a.dialog_id""",
        ),
        # Message (d - 1) * 10 + k; odd k from the person, even k from the employee who held
        # the appeal (a queued appeal has only the person's messages).
        (
            "messages",
            """INSERT INTO messages (id, dialog_id, appeal_id, author_type, author_person_id,
                author_employee_id, text, created_at)
            SELECT (a.id - 1) * 10 + k, a.id, a.id,
                CASE WHEN by_person THEN 'person' ELSE 'employee' END,
                CASE WHEN by_person THEN a.client_id END,
                CASE WHEN by_person THEN NULL ELSE a.last_assignee_id END,
                'Message ' || k || ' in dialog ' || a.id,
                a.opened_at + interval '1 minute' * k
            FROM appeals a CROSS JOIN generate_series(1, 10) k,
                LATERAL (SELECT k %% 2 = 1 OR a.last_assignee_id IS NULL AS by_person) b""",
        ),
        (
            "read_marks",
            """INSERT INTO read_marks (dialog_id, reader_type, reader_id, last_read_message_id)
            SELECT d.id, 'employee', c.personal_manager_id, (d.id - 1) * 10 + 8
            FROM dialogs d JOIN clients c ON c.id = d.client_id
            WHERE d.kind = 'personal_manager'""",
        ),
        (
            "dialog_participants",
            f"""INSERT INTO dialog_participants (dialog_id, employee_id, invited_by, invited_at)
            SELECT d.id, {op_of.format(x="d.id")}, c.personal_manager_id, now()
            FROM dialogs d JOIN clients c ON c.id = d.client_id
            WHERE d.kind = 'personal_manager' AND d.id %% 200 = 10""",
        ),
    ]
    for table, sql in steps:
        t = time.monotonic()
        cur.execute(sql, p)
        print(f"  {table}: {cur.rowcount:,} rows in {time.monotonic() - t:.1f} s", flush=True)
    t = time.monotonic()
    for _name, definition in indexes:
        cur.execute(definition)
    print(f"  {len(indexes)} indexes rebuilt in {time.monotonic() - t:.1f} s", flush=True)
    for table in LOADED_TABLES:
        if table == "dialog_participants":
            continue
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
            f" (SELECT coalesce(max(id), 1) FROM {table}))"
        )
    t = time.monotonic()
    cur.execute("VACUUM (ANALYZE)")
    print(f"  vacuum analyze in {time.monotonic() - t:.1f} s", flush=True)
    cur.execute("CREATE TABLE bench_reading_meta (scale float8 NOT NULL, built_at timestamptz)")
    cur.execute("INSERT INTO bench_reading_meta VALUES (%s, now())", (shape.scale,))
    cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
    size = cur.fetchone()
    conn.close()
    elapsed = time.monotonic() - started
    print(f"  built in {elapsed:.0f} s; database size {size[0] if size else '?'}", flush=True)
    return elapsed


def _people(url: str, shape: Shape) -> dict[str, int]:
    conn = bulk.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT min(id) FROM employees WHERE login LIKE 'reader-%%'")
            row = cur.fetchone()
            assert row is not None
            first = int(row[0])
            manager = first + shape.supervisors  # the first personal manager
            cur.execute(
                "SELECT d.id FROM dialogs d JOIN clients c ON c.id = d.client_id"
                " WHERE c.personal_manager_id = %s AND d.kind = 'personal_manager'"
                " ORDER BY d.last_activity_at DESC LIMIT 1",
                (manager,),
            )
            dialog = cur.fetchone()
            assert dialog is not None
            operator = first + shape.supervisors + shape.managers  # the first operator
            return {
                "supervisor": first,
                "manager": manager,
                "operator": operator,
                "dialog": int(dialog[0]),
            }
    finally:
        conn.close()


class _Captured(Exception):
    def __init__(self, statement: Any) -> None:
        self.statement = statement


class _CaptureSession:
    async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        raise _Captured(statement)


class _CaptureUow:
    session = _CaptureSession()
    is_sqlite = False


async def _inbox_statement(employee_id: int, cursor: str | None) -> Any:
    """The exact statement the Inbox runs first, built by the service's own code."""
    from types import SimpleNamespace

    from switchboard.dialogs.inbox import inbox_txn

    try:
        await inbox_txn(
            _CaptureUow(),  # type: ignore[arg-type]
            SimpleNamespace(id=employee_id),  # type: ignore[arg-type]
            kind=None,
            state=None,
            unread=None,
            q=None,
            cursor=cursor,
            limit=50,
            lang="ru",
        )
    except _Captured as captured:
        return captured.statement
    raise RuntimeError("the Inbox ran no statement")


def explain(url: str, statement: Any) -> str:
    compiled = statement.compile(dialect=postgresql.psycopg2.dialect())  # type: ignore[no-untyped-call]
    conn = bulk.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SET statement_timeout = '120s'")
            try:
                cur.execute(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}", compiled.params)
            except psycopg2.errors.QueryCanceled:
                conn.rollback()
                cur.execute(f"EXPLAIN {compiled}", compiled.params)
                plan = "\n".join(r[0] for r in cur.fetchall())
                return f"(did not finish within 120 s; the plan without ANALYZE:)\n{plan}"
            return "\n".join(r[0] for r in cur.fetchall())
    finally:
        conn.close()


QUEUE_SQL = """SELECT appeals.*, clients.*, persons.* FROM appeals
JOIN dialogs ON dialogs.id = appeals.dialog_id
JOIN clients ON clients.id = appeals.client_id
JOIN persons ON persons.id = dialogs.person_id
WHERE appeals.status = 'queued' ORDER BY appeals.id LIMIT 51"""


async def _measure(
    server: ServerProcess, people: dict[str, int], requests: int, cap_seconds: float
) -> list[tuple[str, list[float], int, float, str]]:
    client = LeanClient(server.url, size=1)
    sup = bulk.employee_token(people["supervisor"])
    mgr = bulk.employee_token(people["manager"])
    op = bulk.employee_token(people["operator"])

    async def later_cursor(token: str, pages: int = 3) -> str | None:
        """The cursor of the third page (or the last one reachable)."""
        cursor: str | None = None
        for _ in range(pages - 1):
            path = "/api/v1/inbox" + (f"?cursor={cursor}" if cursor else "")
            status, body = await client.request("GET", path, token=token)
            if status != 200:
                print(f"  following the Inbox's cursors: {status} {body[:120]!r}")
                break
            page = json.loads(body)
            if not page["next_cursor"]:
                break
            cursor = page["next_cursor"]
        return cursor

    mgr_cursor = await later_cursor(mgr)
    sup_cursor = await later_cursor(sup)
    variants = [
        ("Inbox, manager, first page", "/api/v1/inbox", mgr, None),
        ("Inbox, manager, later page", f"/api/v1/inbox?cursor={mgr_cursor}", mgr, mgr_cursor),
        ("Inbox, supervisor, first page", "/api/v1/inbox", sup, None),
        ("Inbox, supervisor, later page", f"/api/v1/inbox?cursor={sup_cursor}", sup, sup_cursor),
        ("Inbox, operator, first page", "/api/v1/inbox", op, None),
        ("dialog history, latest page", f"/api/v1/dialogs/{people['dialog']}/messages", mgr, None),
        ("supervisor's queue, first page", "/api/v1/queue", sup, None),
    ]
    out = []
    for name, path, token, cursor in variants:
        if "later" in name and cursor is None:
            print(f"  {name}: no later page (fewer than two pages)")
            continue
        status, body = await client.request("GET", path, token=token)
        items = len(json.loads(body)["items"]) if status == 200 else 0
        latencies: list[float] = []
        cpu0 = server.cpu_seconds()
        deadline = time.monotonic() + cap_seconds
        errors = 0
        while len(latencies) < requests and time.monotonic() < deadline:
            t = time.perf_counter()
            status, _ = await client.request("GET", path, token=token)
            latencies.append(time.perf_counter() - t)
            errors += status != 200
        cpu = server.cpu_seconds() - cpu0
        note = f"{len(latencies)} requests, {items} items/page" + (
            f", {errors} errors (the server's 10 s statement timeout)" if errors else ""
        )
        out.append((name, latencies, items, cpu, note))
    await client.aclose()
    return out


def run(
    pg_url: str = DEFAULT_PG,
    scale: float = 1.0,
    requests: int = 1000,
    keep: bool = False,
    reuse: bool = False,
    cap_seconds: float = 60.0,
    explain_plans: bool = True,
) -> list[Result]:
    shape = Shape(scale)
    name = database_name(scale)
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    built = _built_scale(pg_url, name) if reuse else None
    try:
        if built == scale:
            print(f"  reusing {name} (built at scale {scale:g})")
        else:
            _recreate(pg_url, name)
            start_server(url).stop()  # migrate and create the first administrator
            print(
                f"  generating at scale {scale:g}: {shape.persons * 2:,} dialogs, "
                f"{shape.persons * 20:,} messages, {shape.employees:,} employees",
                flush=True,
            )
            generate(url, shape)
        people = _people(url, shape)
        server = start_server(url)
        try:
            measured = asyncio.run(_measure(server, people, requests, cap_seconds))
        finally:
            server.stop()
        if explain_plans:
            plans = {
                "Inbox, manager, first page": asyncio.run(
                    _inbox_statement(people["manager"], None)
                ),
                "Inbox, supervisor, first page": asyncio.run(
                    _inbox_statement(people["supervisor"], None)
                ),
                "Inbox, operator, first page": asyncio.run(
                    _inbox_statement(people["operator"], None)
                ),
            }
            for title, statement in plans.items():
                print(f"\nEXPLAIN ANALYZE — {title}:\n{explain(url, statement)}")
            conn = bulk.connect(url)
            with conn.cursor() as cur:
                cur.execute(f"EXPLAIN (ANALYZE, BUFFERS) {QUEUE_SQL}")
                plan = "\n".join(r[0] for r in cur.fetchall())
            conn.close()
            print(f"\nEXPLAIN ANALYZE — the queue:\n{plan}")
    finally:
        if not keep:
            drop(pg_url, name)
    results = [
        Result(
            "reading",
            f"{title} (scale {scale:g})",
            f"{len(lat) / max(sum(lat), 1e-9):.0f} req/s",
            ms(percentile(lat, 50)),
            ms(percentile(lat, 95)),
            f"{cpu / max(len(lat), 1) * 1000:.2f}",
            note,
        )
        for title, lat, _, cpu, note in measured
    ]
    print_table(
        f"Reading at scale {scale:g} (one server process, sequential requests)",
        ["request", "req/s", "p50 ms", "p95 ms", "CPU-s/1k", "note"],
        [[r.variant, r.throughput, r.p50_ms, r.tail_ms, r.cpu_per_1k, r.note] for r in results],
    )
    if keep:
        print(f"  kept the database {name} (reuse it with --reuse)")
    return results
