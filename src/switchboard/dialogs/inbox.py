"""The Inbox (SPEC 7.1): the dialogs an employee works on, newest activity first."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Subquery,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    union,
)
from sqlalchemy.orm import aliased

from switchboard.appeals.models import Appeal
from switchboard.appeals.serialize import APPEAL_COLUMNS, appeal_out, names_txn
from switchboard.db.base import UTCDateTime
from switchboard.db.session import Uow
from switchboard.dialogs.models import Dialog, Message, Participant, ReadMark
from switchboard.dialogs.schemas import DialogClient, DialogPerson, InboxItem
from switchboard.dialogs.serialize import MESSAGE_COLUMNS, message_out
from switchboard.kit.clock import as_utc
from switchboard.kit.errors import BadRequest
from switchboard.kit.i18n import dialog_label
from switchboard.kit.pagination import decode_cursor, encode_cursor
from switchboard.kit.schemas import MAX_ID
from switchboard.kit.text import fold
from switchboard.people.models import Client, Employee, Person

# The statement's parameters: the employee, the page size (plus one), the search pattern and
# the cursor's position.
_ME = bindparam("me", type_=Integer)
_SIZE = bindparam("size", type_=Integer)
_PATTERN = bindparam("pattern", type_=String())
_AT = bindparam("at", type_=UTCDateTime())
_LAST_ID = bindparam("last_id", type_=Integer)


def _works_on_pages(
    kind: str | None, conditions: list[ColumnElement[bool]], join_client: bool
) -> Subquery:
    """The ids of the first `size` dialogs the employee works on that meet the conditions.

    One branch per way of working on a dialog (SPEC 7.1) — responsible manager, invitee, holder
    of the open appeal —, each read in activity order from its own index and cut at `size`,
    then merged: a manager's first page reads a few dozen index entries instead of sorting
    every dialog of every client they manage.
    """
    branches = []
    if kind != "general":  # only personal-manager dialogs have a responsible manager
        branches.append(select(Dialog.id).where(Dialog.responsible_id == _ME))
    branches.append(
        select(Dialog.id)
        .join(Participant, Participant.dialog_id == Dialog.id)
        .where(Participant.employee_id == _ME)
    )
    held = aliased(Appeal)  # the filters' own look-ups at appeals must not correlate to it
    branches.append(
        select(Dialog.id)
        .join(held, held.dialog_id == Dialog.id)
        .where(held.status == "assigned", held.assignee_id == _ME)
    )
    cut = []
    for branch in branches:
        if join_client:
            branch = branch.join(Client, Client.id == Dialog.client_id)
        page = (
            branch.where(*conditions)
            .order_by(Dialog.last_activity_at.desc(), Dialog.id.desc())
            .limit(_SIZE)
            .subquery()
        )
        cut.append(select(page.c.id))
    return union(*cut).subquery()


@functools.lru_cache(maxsize=256)
def _statement(
    kind: str | None, state: str | None, unread: bool | None, search: bool, paged: bool
) -> Select[Any]:
    """The page's statement for one shape of filters, built once: building it costs more
    than running it."""
    mark = (
        select(ReadMark.last_read_message_id)
        .where(
            ReadMark.dialog_id == Dialog.id,
            ReadMark.reader_type == "employee",
            ReadMark.reader_id == _ME,
        )
        .correlate_except(ReadMark)
        .scalar_subquery()
    )
    read_up_to = func.coalesce(mark, 0)
    conditions: list[ColumnElement[bool]] = []
    if kind is not None:
        conditions.append(Dialog.kind == kind)
    if state == "none":
        conditions.append(~exists().where(Appeal.dialog_id == Dialog.id, Appeal.status != "closed"))
    elif state is not None:
        conditions.append(exists().where(Appeal.dialog_id == Dialog.id, Appeal.status == state))
    if unread is not None:
        has_unread = func.coalesce(Dialog.last_message_id, 0) > read_up_to
        conditions.append(has_unread if unread else ~has_unread)
    if search:
        conditions.append(Client.name_folded.like(_PATTERN, escape="\\"))
    if paged:
        conditions.append(
            or_(
                Dialog.last_activity_at < _AT,
                and_(Dialog.last_activity_at == _AT, Dialog.id < _LAST_ID),
            )
        )
    unread_count = (
        select(func.count())
        .select_from(Message)
        .where(
            Message.dialog_id == Dialog.id,
            Message.id > read_up_to,
            or_(Message.author_employee_id.is_(None), Message.author_employee_id != _ME),
        )
        .correlate_except(Message, ReadMark)
        .scalar_subquery()
    )
    pages = _works_on_pages(kind, conditions, search)
    return (
        select(
            Dialog.id,
            Dialog.kind,
            Dialog.last_activity_at,
            Dialog.last_message_id,
            Client.id.label("client_id"),
            Client.kind.label("client_kind"),
            Client.name.label("client_name"),
            Person.id.label("person_id"),
            Person.name.label("person_name"),
            unread_count.label("unread"),
        )
        .join(pages, pages.c.id == Dialog.id)
        .join(Client, Client.id == Dialog.client_id)
        .join(Person, Person.id == Dialog.person_id)
        .order_by(Dialog.last_activity_at.desc(), Dialog.id.desc())
        .limit(_SIZE)
    )


def _position(cursor: str | None) -> tuple[datetime, int] | None:
    position = decode_cursor(cursor)
    if position is None:
        return None
    try:
        at = as_utc(datetime.fromisoformat(str(position["at"])))
        last_id = int(position["id"])
        if not 0 <= last_id <= MAX_ID:
            raise ValueError(last_id)
    except (KeyError, TypeError, ValueError, OverflowError):
        raise BadRequest("invalid_cursor", "cursor is not one this server issued") from None
    return at, last_id


async def inbox_txn(
    uow: Uow,
    employee: Employee,
    *,
    kind: str | None,
    state: str | None,
    unread: bool | None,
    q: str | None,
    cursor: str | None,
    limit: int,
    lang: str,
) -> tuple[list[InboxItem], str | None]:
    position = _position(cursor)
    params: dict[str, Any] = {"me": employee.id, "size": limit + 1}
    if q:
        escaped = fold(q).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params["pattern"] = f"%{escaped}%"
    if position is not None:
        params["at"], params["last_id"] = position
    stmt = _statement(kind, state, unread, bool(q), position is not None)
    rows = (await uow.session.execute(stmt, params)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    # The page's open appeals, last messages and the names they mention: three queries, not
    # three per row.
    dialog_ids = [row.id for row in rows]
    message_ids = [row.last_message_id for row in rows if row.last_message_id]
    appeals = {
        a.dialog_id: a
        for a in await uow.session.execute(
            select(*APPEAL_COLUMNS).where(
                Appeal.dialog_id.in_(dialog_ids), Appeal.status != "closed"
            )
        )
    }
    last_messages = {
        m.id: m
        for m in await uow.session.execute(
            select(*MESSAGE_COLUMNS).where(Message.id.in_(message_ids))
        )
    }
    names = await names_txn(
        uow,
        [a.assignee_id for a in appeals.values()]
        + [a.waiting_for_id for a in appeals.values()]
        + [m.author_employee_id for m in last_messages.values()],
        [m.author_person_id for m in last_messages.values()],
    )
    items: list[InboxItem] = []
    for row in rows:
        appeal = appeals.get(row.id)
        last = last_messages.get(row.last_message_id) if row.last_message_id else None
        items.append(
            InboxItem(
                dialog_id=row.id,
                kind=row.kind,
                label=dialog_label(row.kind, lang),
                client=DialogClient(id=row.client_id, kind=row.client_kind, name=row.client_name),
                person=DialogPerson(id=row.person_id, name=row.person_name),
                last_message=message_out(last, names) if last else None,
                last_activity_at=row.last_activity_at,
                unread_count=int(row.unread or 0),
                open_appeal=appeal_out(appeal, names) if appeal else None,
            )
        )
    next_cursor = None
    if more and rows:
        tail = rows[-1]
        next_cursor = encode_cursor({"at": tail.last_activity_at.isoformat(), "id": tail.id})
    return items, next_cursor
