"""Large data sets for the scale tests, written straight into the test's database in bulk.

Thousands of rows through the HTTP API would take minutes; a handful of multi-row Core inserts
take a second. Only rows the API itself would have written are made, ids come from the database
(so later API calls get fresh ones), and no event is written: the pages are opened afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, bindparam, create_engine, insert, update

from switchboard.db.engine import sync_url
from switchboard.db.models import metadata
from switchboard.kit.clock import utcnow
from switchboard.kit.text import fold

CLIENTS: Table = metadata.tables["clients"]
PERSONS: Table = metadata.tables["persons"]
DIALOGS: Table = metadata.tables["dialogs"]
APPEALS: Table = metadata.tables["appeals"]
MESSAGES: Table = metadata.tables["messages"]


@contextmanager
def connect(database_url: str) -> Iterator[Connection]:
    url = sync_url(database_url).replace("+asyncpg", "+psycopg2")
    engine = create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def _insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    result = conn.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
    return [row.id for row in result]


@dataclass
class Portfolio:
    client_names: list[str]  # oldest activity first
    person_ids: list[int]
    dialog_ids: list[int]


def portfolio(database_url: str, manager_id: int, count: int) -> Portfolio:
    """`count` clients of one manager, each with a person and a PM dialog holding one message
    from the person in a closed appeal; dialog n (from 1) has the n-th oldest activity."""
    now = utcnow()
    start = now - timedelta(seconds=count + 60)
    names = [f"Клиент {n:04d}" for n in range(1, count + 1)]
    at = [start + timedelta(seconds=n) for n in range(1, count + 1)]
    with connect(database_url) as conn:
        client_ids = _insert(
            conn,
            CLIENTS,
            [
                {
                    "kind": "individual" if n % 3 else "legal_entity",
                    "name": name,
                    "name_folded": fold(name),
                    "personal_manager_id": manager_id,
                    "created_at": start,
                }
                for n, name in enumerate(names, 1)
            ],
        )
        person_ids = _insert(
            conn,
            PERSONS,
            [
                {"client_id": client_id, "name": f"Представитель {n:04d}", "created_at": start}
                for n, client_id in enumerate(client_ids, 1)
            ],
        )
        dialog_ids = _insert(
            conn,
            DIALOGS,
            [
                {
                    "person_id": person_id,
                    "client_id": client_id,
                    "kind": "personal_manager",
                    "responsible_id": manager_id,
                    "created_at": start,
                    "last_activity_at": when,
                }
                for person_id, client_id, when in zip(person_ids, client_ids, at, strict=True)
            ],
        )
        appeal_ids = _insert(
            conn,
            APPEALS,
            [
                {
                    "dialog_id": dialog_id,
                    "client_id": client_id,
                    "kind": "personal_manager",
                    "status": "closed",
                    "assignee_id": manager_id,
                    "last_assignee_id": manager_id,
                    "reason": "closed_by_employee",
                    "opened_at": when,
                    "assigned_at": when,
                    "closed_at": when,
                }
                for dialog_id, client_id, when in zip(dialog_ids, client_ids, at, strict=True)
            ],
        )
        message_ids = _insert(
            conn,
            MESSAGES,
            [
                {
                    "dialog_id": dialog_id,
                    "appeal_id": appeal_id,
                    "author_type": "person",
                    "author_person_id": person_id,
                    "text": f"Вопрос {n:04d}",
                    "created_at": when,
                }
                for n, (dialog_id, appeal_id, person_id, when) in enumerate(
                    zip(dialog_ids, appeal_ids, person_ids, at, strict=True), 1
                )
            ],
        )
        _set_last_messages(conn, list(zip(dialog_ids, message_ids, at, strict=True)))
    return Portfolio(names, person_ids, dialog_ids)


def history(
    database_url: str,
    *,
    dialog_id: int,
    appeal_id: int,
    person_id: int,
    employee_id: int,
    first_message_id: int,
    total: int,
) -> list[int]:
    """Grows a dialog whose first message exists to `total` messages, «Сообщение 0002» and on,
    the person and the employee taking turns a second apart. Returns every id, oldest first."""
    start = utcnow() - timedelta(seconds=total + 60)
    rows: list[dict[str, Any]] = []
    for n in range(2, total + 1):
        by_person = n % 2 == 1
        rows.append(
            {
                "dialog_id": dialog_id,
                "appeal_id": appeal_id,
                "author_type": "person" if by_person else "employee",
                "author_person_id": person_id if by_person else None,
                "author_employee_id": None if by_person else employee_id,
                "text": f"Сообщение {n:04d}",
                "created_at": start + timedelta(seconds=n),
            }
        )
    with connect(database_url) as conn:
        conn.execute(
            update(MESSAGES)
            .where(MESSAGES.c.id == first_message_id)
            .values(created_at=start + timedelta(seconds=1))
        )
        ids = _insert(conn, MESSAGES, rows)
        last_at: datetime = rows[-1]["created_at"]
        _set_last_messages(conn, [(dialog_id, ids[-1], last_at)])
    return [first_message_id, *ids]


def _set_last_messages(conn: Connection, rows: list[tuple[int, int, datetime]]) -> None:
    conn.execute(
        update(DIALOGS)
        .where(DIALOGS.c.id == bindparam("dialog"))
        .values(
            last_message_id=bindparam("message"),
            last_message_at=bindparam("at"),
            last_activity_at=bindparam("at"),
        ),
        [{"dialog": d, "message": m, "at": at} for d, m, at in rows],
    )
