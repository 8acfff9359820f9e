"""Building benchmark state straight in PostgreSQL (COPY), the way the service would have built it.

Thousands of HTTP calls to set up a burst would take longer than the burst. These helpers write
the same rows the service writes for the same story (see `routing/engine.py`,
`dialogs/service.py`): an appeal opened by a person's message has the appeal row in its routed
state, its history (`opened`, then `queued` or `assigned` with the reason code), the message that
opened it, the dialog's last message and activity, and the person's read mark. Left out, because
nothing measured reads them: the outbox events of that past (pruned after a week in real life),
the audit trail of who created whom, and the history of the first manager appointments.

Tokens are minted with the server's own signer and the benchmark's secret, not by logging in
(argon2 verification is deliberately slow and is not what these workloads measure).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg2  # type: ignore[import-untyped]
import psycopg2.extensions  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from switchboard.auth.passwords import hash_password
from switchboard.auth.tokens import TokenSigner

SECRET = "bench-secret"  # the SWITCHBOARD_SECRET_KEY that bench.common.start_server passes
PASSWORD = "bench-password"
_signer = TokenSigner(SECRET)
_hash: str | None = None


def employee_token(employee_id: int) -> str:
    return _signer.issue("employee", employee_id, 0, 12 * 3600)[0]


def person_token(person_id: int) -> str:
    return _signer.issue("person", person_id, 0, 12 * 3600)[0]


def password_hash() -> str:
    global _hash
    if _hash is None:
        _hash = hash_password(PASSWORD)
    return _hash


def connect(database_url: str) -> psycopg2.extensions.connection:
    u = make_url(database_url)
    return psycopg2.connect(
        host=u.host or "127.0.0.1",
        port=u.port or 5432,
        user=u.username or "postgres",
        password=u.password,
        dbname=u.database,
    )


def _cell(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | dict):
        value = json.dumps(value)
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_rows(
    cur: psycopg2.extensions.cursor,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> int:
    """COPY rows into a table (text format, built in memory in batches)."""
    count = 0
    buffer = io.StringIO()
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"

    def flush() -> None:
        buffer.seek(0)
        cur.copy_expert(statement, buffer)
        buffer.seek(0)
        buffer.truncate()

    for row in rows:
        buffer.write("\t".join(_cell(v) for v in row))
        buffer.write("\n")
        count += 1
        if count % 50_000 == 0:
            flush()
    if buffer.tell():
        flush()
    return count


def reserve_ids(cur: psycopg2.extensions.cursor, table: str, n: int) -> list[int]:
    """n ids from the table's own sequence, so the service's later inserts never collide."""
    if n == 0:
        return []
    cur.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        (table, n),
    )
    return sorted(r[0] for r in cur.fetchall())


class Clock:
    """Strictly increasing timestamps a little in the past, one per row written."""

    def __init__(self, start: datetime | None = None) -> None:
        self.at = start or datetime.now(UTC) - timedelta(hours=1)

    def tick(self) -> datetime:
        self.at += timedelta(microseconds=50)
        return self.at


def add_employees(
    cur: psycopg2.extensions.cursor,
    n: int,
    *,
    prefix: str,
    permissions: Sequence[str],
    general_limit: int | None = None,
    status: str = "offline",
    clock: Clock,
) -> list[int]:
    ids = reserve_ids(cur, "employees", n)
    h = password_hash()
    copy_rows(
        cur,
        "employees",
        [
            "id",
            "login",
            "full_name",
            "password_hash",
            "permissions",
            "general_limit",
            "status",
            "status_changed_at",
            "is_enabled",
            "token_version",
            "created_at",
        ],
        (
            (
                i,
                f"{prefix}-{i}",
                f"{prefix.title()} {i}",
                h,
                sorted(permissions),
                general_limit,
                status,
                clock.tick(),
                True,
                0,
                clock.at,
            )
            for i in ids
        ),
    )
    return ids


@dataclass(frozen=True)
class Party:
    client_id: int
    person_id: int
    manager_id: int | None


def add_clients(
    cur: psycopg2.extensions.cursor,
    managers: Sequence[int | None],
    *,
    prefix: str,
    clock: Clock,
) -> list[Party]:
    """One individual client with one person for each entry of `managers` (their PM or None)."""
    n = len(managers)
    client_ids = reserve_ids(cur, "clients", n)
    person_ids = reserve_ids(cur, "persons", n)
    copy_rows(
        cur,
        "clients",
        ["id", "kind", "name", "name_folded", "personal_manager_id", "created_at"],
        (
            (
                c,
                "individual",
                f"{prefix} client {c}",
                f"{prefix} client {c}".casefold(),
                m,
                clock.tick(),
            )
            for c, m in zip(client_ids, managers, strict=True)
        ),
    )
    copy_rows(
        cur,
        "persons",
        ["id", "client_id", "name", "is_enabled", "token_version", "created_at"],
        (
            (p, c, f"{prefix} person {p}", True, 0, clock.tick())
            for p, c in zip(person_ids, client_ids, strict=True)
        ),
    )
    return [Party(c, p, m) for c, p, m in zip(client_ids, person_ids, managers, strict=True)]


@dataclass(frozen=True)
class OpenedAppeal:
    dialog_id: int
    appeal_id: int
    party: Party


def add_dialogs_with_open_appeals(
    cur: psycopg2.extensions.cursor,
    parties: Sequence[Party],
    *,
    kind: str,
    status: str,
    assignees: Sequence[int | None] | None = None,
    clock: Clock,
) -> list[OpenedAppeal]:
    """Each party's person opened a dialog of `kind` and wrote once, opening an appeal, which
    routing then left `queued` (general: no eligible operator; PM: waiting for the manager, who
    is not active) or `assigned` (general: routed; PM: to the active manager) — SPEC 4, 5."""
    n = len(parties)
    dialog_ids = reserve_ids(cur, "dialogs", n)
    appeal_ids = reserve_ids(cur, "appeals", n)
    message_ids = reserve_ids(cur, "messages", n)
    holders: Sequence[int | None] = assignees if assignees is not None else [None] * n
    dialogs: list[tuple[Any, ...]] = []
    appeals: list[tuple[Any, ...]] = []
    history: list[tuple[Any, ...]] = []
    messages: list[tuple[Any, ...]] = []
    marks: list[tuple[Any, ...]] = []
    for party, d, a, m, holder in zip(
        parties, dialog_ids, appeal_ids, message_ids, holders, strict=True
    ):
        opened = clock.tick()
        routed = clock.tick()
        actor = ("person", party.person_id)
        history.append((a, opened, "opened", None, None, *actor))
        if status == "queued":
            if kind == "general":
                reason, waiting = "no_eligible_operator", None
            else:
                reason, waiting = "waiting_for_personal_manager", party.manager_id
            appeals.append(
                (
                    a,
                    d,
                    party.client_id,
                    kind,
                    "queued",
                    None,
                    waiting,
                    None,
                    reason,
                    opened,
                    routed,
                    None,
                )
            )
            history.append((a, routed, "queued", reason, waiting, *actor))
        else:
            assert holder is not None
            reason = "routed" if kind == "general" else "personal_manager_active"
            appeals.append(
                (
                    a,
                    d,
                    party.client_id,
                    kind,
                    "assigned",
                    holder,
                    None,
                    holder,
                    reason,
                    opened,
                    opened,
                    routed,
                )
            )
            history.append((a, routed, "assigned", reason, holder, *actor))
        messages.append((m, d, a, "person", party.person_id, f"question {d}", routed))
        responsible = party.manager_id if kind == "personal_manager" else None
        dialogs.append(
            (d, party.person_id, party.client_id, kind, responsible, opened, m, routed, routed)
        )
        marks.append((d, "person", party.person_id, m))
    copy_rows(
        cur,
        "dialogs",
        [
            "id",
            "person_id",
            "client_id",
            "kind",
            "responsible_id",
            "created_at",
            "last_message_id",
            "last_message_at",
            "last_activity_at",
        ],
        dialogs,
    )
    copy_rows(
        cur,
        "appeals",
        [
            "id",
            "dialog_id",
            "client_id",
            "kind",
            "status",
            "assignee_id",
            "waiting_for_id",
            "last_assignee_id",
            "reason",
            "opened_at",
            "queued_at",
            "assigned_at",
        ],
        appeals,
    )
    copy_rows(
        cur,
        "appeal_history",
        ["appeal_id", "at", "event", "reason", "employee_id", "actor_type", "actor_id"],
        history,
    )
    copy_rows(
        cur,
        "messages",
        ["id", "dialog_id", "appeal_id", "author_type", "author_person_id", "text", "created_at"],
        messages,
    )
    copy_rows(
        cur,
        "read_marks",
        ["dialog_id", "reader_type", "reader_id", "last_read_message_id"],
        marks,
    )
    return [OpenedAppeal(d, a, p) for d, a, p in zip(dialog_ids, appeal_ids, parties, strict=True)]


def add_dialogs(
    cur: psycopg2.extensions.cursor, parties: Sequence[Party], *, kind: str, clock: Clock
) -> list[int]:
    """Empty dialogs (created on first use, no message yet)."""
    ids = reserve_ids(cur, "dialogs", len(parties))
    copy_rows(
        cur,
        "dialogs",
        [
            "id",
            "person_id",
            "client_id",
            "kind",
            "responsible_id",
            "created_at",
            "last_activity_at",
        ],
        (
            (
                d,
                p.person_id,
                p.client_id,
                kind,
                p.manager_id if kind == "personal_manager" else None,
                clock.tick(),
                clock.at,
            )
            for d, p in zip(ids, parties, strict=True)
        ),
    )
    return ids
