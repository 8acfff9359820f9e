"""The busiest request, a message into a dialog whose appeal is open, on PostgreSQL.

What `service.post_message_txn` does for that case, in one statement — one round trip, its own
transaction — on the driver's own connection: it checks the token's subject, reads the dialog
with its open appeal locked (the same lock the general path takes) and who may see it, and
stores the message, moves the dialog and the author's read mark, and appends the
`message.created` event with its recipients under the event-append lock.

Messages that arrive while the process's statements are in flight go together in the next one
(a group commit): one statement and one commit for the group, each message acknowledged only
once that commit is done, as when it goes alone.

It only ever takes the plain road. Anything else — SQLite, no open appeal (routing), a token
or a dialog the caller may not use (the general path words the error), a `client_message_id`
seen before (the general path answers with the stored message) — gives up before anything is
written for that message, and the general path, which is the reference, handles the request.

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

# One statement, so one round trip and its own transaction, for a group of messages (arrays,
# one element per message): each author (if the token is still good), the dialogs with their
# open appeals locked in id order (the lock the general path takes; the same order in every
# group, so two groups never deadlock) and who may see them; then the messages, each dialog's
# last activity and each author's read mark (one row each, however many of the group's messages
# they have), and the `message.created` events with their recipients, ids drawn in the messages'
# order only once the event-append lock is held, so ids become visible in commit order
# (docs/realtime.md). The lock is released by the statement's own commit, never held while this
# process does other work. A message that finds nothing at any step is not written and not
# returned: the general path then answers it.
#  $1 dialogs, $2 subjects, $3 token versions, $4 author types ('person' | 'employee'),
#  $5 texts, $6 client_message_ids (arrays in POST_MANY, one value each in POST_ONE);
#  $7 created_at, $8 created_at as the API writes it
_POST = """
WITH inp AS (
    {messages}
), s AS (
    SELECT inp.n, p.name AS author_name, false AS supervises
    FROM inp JOIN persons p ON p.id = inp.subject
    WHERE inp.author_type = 'person' AND p.is_enabled AND p.token_version = inp.version
    UNION ALL
    SELECT inp.n, e.full_name, e.permissions::jsonb ? 'supervise'
    FROM inp JOIN employees e ON e.id = inp.subject
    WHERE inp.author_type = 'employee' AND e.is_enabled AND e.token_version = inp.version
), a AS (
    SELECT a.id AS appeal_id, a.dialog_id, a.status, a.assignee_id, d.person_id,
           CASE WHEN d.kind = 'personal_manager' THEN c.personal_manager_id END AS manager_id,
           ARRAY(SELECT p.employee_id FROM dialog_participants p WHERE p.dialog_id = d.id)
               AS participants
    FROM appeals a
    JOIN dialogs d ON d.id = a.dialog_id
    JOIN clients c ON c.id = d.client_id
    WHERE a.dialog_id {dialogs} AND a.status <> 'closed'
    ORDER BY a.id
    FOR UPDATE OF a
), ok AS (
    -- Ids drawn in the group's order (the sorted subquery feeds the outer projection).
    SELECT q.*, nextval(pg_get_serial_sequence('messages', 'id')) AS message_id
    FROM (
        SELECT inp.n, inp.dialog_id, inp.subject, inp.author_type, inp.text, inp.cmid,
               a.appeal_id, a.person_id, s.author_name,
               ARRAY(SELECT DISTINCT x
                     FROM unnest(a.participants || a.manager_id || a.assignee_id) x
                     WHERE x IS NOT NULL ORDER BY x) AS employees
        FROM inp
        JOIN a ON a.dialog_id = inp.dialog_id
        JOIN s ON s.n = inp.n
        -- A person posts into their own dialog; an employee as SPEC 7.3 says: the responsible
        -- manager, the holder of the open appeal, an invitee, or `supervise`.
        WHERE CASE WHEN inp.author_type = 'person' THEN a.person_id = inp.subject
                   ELSE inp.subject = a.manager_id
                        OR (a.status = 'assigned' AND inp.subject = a.assignee_id)
                        OR inp.subject = ANY(a.participants) OR s.supervises
              END
        ORDER BY inp.n
    ) q
), m AS (
    INSERT INTO messages (id, dialog_id, appeal_id, author_type, author_person_id,
                          author_employee_id, text, client_message_id, created_at)
    SELECT ok.message_id, ok.dialog_id, ok.appeal_id, ok.author_type,
           CASE WHEN ok.author_type = 'person' THEN ok.subject END,
           CASE WHEN ok.author_type = 'employee' THEN ok.subject END,
           ok.text, ok.cmid, $7
    FROM ok
    ON CONFLICT DO NOTHING
    RETURNING id
), w AS (
    SELECT ok.* FROM ok JOIN m ON m.id = ok.message_id
), d AS (
    UPDATE dialogs SET last_message_id = x.last_id, last_message_at = $7, last_activity_at = $7
    FROM (SELECT dialog_id, max(message_id) AS last_id FROM w GROUP BY dialog_id) x
    WHERE dialogs.id = x.dialog_id
    RETURNING dialogs.id
), r AS (
    INSERT INTO read_marks (dialog_id, reader_type, reader_id, last_read_message_id)
    SELECT dialog_id, author_type, subject, max(message_id) FROM w GROUP BY 1, 2, 3
    ON CONFLICT (dialog_id, reader_type, reader_id) DO UPDATE
    SET last_read_message_id = GREATEST(read_marks.last_read_message_id,
                                        EXCLUDED.last_read_message_id)
    RETURNING 1
), lock AS (
    -- Only once every row this statement writes is locked (the dialogs, the read marks): a
    -- transaction holding the append lock must never wait for a row, or it deadlocks with one
    -- that holds the row and waits for the lock at its commit.
    SELECT pg_advisory_xact_lock({lock}) AS held
    WHERE EXISTS (SELECT 1 FROM w) AND (SELECT count(*) FROM d) + (SELECT count(*) FROM r) >= 0
), e AS (
    INSERT INTO events (type, data, dialog_id, supervisors, all_employees, created_at)
    SELECT 'message.created',
           json_build_object(
               'id', w.message_id, 'dialog_id', w.dialog_id, 'appeal_id', w.appeal_id,
               'author', json_build_object('type', w.author_type, 'id', w.subject,
                                           'name', w.author_name),
               'text', w.text, 'client_message_id', w.cmid, 'created_at', $8::text),
           w.dialog_id, true, false, $7
    FROM lock, w
    ORDER BY w.message_id
    RETURNING id, (data->>'id')::bigint AS message_id
), rc AS (
    INSERT INTO event_recipients (event_id, reader_type, reader_id)
    SELECT e.id, 'e', x FROM e JOIN w ON w.message_id = e.message_id, unnest(w.employees) x
    UNION ALL
    SELECT e.id, 'p', w.person_id FROM e JOIN w ON w.message_id = e.message_id
)
SELECT w.n, e.id AS event_id, w.message_id, w.appeal_id, w.author_name, w.employees,
       w.person_id
FROM e JOIN w ON w.message_id = e.message_id
"""
POST_MANY = _POST.format(
    messages="""SELECT * FROM unnest($1::integer[], $2::integer[], $3::integer[], $4::text[],
                                     $5::text[], $6::text[])
        WITH ORDINALITY AS t(dialog_id, subject, version, author_type, text, cmid, n)""",
    dialogs="= ANY($1::integer[])",
    lock=EVENT_APPEND_LOCK,
)
# The same for one message, with plain parameters: PostgreSQL plans the array form afresh on
# every run (its estimate for one element beats the generic plan), ~0.75 ms of planning that a
# lone message would pay in full; this form settles on the generic plan after five runs.
POST_ONE = _POST.format(
    messages="""SELECT $1::integer AS dialog_id, $2::integer AS subject, $3::integer AS version,
           $4::text AS author_type, $5::text AS text, $6::text AS cmid, 1::bigint AS n""",
    dialogs="= $1::integer",
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
# queue grows (docs/performance.md). The messages that arrive meanwhile wait here and go
# together in the next statement, in their order.
CONCURRENT_STATEMENTS = 8
GROUP_SIZE = 64  # messages in one statement at most


@dataclass(frozen=True)
class _Message:
    claims: TokenClaims
    dialog_id: int
    text: str
    client_message_id: str | None

    @property
    def author_type(self) -> str:
        return "person" if self.claims.subject_type == "person" else "employee"


class _Groups:
    """One database's messages waiting for a statement, and its statements in flight."""

    def __init__(self) -> None:
        # No reference to the database: the groups are kept in a weak dictionary keyed by it.
        self.waiting: list[tuple[_Message, asyncio.Future[Stored | None]]] = []
        self.running = 0  # workers, each running one statement at a time
        self._tasks: set[asyncio.Task[None]] = set()

    async def post(self, db: Database, message: _Message) -> Stored | None:
        future: asyncio.Future[Stored | None] = asyncio.get_running_loop().create_future()
        self.waiting.append((message, future))
        if self.running < CONCURRENT_STATEMENTS:
            self.running += 1
            task = asyncio.create_task(self._drain(db))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        # A request that goes away does not take its message out of a statement on its way.
        return await asyncio.shield(future)

    async def _drain(self, db: Database) -> None:
        group: list[tuple[_Message, asyncio.Future[Stored | None]]] = []
        try:
            while self.waiting:
                group, self.waiting = self.waiting[:GROUP_SIZE], self.waiting[GROUP_SIZE:]
                try:
                    outcomes = await _post_group(db, [message for message, _ in group])
                except Exception as exc:
                    # Each request hears it, as it would have alone (a 503 if the database
                    # went away mid-statement); the general path is not tried, since the
                    # statement may have committed.
                    for _, future in group:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), outcome in zip(group, outcomes, strict=True):
                    if not future.done():
                        future.set_result(outcome)
        finally:
            self.running -= 1  # before anyone else runs: a message posted next starts a worker
            # Cancelled (the server is stopping): this worker's group is told to try again.
            for _, future in group:
                if not future.done():
                    future.set_exception(
                        Unavailable("service_unavailable", "the server is stopping; try again")
                    )


_groups: weakref.WeakKeyDictionary[Database, _Groups] = weakref.WeakKeyDictionary()


async def post_message(
    db: Database, claims: TokenClaims, dialog_id: int, text: str, client_message_id: str | None
) -> Stored | None:
    """Store the message if this is the plain case; None when the general path must decide."""
    if db.is_sqlite:
        return None
    groups = _groups.get(db)
    if groups is None:
        groups = _groups[db] = _Groups()
    return await groups.post(db, _Message(claims, dialog_id, text, client_message_id))


async def _post_group(db: Database, messages: list[_Message]) -> list[Stored | None]:
    conn = db.engine.connect()
    try:
        await conn.start()
    except (SQLAlchemyError, OSError):
        # No connection: the general path answers each (a 503 if the database is away).
        return [None] * len(messages)
    try:
        outcomes = await _post_on(conn, messages)
    finally:
        await asyncio.shield(conn.close())
    written = sorted((s for s in outcomes if s is not None), key=lambda s: s.event_id)
    if written:
        db.announce([(stored.event_id, stored.event) for stored in written])
    return outcomes


async def _post_on(conn: AsyncConnection, messages: list[_Message]) -> list[Stored | None]:
    try:
        raw: Any = (await conn.get_raw_connection()).driver_connection
        gone = raw.is_closed()
    except (SQLAlchemyError, asyncpg.InterfaceError, OSError):
        gone = True
    if gone:
        # A pooled connection the database dropped: nothing was sent, the general path answers.
        await conn.invalidate()
        return [None] * len(messages)
    try:
        return await _post_txn(raw, messages)
    except asyncpg.PostgresError as exc:
        # The statement failed, so its transaction wrote nothing: the general path answers.
        log.warning("hotpath.stepped_aside", messages=len(messages), error=str(exc)[:300])
        return [None] * len(messages)
    except (asyncpg.InterfaceError, OSError) as exc:
        # Lost while the statement was on its way: it may or may not have committed, so the
        # answer is "try again" (a retry with the same client_message_id is stored once).
        await conn.invalidate()
        raise Unavailable(
            "database_unavailable", "the database is unreachable; try again shortly"
        ) from exc


async def _post_txn(raw: Any, messages: list[_Message]) -> list[Stored | None]:
    now = utcnow()
    columns = (
        [m.dialog_id for m in messages],
        [m.claims.subject_id for m in messages],
        [m.claims.version for m in messages],
        [m.author_type for m in messages],
        [m.text for m in messages],
        [m.client_message_id for m in messages],
    )
    arguments = columns if len(messages) > 1 else tuple(column[0] for column in columns)
    rows = await raw.fetch(
        POST_MANY if len(messages) > 1 else POST_ONE,
        *arguments,
        now,
        _API_DATETIME.dump_python(now, mode="json"),
    )
    # Not returned: not the plain case, or its client_message_id was used before.
    by_position = {int(row["n"]): row for row in rows}
    return [
        _stored(message, by_position[n], now) if n in by_position else None
        for n, message in enumerate(messages, start=1)
    ]


def _stored(message: _Message, row: Any, now: datetime) -> Stored:
    out = MessageOut(
        id=row["message_id"],
        dialog_id=message.dialog_id,
        appeal_id=row["appeal_id"],
        author=MessageAuthor(
            type=message.author_type, id=message.claims.subject_id, name=row["author_name"]
        ),
        text=message.text,
        client_message_id=message.client_message_id,
        created_at=now,
    )
    event = PendingEvent(
        type="message.created",
        data=out.model_dump(mode="json"),
        dialog_id=message.dialog_id,
        employee_ids=set(row["employees"]),
        person_ids={row["person_id"]},
    )
    body = out.__pydantic_serializer__.to_json(out)
    return Stored(out, body, int(row["event_id"]), event)


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
