from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from switchboard.appeals import service
from switchboard.appeals.models import Appeal
from switchboard.appeals.schemas import (
    ActorOut,
    AppealHistoryItem,
    AppealOut,
    QueueClient,
    QueueItem,
    QueuePerson,
    TransferIn,
)
from switchboard.appeals.serialize import APPEAL_COLUMNS, appeal_out, appeal_out_txn, names_txn
from switchboard.auth.principals import PrincipalDep, UowDep
from switchboard.dialogs.models import Dialog
from switchboard.kit.api import AUTHED, DEFAULT_PAGE, Limit, problems
from switchboard.kit.clock import utcnow
from switchboard.kit.pagination import Page, cursor_int, decode_cursor, encode_cursor
from switchboard.kit.schemas import MAX_BIG_ID
from switchboard.people.models import Client, Person

router = APIRouter(prefix="/api/v1")


@router.get("/appeals/{appeal_id}", response_model=AppealOut, responses=problems(*AUTHED, 404))
async def get_appeal(appeal_id: int, uow: UowDep, principal: PrincipalDep) -> AppealOut:
    appeal, _ = await service.visible_appeal_txn(uow, principal, appeal_id)
    return await appeal_out_txn(uow, appeal)


@router.get(
    "/appeals/{appeal_id}/history",
    response_model=Page[AppealHistoryItem],
    responses=problems(*AUTHED, 404),
)
async def appeal_history(
    appeal_id: int,
    uow: UowDep,
    principal: PrincipalDep,
    limit: Limit = DEFAULT_PAGE,
    cursor: str | None = None,
) -> Page[AppealHistoryItem]:
    await service.visible_appeal_txn(uow, principal, appeal_id)
    after = cursor_int(decode_cursor(cursor), "id", maximum=MAX_BIG_ID) or 0
    events = [e for e in await service.history_txn(uow, appeal_id) if e.id > after]
    page = events[:limit]
    return Page(
        items=[
            AppealHistoryItem(
                at=e.at,
                event=e.event,
                reason=e.reason,
                employee_id=e.employee_id,
                actor=ActorOut(type=e.actor_type, id=e.actor_id),
            )
            for e in page
        ],
        next_cursor=encode_cursor({"id": page[-1].id}) if len(events) > limit else None,
    )


@router.post(
    "/appeals/{appeal_id}/close",
    response_model=AppealOut,
    responses=problems(*AUTHED, 403, 404, 409),
)
async def close_appeal(appeal_id: int, uow: UowDep, principal: PrincipalDep) -> AppealOut:
    appeal = await service.close_appeal_txn(uow, principal, appeal_id)
    out = await appeal_out_txn(uow, appeal)
    await uow.commit()
    return out


@router.post(
    "/appeals/{appeal_id}/transfer",
    response_model=AppealOut,
    responses=problems(*AUTHED, 403, 404, 409),
)
async def transfer_appeal(
    appeal_id: int, body: TransferIn, uow: UowDep, principal: PrincipalDep
) -> AppealOut:
    appeal = await service.transfer_appeal_txn(uow, principal, appeal_id, body.employee_id)
    out = await appeal_out_txn(uow, appeal)
    await uow.commit()
    return out


@router.get("/queue", response_model=Page[QueueItem], responses=problems(*AUTHED, 403))
async def queue(
    uow: UowDep, principal: PrincipalDep, limit: Limit = DEFAULT_PAGE, cursor: str | None = None
) -> Page[QueueItem]:
    principal.require("supervise")
    after = cursor_int(decode_cursor(cursor), "id")
    stmt = (
        select(
            *APPEAL_COLUMNS,
            Appeal.queued_at,
            Appeal.client_id,
            Client.kind.label("client_kind"),
            Client.name.label("client_name"),
            Person.id.label("person_id"),
            Person.name.label("person_name"),
        )
        .join(Dialog, Dialog.id == Appeal.dialog_id)
        .join(Client, Client.id == Appeal.client_id)
        .join(Person, Person.id == Dialog.person_id)
        .where(Appeal.status == "queued")
        .order_by(Appeal.id)
        .limit(limit + 1)
    )
    if after is not None:
        stmt = stmt.where(Appeal.id > after)
    rows = (await uow.session.execute(stmt)).all()
    names = await names_txn(uow, [row.waiting_for_id for row in rows])
    now = utcnow()
    items: list[QueueItem] = []
    for row in rows[:limit]:
        base = appeal_out(row, names)
        since = row.queued_at or row.opened_at
        items.append(
            QueueItem(
                **dict(base),
                waiting_seconds=max(0, int((now - since).total_seconds())),
                queued_at=row.queued_at,
                client=QueueClient(id=row.client_id, kind=row.client_kind, name=row.client_name),
                person=QueuePerson(id=row.person_id, name=row.person_name),
            )
        )
    next_cursor = encode_cursor({"id": rows[limit - 1].id}) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor)
