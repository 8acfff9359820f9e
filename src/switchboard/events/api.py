"""GET /api/v1/events and the WebSocket /api/v1/ws (API.md "Real time")."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import structlog
from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from pydantic import BaseModel

from switchboard.auth.principals import Principal, PrincipalDep, UowDep, resolve_token
from switchboard.db.session import Database
from switchboard.events.feed import Reader, events_for_txn, last_event_id_txn
from switchboard.events.hub import EventHub, Subscriber
from switchboard.kit.api import AUTHED, DEFAULT_PAGE, Limit, problems
from switchboard.kit.errors import DomainError
from switchboard.people import presence

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/api/v1")

CATCH_UP_PAGE = 500
AUTH_TIMEOUT_SECONDS = 10.0
REVALIDATE_SECONDS = 15.0
# WebSocket close codes: 4401 the token is invalid or ended; 4409 too slow, reconnect with after=;
# 1012 the server restarts, reconnect with after=.
CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_SLOW = 4409


class EventOut(BaseModel):
    id: int
    type: str
    data: dict[str, Any]


class EventPage(BaseModel):
    items: list[EventOut]
    next_cursor: str | None


@router.get("/events", response_model=EventPage, responses=problems(*AUTHED))
async def list_events(
    uow: UowDep,
    principal: PrincipalDep,
    after: int = Query(default=0, ge=0),
    limit: Limit = DEFAULT_PAGE,
) -> EventPage:
    """The caller's events with id > after, oldest first; `next_cursor` is the `after` to use
    next (null once caught up)."""
    items = await events_for_txn(uow, Reader.of(principal), after, limit + 1)
    page = items[:limit]
    more = len(items) > limit
    return EventPage(
        items=[EventOut(**e) for e in page],
        next_cursor=str(page[-1]["id"]) if more and page else None,
    )


async def _authenticate(websocket: WebSocket, token: str | None) -> tuple[Principal, int | None]:
    """The token from ?token=, else from a first message {"type": "auth", "token": ...}."""
    after: int | None = None
    if token is None:
        raw = await asyncio.wait_for(websocket.receive_text(), timeout=AUTH_TIMEOUT_SECONDS)
        message = json.loads(raw)
        if not isinstance(message, dict) or not isinstance(message.get("token"), str):
            raise ValueError('the first message must be {"type": "auth", "token": ...}')
        token = message["token"]
        if isinstance(message.get("after"), int):
            after = message["after"]
    db: Database = websocket.app.state.db
    async with db.uow() as uow:
        principal = await resolve_token(uow, websocket.app.state.signer, token)
        uow.session.expunge_all()
    return principal, after


@router.websocket("/ws")
async def events_socket(
    websocket: WebSocket, token: str | None = None, after: int | None = None
) -> None:
    if token is not None:
        # Authenticate, subscribe and fix the starting point before accepting: whatever the
        # client does once connected comes after it.
        try:
            principal, _ = await _authenticate(websocket, token)
        except DomainError as exc:
            await websocket.accept()
            await _close(websocket, CLOSE_UNAUTHORIZED, exc.code)
            return
        async with _subscription(websocket, principal, after) as (subscriber, cursor):
            await websocket.accept()
            await _serve(websocket, principal, subscriber, cursor)
        return
    await websocket.accept()
    try:
        principal, first_after = await _authenticate(websocket, None)
    except DomainError as exc:
        await _close(websocket, CLOSE_UNAUTHORIZED, exc.code)
        return
    except (TimeoutError, ValueError, WebSocketDisconnect) as exc:
        await _close(websocket, CLOSE_UNAUTHORIZED, str(exc)[:100] or "unauthorized")
        return
    async with _subscription(websocket, principal, after if after is not None else first_after) as (
        subscriber,
        cursor,
    ):
        await _serve(websocket, principal, subscriber, cursor)


@contextlib.asynccontextmanager
async def _subscription(
    websocket: WebSocket, principal: Principal, after: int | None
) -> AsyncIterator[tuple[Subscriber, int]]:
    """Subscribe to the hub, then read the starting point: nothing falls in between."""
    app = websocket.app
    hub: EventHub = app.state.hub
    db: Database = app.state.db
    subscriber = hub.subscribe(Reader.of(principal))
    connection_id = uuid.uuid4().hex
    employee_id = principal.employee.id if principal.employee is not None else None
    try:
        if after is None:
            async with db.uow() as uow:
                after = await last_event_id_txn(uow)
        if employee_id is not None:
            await presence.connected(db, connection_id, employee_id, app.state.process_id)
        yield subscriber, after
    finally:
        hub.unsubscribe(subscriber)
        if employee_id is not None:
            with contextlib.suppress(Exception):
                await presence.disconnected(db, connection_id, employee_id)


async def _serve(
    websocket: WebSocket, principal: Principal, subscriber: Subscriber, after: int
) -> None:
    db: Database = websocket.app.state.db
    try:
        cursor = await _catch_up(websocket, db, Reader.of(principal), after)
        await _stream(websocket, subscriber, cursor, principal)
    except WebSocketDisconnect:
        pass


async def _catch_up(websocket: WebSocket, db: Database, reader: Reader, cursor: int) -> int:
    """Replay from the database everything after `cursor` the reader may see."""
    while True:
        async with db.uow() as uow:
            page = await events_for_txn(uow, reader, cursor, CATCH_UP_PAGE)
        for event in page:
            await websocket.send_json(event)
            cursor = event["id"]
        if len(page) < CATCH_UP_PAGE:
            return cursor


async def _stream(
    websocket: WebSocket, subscriber: Subscriber, cursor: int, principal: Principal
) -> None:
    """Live events in id order, skipping what the catch-up already sent; answers the client's
    {"type": "ping"}; ends when the client leaves, the token ends, or the reader falls behind."""
    receiver = asyncio.create_task(_receive(websocket))
    revalidator = asyncio.create_task(_revalidate(websocket, principal))
    overflow = asyncio.create_task(subscriber.overflowed.wait())
    try:
        while True:
            getter = asyncio.create_task(subscriber.queue.get())
            done, _ = await asyncio.wait(
                {getter, receiver, revalidator, overflow}, return_when=asyncio.FIRST_COMPLETED
            )
            if getter not in done:
                getter.cancel()
            if receiver in done or revalidator in done:
                return
            if overflow in done:
                await _close(websocket, CLOSE_TOO_SLOW, "too far behind: reconnect with after=")
                return
            # What queued up meanwhile goes out without a task and a wait per event.
            events = [getter.result()]
            while not subscriber.queue.empty():
                events.append(subscriber.queue.get_nowait())
            for event in events:
                if event.id > cursor:
                    await websocket.send_text(event.wire_text)
                    cursor = event.id
    finally:
        for task in (receiver, revalidator, overflow):
            task.cancel()


async def _receive(websocket: WebSocket) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text and '"ping"' in text:
            await websocket.send_json({"type": "pong"})


async def _revalidate(websocket: WebSocket, principal: Principal) -> None:
    """A disabled employee or person, or a changed password, ends the connection too."""
    db: Database = websocket.app.state.db
    from switchboard.people.models import Employee, Person

    while True:
        await asyncio.sleep(REVALIDATE_SECONDS)
        async with db.uow() as uow:
            if principal.employee is not None:
                row = await uow.session.get(Employee, principal.employee.id)
                valid = (
                    row is not None
                    and row.is_enabled
                    and row.token_version == principal.employee.token_version
                )
            else:
                assert principal.person is not None
                person = await uow.session.get(Person, principal.person.id)
                valid = (
                    person is not None
                    and person.is_enabled
                    and person.token_version == principal.person.token_version
                )
        if not valid:
            await _close(websocket, CLOSE_UNAUTHORIZED, "the token is no longer valid")
            return


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await websocket.close(code=code, reason=reason)
