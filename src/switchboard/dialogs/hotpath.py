"""The busiest request, a message into a dialog whose appeal is open, on PostgreSQL.

What `service.post_message_txn` does for that case, in one statement — one round trip, its own
transaction — on the driver's own connection: it checks the token's subject, reads the dialog
with its open appeal locked (the same lock the general path takes) and who may see it, and
stores the message, moves the dialog and the author's read mark, and appends the
`message.created` event with its recipients under the event-append lock.

It only ever takes the plain road. Anything else — SQLite, no open appeal (routing), a token
or a dialog the caller may not use (the general path words the error), a `client_message_id`
seen before (the general path answers with the stored message) — gives up before anything is
written and the general path, which is the reference, handles the request.

`MessageLane` runs it in front of the framework's routing and dependency resolution, which would
otherwise cost more than the fast path itself (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import re
import weakref
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import structlog
from pydantic import TypeAdapter, ValidationError
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

# One statement, so one round trip and its own transaction: the author (if the token is still
# good), the dialog with its open appeal locked (the lock the general path takes), who may see
# it and whether the author may post; then the message, the dialog's last activity, the author's
# read mark, and the `message.created` event with its recipients, its id drawn only once the
# event-append lock is held, so ids become visible in commit order (docs/realtime.md). The lock
# is released by the statement's own commit, never held while this process does other work.
# Nothing is written when any step finds nothing: the general path then answers.
#  $1 dialog, $2 subject, $3 token version, $4 author type ('person' | 'employee'),
#  $5 author person, $6 author employee, $7 text, $8 client_message_id, $9 created_at,
#  $10 read-mark reader type, $11 created_at as the API writes it
_POST = """
WITH s AS (
    {author}
), a AS (
    SELECT a.id AS appeal_id, a.status, a.assignee_id, d.person_id,
           CASE WHEN d.kind = 'personal_manager' THEN c.personal_manager_id END AS manager_id,
           ARRAY(SELECT p.employee_id FROM dialog_participants p WHERE p.dialog_id = d.id)
               AS participants
    FROM appeals a
    JOIN dialogs d ON d.id = a.dialog_id
    JOIN clients c ON c.id = d.client_id
    WHERE a.dialog_id = $1 AND a.status <> 'closed'
    FOR UPDATE OF a
), ok AS (
    SELECT a.appeal_id, a.person_id, s.author_name,
           ARRAY(SELECT DISTINCT x FROM unnest(a.participants || a.manager_id || a.assignee_id) x
                 WHERE x IS NOT NULL ORDER BY x) AS employees,
           nextval(pg_get_serial_sequence('messages', 'id')) AS message_id
    FROM a, s
    WHERE {allowed}
), m AS (
    INSERT INTO messages (id, dialog_id, appeal_id, author_type, author_person_id,
                          author_employee_id, text, client_message_id, created_at)
    SELECT ok.message_id, $1, ok.appeal_id, $4, $5, $6, $7, $8, $9 FROM ok
    ON CONFLICT DO NOTHING
    RETURNING id
), d AS (
    UPDATE dialogs SET last_message_id = m.id, last_message_at = $9, last_activity_at = $9
    FROM m WHERE dialogs.id = $1
    RETURNING dialogs.id
), r AS (
    INSERT INTO read_marks (dialog_id, reader_type, reader_id, last_read_message_id)
    SELECT $1, $10, $2, m.id FROM m
    ON CONFLICT (dialog_id, reader_type, reader_id) DO UPDATE
    SET last_read_message_id = GREATEST(read_marks.last_read_message_id,
                                        EXCLUDED.last_read_message_id)
    RETURNING 1
), lock AS (
    -- Only once every row this statement writes is locked (the dialog, the read mark): a
    -- transaction holding the append lock must never wait for a row, or it deadlocks with one
    -- that holds the row and waits for the lock at its commit.
    SELECT pg_advisory_xact_lock({lock}) AS held
    FROM m WHERE (SELECT count(*) FROM d) + (SELECT count(*) FROM r) >= 0
), e AS (
    INSERT INTO events (type, data, dialog_id, supervisors, all_employees, created_at)
    SELECT 'message.created',
           json_build_object(
               'id', ok.message_id, 'dialog_id', $1::integer, 'appeal_id', ok.appeal_id,
               'author', json_build_object('type', $4::text, 'id', $2::integer,
                                           'name', ok.author_name),
               'text', $7::text, 'client_message_id', $8::text, 'created_at', $11::text),
           $1, true, false, $9
    FROM lock, ok
    RETURNING id
), rc AS (
    INSERT INTO event_recipients (event_id, reader_type, reader_id)
    SELECT e.id, 'e', x FROM e, ok, unnest(ok.employees) x
    UNION ALL
    SELECT e.id, 'p', ok.person_id FROM e, ok
)
SELECT e.id AS event_id, ok.message_id, ok.appeal_id, ok.author_name, ok.employees,
       ok.person_id
FROM e, ok
"""
POST_BY_PERSON = _POST.format(
    author="""SELECT s.name AS author_name FROM persons s
    WHERE s.id = $2 AND s.is_enabled AND s.token_version = $3""",
    allowed="a.person_id = $2",
    lock=EVENT_APPEND_LOCK,
)
POST_BY_EMPLOYEE = _POST.format(
    author="""SELECT s.full_name AS author_name, s.permissions::jsonb ? 'supervise' AS supervises
    FROM employees s WHERE s.id = $2 AND s.is_enabled AND s.token_version = $3""",
    # SPEC 7.3: the responsible manager, the holder of the open appeal, an invitee, `supervise`
    allowed="""($2 = a.manager_id OR (a.status = 'assigned' AND $2 = a.assignee_id)
           OR $2 = ANY(a.participants) OR s.supervises)""",
    lock=EVENT_APPEND_LOCK,
)
_API_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)


@dataclass(frozen=True)
class Stored:
    message: MessageOut
    body: bytes  # the message in its wire shape, as the response and the event carry it
    event_id: int
    event: PendingEvent


# How many fast-path statements one process runs against PostgreSQL at once. Each commits
# under the event-append lock; beyond a few at a time they only queue for it inside PostgreSQL,
# where every hand-over is a wake-up of a waiting backend, and the throughput falls as the
# queue grows (docs/performance.md). Waiting here costs nothing and keeps the order.
CONCURRENT_STATEMENTS = 8
_slots: weakref.WeakKeyDictionary[Database, asyncio.Semaphore] = weakref.WeakKeyDictionary()


async def post_message(
    db: Database, claims: TokenClaims, dialog_id: int, text: str, client_message_id: str | None
) -> Stored | None:
    """Store the message if this is the plain case; None when the general path must decide."""
    if db.is_sqlite:
        return None
    slots = _slots.get(db)
    if slots is None:
        slots = _slots[db] = asyncio.Semaphore(CONCURRENT_STATEMENTS)
    async with slots:
        return await _post_message(db, claims, dialog_id, text, client_message_id)


async def _post_message(
    db: Database, claims: TokenClaims, dialog_id: int, text: str, client_message_id: str | None
) -> Stored | None:
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
        gone = raw.is_closed()
    except (SQLAlchemyError, asyncpg.InterfaceError, OSError):
        gone = True
    if gone:
        # A pooled connection the database dropped: nothing was sent, the general path answers.
        await conn.invalidate()
        return None
    try:
        return await _post_txn(raw, claims, dialog_id, text, client_message_id)
    except asyncpg.PostgresError as exc:
        # The statement failed, so its transaction wrote nothing: the general path answers.
        log.warning("hotpath.stepped_aside", error=str(exc)[:300])
        return None
    except (asyncpg.InterfaceError, OSError) as exc:
        # Lost while the statement was on its way: it may or may not have committed, so the
        # answer is "try again" (a retry with the same client_message_id is stored once).
        await conn.invalidate()
        raise Unavailable(
            "database_unavailable", "the database is unreachable; try again shortly"
        ) from exc


async def _post_txn(
    raw: Any, claims: TokenClaims, dialog_id: int, text: str, client_message_id: str | None
) -> Stored | None:
    is_person = claims.subject_type == "person"
    author_type = "person" if is_person else "employee"
    now = utcnow()
    row = await raw.fetchrow(
        POST_BY_PERSON if is_person else POST_BY_EMPLOYEE,
        dialog_id,
        claims.subject_id,
        claims.version,
        author_type,
        claims.subject_id if is_person else None,
        None if is_person else claims.subject_id,
        text,
        client_message_id,
        now,
        author_type,
        _API_DATETIME.dump_python(now, mode="json"),
    )
    if row is None:  # not the plain case, or the client_message_id was used before
        return None
    message = MessageOut(
        id=row["message_id"],
        dialog_id=dialog_id,
        appeal_id=row["appeal_id"],
        author=MessageAuthor(type=author_type, id=claims.subject_id, name=row["author_name"]),
        text=text,
        client_message_id=client_message_id,
        created_at=now,
    )
    event = PendingEvent(
        type="message.created",
        data=message.model_dump(mode="json"),
        dialog_id=dialog_id,
        employee_ids=set(row["employees"]),
        person_ids={row["person_id"]},
    )
    body = message.__pydantic_serializer__.to_json(message)
    return Stored(message, body, int(row["event_id"]), event)


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
