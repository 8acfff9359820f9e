"""The busiest request, a message into a dialog whose appeal is open, on PostgreSQL.

What `service.post_message_txn` does for that case, in four round trips on the driver's own
connection: BEGIN; one statement that checks the token's subject, reads the dialog with its
open appeal locked (the same lock the general path takes) and reserves the message id; one
statement that stores the message, moves the dialog and the author's read mark, and appends the
`message.created` event with its recipients under the event-append lock; COMMIT.

It only ever takes the plain road. Anything else — SQLite, no open appeal (routing), a token
or a dialog the caller may not use (the general path words the error), a `client_message_id`
seen before (the general path answers with the stored message) — gives up before anything is
written and the general path, which is the reference, handles the request.

`MessageLane` runs it in front of the framework's routing and dependency resolution, which would
otherwise cost more than the fast path itself (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import structlog
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.auth.tokens import TokenClaims, TokenSigner
from switchboard.db.session import EVENT_APPEND_LOCK, Database, PendingEvent
from switchboard.dialogs.schemas import MessageAuthor, MessageIn, MessageOut
from switchboard.kit.clock import utcnow
from switchboard.kit.errors import Unavailable, problem

log = structlog.get_logger(__name__)

# The dialog, its client's manager, its open appeal (locked, as `dialog_access_txn` locks it),
# its invitees and a fresh message id. $1 dialog, $2 subject, $3 token version.
_DIALOG = """
SELECT a.id AS appeal_id, a.status, a.assignee_id, d.person_id, d.kind,
       c.personal_manager_id,
       ARRAY(SELECT p.employee_id FROM dialog_participants p WHERE p.dialog_id = d.id)
           AS participants,
       nextval(pg_get_serial_sequence('messages', 'id')) AS message_id,
       {author}
FROM appeals a
JOIN dialogs d ON d.id = a.dialog_id
JOIN clients c ON c.id = d.client_id
WHERE a.dialog_id = $1 AND a.status <> 'closed'
FOR UPDATE OF a
"""
_PERSON_AUTHOR = """(SELECT s.name FROM persons s
            WHERE s.id = $2 AND s.is_enabled AND s.token_version = $3) AS author_name,
       NULL AS permissions"""
_EMPLOYEE_AUTHOR = """(SELECT s.full_name FROM employees s
            WHERE s.id = $2 AND s.is_enabled AND s.token_version = $3) AS author_name,
       (SELECT s.permissions FROM employees s WHERE s.id = $2) AS permissions"""
DIALOG_BY_PERSON = _DIALOG.format(author=_PERSON_AUTHOR)
DIALOG_BY_EMPLOYEE = _DIALOG.format(author=_EMPLOYEE_AUTHOR)

# Message, dialog, read mark, event and its recipients. The event id is drawn only once the
# append lock is held, so ids become visible in commit order (docs/realtime.md).
STORE = f"""
WITH m AS (
    INSERT INTO messages (id, dialog_id, appeal_id, author_type, author_person_id,
                          author_employee_id, text, client_message_id, created_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
    ON CONFLICT DO NOTHING
    RETURNING id
), d AS (
    UPDATE dialogs SET last_message_id = m.id, last_message_at = $9, last_activity_at = $9
    FROM m WHERE dialogs.id = $2
), r AS (
    INSERT INTO read_marks (dialog_id, reader_type, reader_id, last_read_message_id)
    SELECT $2, $10, $11, m.id FROM m
    ON CONFLICT (dialog_id, reader_type, reader_id) DO UPDATE
    SET last_read_message_id = GREATEST(read_marks.last_read_message_id,
                                        EXCLUDED.last_read_message_id)
), lock AS (
    SELECT pg_advisory_xact_lock({EVENT_APPEND_LOCK}) AS held FROM m
), e AS (
    INSERT INTO events (type, data, dialog_id, supervisors, all_employees, created_at)
    SELECT 'message.created', $12::json, $2, true, false, $9 FROM lock
    RETURNING id
), rc AS (
    INSERT INTO event_recipients (event_id, reader_type, reader_id)
    SELECT e.id, u.reader_type, u.reader_id
    FROM e, unnest($13::varchar[], $14::int[]) AS u(reader_type, reader_id)
)
SELECT id FROM e
"""


def _decoded(value: Any) -> list[str]:
    # SQLAlchemy registers a json codec on its asyncpg connections; a bare one answers text.
    return list(json.loads(value) if isinstance(value, str) else value or [])


@dataclass(frozen=True)
class Stored:
    message: MessageOut
    body: bytes  # the message in its wire shape, as the response and the event carry it
    event_id: int
    event: PendingEvent


async def post_message(
    db: Database, claims: TokenClaims, dialog_id: int, text: str, client_message_id: str | None
) -> Stored | None:
    """Store the message if this is the plain case; None when the general path must decide."""
    if db.is_sqlite:
        return None
    conn = db.engine.connect()
    try:
        await conn.start()
    except (SQLAlchemyError, OSError):
        return None  # no connection: the general path answers (a 503 if the database is away)
    try:
        stored = await _post_on(conn, claims, dialog_id, text, client_message_id)
    finally:
        await asyncio.shield(conn.close())
    if stored is None:
        return None
    db.announce([(stored.event_id, stored.event)])
    return stored


async def _post_on(
    conn: AsyncConnection,
    claims: TokenClaims,
    dialog_id: int,
    text: str,
    client_message_id: str | None,
) -> Stored | None:
    try:
        raw: Any = (await conn.get_raw_connection()).driver_connection
        transaction = raw.transaction()
        await transaction.start()
    except (SQLAlchemyError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        # A pooled connection the database dropped: the general path answers.
        await conn.invalidate()
        return None
    try:
        stored = await _post_txn(raw, claims, dialog_id, text, client_message_id)
        if stored is None:
            await transaction.rollback()
            return None
    except asyncpg.PostgresError as exc:
        # Nothing was committed: the general path answers.
        log.warning("hotpath.stepped_aside", error=str(exc)[:300])
        try:
            await transaction.rollback()
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            await conn.invalidate()  # the error was the server going away
        return None
    except (asyncpg.InterfaceError, OSError):
        # The connection is gone; the general path answers (a 503 if the database is away).
        await conn.invalidate()
        return None
    try:
        await transaction.commit()
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        await conn.invalidate()
        raise Unavailable(
            "database_unavailable", "the database is unreachable; try again shortly"
        ) from exc
    return stored


async def _post_txn(
    raw: Any, claims: TokenClaims, dialog_id: int, text: str, client_message_id: str | None
) -> Stored | None:
    is_person = claims.subject_type == "person"
    row = await raw.fetchrow(
        DIALOG_BY_PERSON if is_person else DIALOG_BY_EMPLOYEE,
        dialog_id,
        claims.subject_id,
        claims.version,
    )
    if row is None or row["author_name"] is None:
        return None
    participants = set(row["participants"])
    manager = row["personal_manager_id"] if row["kind"] == "personal_manager" else None
    holder = row["assignee_id"] if row["status"] == "assigned" else None
    if is_person:
        allowed = row["person_id"] == claims.subject_id
    else:
        me = claims.subject_id
        allowed = (
            me in (manager, holder)
            or me in participants
            or "supervise" in _decoded(row["permissions"])
        )
    if not allowed:
        return None
    # Who may see the dialog now (DialogAccess.audience), supervisors besides.
    employees = set(participants)
    if manager is not None:
        employees.add(manager)
    if row["assignee_id"] is not None:
        employees.add(row["assignee_id"])
    now = utcnow()
    message = MessageOut(
        id=row["message_id"],
        dialog_id=dialog_id,
        appeal_id=row["appeal_id"],
        author=MessageAuthor(
            type="person" if is_person else "employee",
            id=claims.subject_id,
            name=row["author_name"],
        ),
        text=text,
        client_message_id=client_message_id,
        created_at=now,
    )
    body = message.__pydantic_serializer__.to_json(message)
    recipients = sorted(employees)
    event_id = await raw.fetchval(
        STORE,
        message.id,
        dialog_id,
        message.appeal_id,
        message.author.type,
        claims.subject_id if is_person else None,
        None if is_person else claims.subject_id,
        text,
        client_message_id,
        now,
        message.author.type,
        claims.subject_id,
        body.decode(),
        ["e"] * len(recipients) + ["p"],
        [*recipients, row["person_id"]],
    )
    if event_id is None:  # the client_message_id was used before
        return None
    event = PendingEvent(
        type="message.created",
        data=message.model_dump(mode="json"),
        dialog_id=dialog_id,
        employee_ids=employees,
        person_ids={row["person_id"]},
    )
    return Stored(message, body, int(event_id), event)


class MessageLane:
    """`POST /api/v1/dialogs/{id}/messages` in front of the framework's routing and
    dependencies, which cost more than the fast path itself. Innermost of the application's
    middleware, so request ids, logs, metrics, body limits and security headers apply as for any
    request. Whatever the fast path does not take — bad JSON, another content type, no or a bad
    token, the cases `post_message` gives up on — goes on to the API with its body replayed, and
    the endpoint answers it."""

    PATH = re.compile(r"/api/v1/dialogs/([1-9][0-9]{0,8})/messages")
    ROUTE = SimpleNamespace(path="/api/v1/dialogs/{dialog_id}/messages")  # for logs and metrics

    def __init__(self, app: ASGIApp, state: Any) -> None:
        self.app = app
        self.state = state  # the application's: its database and token signer, once started

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = self.PATH.fullmatch(scope["path"]) if scope["type"] == "http" else None
        if match is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        try:
            while True:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request" or not message.get("more_body"):
                    break
        except HTTPException as exc:  # over the body limit: the API words the answer
            await self.app(scope, _failing(exc), send)
            return
        try:
            stored = await self._try(scope, int(match.group(1)), messages)
        except Unavailable as exc:
            answer = problem(exc.status, exc.code, exc.detail, headers={"Retry-After": "2"})
            await answer(scope, _replay([], receive), send)
            return
        if stored is None:
            await self.app(scope, _replay(messages, receive), send)
            return
        scope["route"] = self.ROUTE
        await send(
            {
                "type": "http.response.start",
                "status": 201,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(stored.body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": stored.body})

    async def _try(self, scope: Scope, dialog_id: int, messages: list[Message]) -> Stored | None:
        headers = dict(scope["headers"])
        if not headers.get(b"content-type", b"").startswith(b"application/json"):
            return None
        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        signer: TokenSigner = self.state.signer
        claims = signer.verify(token.strip()) if scheme.lower() == "bearer" else None
        if claims is None:
            return None
        try:
            body = MessageIn.model_validate_json(b"".join(m.get("body", b"") for m in messages))
        except ValidationError:
            return None
        return await post_message(
            self.state.db, claims, dialog_id, body.text, body.client_message_id
        )


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


def _failing(exc: HTTPException) -> Receive:
    async def failing() -> Message:
        raise exc

    return failing
