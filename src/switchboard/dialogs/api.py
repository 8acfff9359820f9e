from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from switchboard.auth.principals import ClaimsDep, PrincipalDep, UowDep, get_db, principal_of
from switchboard.dialogs import inbox as inbox_queries
from switchboard.dialogs import service
from switchboard.dialogs.access import dialog_access_txn
from switchboard.dialogs.models import Message
from switchboard.dialogs.schemas import (
    DialogCreate,
    DialogOut,
    InboxItem,
    MessageIn,
    MessageOut,
    ParticipantIn,
    ParticipantOut,
    PersonDialogOut,
    ReadIn,
)
from switchboard.dialogs.serialize import (
    dialog_out_txn,
    message_out_txn,
    participants_txn,
    person_dialog_out_txn,
)
from switchboard.kit.api import AUTHED, DEFAULT_PAGE, NO_CONTROLS, Lang, Limit, problems
from switchboard.kit.errors import BadRequest
from switchboard.kit.pagination import Page, cursor_int, decode_cursor, encode_cursor
from switchboard.kit.schemas import MAX_BIG_ID

router = APIRouter(prefix="/api/v1")


@router.get("/dialogs", response_model=Page[PersonDialogOut], responses=problems(*AUTHED, 403))
async def person_dialogs(
    uow: UowDep,
    principal: PrincipalDep,
    lang: Lang,
    limit: Limit = DEFAULT_PAGE,
    cursor: str | None = None,
) -> Page[PersonDialogOut]:
    decode_cursor(cursor)
    pairs = await service.person_dialogs_txn(uow, principal)
    items = [await person_dialog_out_txn(uow, d, c, lang) for d, c in pairs][:limit]
    await uow.commit()
    return Page(items=items, next_cursor=None)


@router.post(
    "/dialogs",
    response_model=DialogOut,
    status_code=201,
    responses={
        200: {"model": DialogOut, "description": "The dialog existed"},
        **problems(*AUTHED, 403, 404, 409),
    },
)
async def get_or_create_dialog(
    body: DialogCreate, response: Response, uow: UowDep, principal: PrincipalDep, lang: Lang
) -> DialogOut:
    dialog, created = await service.get_or_create_dialog_txn(
        uow, principal, body.kind, body.person_id
    )
    out = await dialog_out_txn(uow, dialog, lang)
    await uow.commit()
    response.status_code = 201 if created else 200
    return out


@router.get("/dialogs/{dialog_id}", response_model=DialogOut, responses=problems(*AUTHED, 404))
async def get_dialog(dialog_id: int, uow: UowDep, principal: PrincipalDep, lang: Lang) -> DialogOut:
    access = await dialog_access_txn(uow, principal, dialog_id)
    return await dialog_out_txn(uow, access.dialog, lang)


@router.post(
    "/dialogs/{dialog_id}/messages",
    response_model=MessageOut,
    status_code=201,
    responses={
        200: {"model": MessageOut, "description": "Stored before (same client_message_id)"},
        **problems(*AUTHED, 404, 409),
    },
)
async def post_message(
    dialog_id: int, body: MessageIn, request: Request, response: Response, claims: ClaimsDep
) -> Any:
    # The plain case was taken in front of the framework (hotpath.MessageLane); this is the
    # general path, the reference for every case.
    async with get_db(request).uow() as uow:
        principal = await principal_of(uow, claims)
        try:
            posted = await service.post_message_txn(
                uow, principal, dialog_id, body.text, body.client_message_id
            )
            out = await message_out_txn(uow, posted.message)
            await uow.commit()
        except IntegrityError:
            # The same client_message_id raced in on another connection: answer with the
            # stored one.
            await uow.rollback()
            if body.client_message_id is None:
                raise
            # The rollback expired what the request had loaded: read the caller afresh (an
            # expired attribute would otherwise be loaded lazily, which async SQLAlchemy
            # cannot do).
            for loaded in (principal.employee, principal.person, principal.client):
                if loaded is not None:
                    await uow.session.refresh(loaded)
            posted = await service.post_message_txn(
                uow, principal, dialog_id, body.text, body.client_message_id
            )
            out = await message_out_txn(uow, posted.message)
            await uow.commit()
    response.status_code = 201 if posted.created else 200
    return out


@router.get(
    "/dialogs/{dialog_id}/messages",
    response_model=Page[MessageOut],
    responses=problems(*AUTHED, 404),
)
async def list_messages(
    dialog_id: int,
    uow: UowDep,
    principal: PrincipalDep,
    after: int | None = Query(default=None, ge=0, le=MAX_BIG_ID),
    before: int | None = Query(default=None, ge=0, le=MAX_BIG_ID),
    limit: Limit = DEFAULT_PAGE,
) -> Page[MessageOut]:
    if after is not None and before is not None:
        raise BadRequest("validation_error", "give after or before, not both")
    await dialog_access_txn(uow, principal, dialog_id)
    stmt = select(Message).where(Message.dialog_id == dialog_id)
    if after is not None:
        stmt = stmt.where(Message.id > after).order_by(Message.id).limit(limit + 1)
        rows = list((await uow.session.execute(stmt)).scalars().all())
        page = rows[:limit]
        next_cursor = str(page[-1].id) if len(rows) > limit else None
    else:
        if before is not None:
            stmt = stmt.where(Message.id < before)
        stmt = stmt.order_by(Message.id.desc()).limit(limit + 1)
        rows = list((await uow.session.execute(stmt)).scalars().all())
        page = list(reversed(rows[:limit]))
        next_cursor = str(page[0].id) if len(rows) > limit else None
    return Page(items=[await message_out_txn(uow, m) for m in page], next_cursor=next_cursor)


@router.post("/dialogs/{dialog_id}/read", status_code=204, responses=problems(*AUTHED, 404))
async def mark_read(dialog_id: int, body: ReadIn, uow: UowDep, principal: PrincipalDep) -> Response:
    await service.mark_read_txn(uow, principal, dialog_id, body.up_to_message_id)
    await uow.commit()
    return Response(status_code=204)


@router.get(
    "/dialogs/{dialog_id}/participants",
    response_model=Page[ParticipantOut],
    responses=problems(*AUTHED, 404),
)
async def list_participants(
    dialog_id: int,
    uow: UowDep,
    principal: PrincipalDep,
    limit: Limit = DEFAULT_PAGE,
    cursor: str | None = None,
) -> Page[ParticipantOut]:
    await dialog_access_txn(uow, principal, dialog_id)
    offset = cursor_int(decode_cursor(cursor), "offset") or 0
    everyone = await participants_txn(uow, dialog_id)
    page = everyone[offset : offset + limit]
    more = len(everyone) > offset + limit
    return Page(items=page, next_cursor=encode_cursor({"offset": offset + limit}) if more else None)


@router.post(
    "/dialogs/{dialog_id}/participants",
    response_model=ParticipantOut,
    status_code=201,
    responses={
        200: {"model": ParticipantOut, "description": "Already invited"},
        **problems(*AUTHED, 403, 404, 409),
    },
)
async def add_participant(
    dialog_id: int, body: ParticipantIn, response: Response, uow: UowDep, principal: PrincipalDep
) -> ParticipantOut:
    participant, created = await service.add_participant_txn(
        uow, principal, dialog_id, body.employee_id
    )
    out = next(
        p for p in await participants_txn(uow, dialog_id) if p.employee_id == body.employee_id
    )
    await uow.commit()
    response.status_code = 201 if created else 200
    del participant
    return out


@router.delete(
    "/dialogs/{dialog_id}/participants/{employee_id}",
    status_code=204,
    responses=problems(*AUTHED, 403, 404),
)
async def remove_participant(
    dialog_id: int, employee_id: int, uow: UowDep, principal: PrincipalDep
) -> Response:
    await service.remove_participant_txn(uow, principal, dialog_id, employee_id)
    await uow.commit()
    return Response(status_code=204)


@router.get("/inbox", response_model=Page[InboxItem], responses=problems(*AUTHED, 403))
async def inbox(
    uow: UowDep,
    principal: PrincipalDep,
    lang: Lang,
    kind: str | None = Query(default=None, pattern="^(general|personal_manager)$"),
    state: str | None = Query(default=None, pattern="^(queued|assigned|none)$"),
    unread: bool | None = None,
    q: str | None = Query(default=None, max_length=200, pattern=NO_CONTROLS),
    cursor: str | None = None,
    limit: Limit = DEFAULT_PAGE,
) -> Page[InboxItem]:
    employee = principal.require_employee()
    items, next_cursor = await inbox_queries.inbox_txn(
        uow,
        employee,
        kind=kind,
        state=state,
        unread=unread,
        q=q,
        cursor=cursor,
        limit=limit,
        lang=lang,
    )
    return Page(items=items, next_cursor=next_cursor)
