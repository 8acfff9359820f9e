"""The Inbox (SPEC 7.1): the dialogs an employee works on, newest activity first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Subquery, and_, exists, func, or_, select, union
from sqlalchemy.orm import aliased

from switchboard.appeals.models import Appeal
from switchboard.appeals.serialize import appeal_out_txn, load_employees_txn, load_persons_txn
from switchboard.db.session import Uow
from switchboard.dialogs.models import Dialog, Message, Participant, ReadMark
from switchboard.dialogs.schemas import DialogClient, DialogPerson, InboxItem
from switchboard.dialogs.serialize import message_out_txn
from switchboard.kit.clock import as_utc
from switchboard.kit.errors import BadRequest
from switchboard.kit.i18n import dialog_label
from switchboard.kit.pagination import decode_cursor, encode_cursor
from switchboard.kit.schemas import MAX_ID
from switchboard.kit.text import fold
from switchboard.people.models import Client, Employee, Person


def _works_on_pages(
    employee_id: int,
    kind: str | None,
    conditions: list[ColumnElement[bool]],
    join_client: bool,
    size: int,
) -> Subquery:
    """The ids of the first `size` dialogs the employee works on that meet the conditions.

    One branch per way of working on a dialog (SPEC 7.1) — responsible manager, invitee, holder
    of the open appeal —, each read in activity order from its own index and cut at `size`,
    then merged: a manager's first page reads a few dozen index entries instead of sorting
    every dialog of every client they manage.
    """
    branches = []
    if kind != "general":  # only personal-manager dialogs have a responsible manager
        branches.append(select(Dialog.id).where(Dialog.responsible_id == employee_id))
    branches.append(
        select(Dialog.id)
        .join(Participant, Participant.dialog_id == Dialog.id)
        .where(Participant.employee_id == employee_id)
    )
    held = aliased(Appeal)  # the filters' own look-ups at appeals must not correlate to it
    branches.append(
        select(Dialog.id)
        .join(held, held.dialog_id == Dialog.id)
        .where(held.status == "assigned", held.assignee_id == employee_id)
    )
    cut = []
    for branch in branches:
        if join_client:
            branch = branch.join(Client, Client.id == Dialog.client_id)
        page = (
            branch.where(*conditions)
            .order_by(Dialog.last_activity_at.desc(), Dialog.id.desc())
            .limit(size)
            .subquery()
        )
        cut.append(select(page.c.id))
    return union(*cut).subquery()


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
    mark = (
        select(ReadMark.last_read_message_id)
        .where(
            ReadMark.dialog_id == Dialog.id,
            ReadMark.reader_type == "employee",
            ReadMark.reader_id == employee.id,
        )
        .correlate_except(ReadMark)
        .scalar_subquery()
    )
    read_up_to = func.coalesce(mark, 0)
    open_appeal = exists().where(Appeal.dialog_id == Dialog.id, Appeal.status != "closed")
    conditions: list[ColumnElement[bool]] = []
    if kind is not None:
        conditions.append(Dialog.kind == kind)
    if state == "none":
        conditions.append(~open_appeal)
    elif state is not None:
        conditions.append(exists().where(Appeal.dialog_id == Dialog.id, Appeal.status == state))
    if unread is not None:
        has_unread = func.coalesce(Dialog.last_message_id, 0) > read_up_to
        conditions.append(has_unread if unread else ~has_unread)
    if q:
        escaped = fold(q).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(Client.name_folded.like(f"%{escaped}%", escape="\\"))
    position = decode_cursor(cursor)
    if position is not None:
        try:
            at = as_utc(datetime.fromisoformat(str(position["at"])))
            last_id = int(position["id"])
            if not 0 <= last_id <= MAX_ID:
                raise ValueError(last_id)
        except (KeyError, TypeError, ValueError, OverflowError):
            raise BadRequest("invalid_cursor", "cursor is not one this server issued") from None
        conditions.append(
            or_(
                Dialog.last_activity_at < at,
                and_(Dialog.last_activity_at == at, Dialog.id < last_id),
            )
        )
    unread_count = (
        select(func.count())
        .select_from(Message)
        .where(
            Message.dialog_id == Dialog.id,
            Message.id > read_up_to,
            or_(Message.author_employee_id.is_(None), Message.author_employee_id != employee.id),
        )
        .correlate_except(Message, ReadMark)
        .scalar_subquery()
    )
    pages = _works_on_pages(employee.id, kind, conditions, bool(q), limit + 1)
    stmt = (
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
        .limit(limit + 1)
    )
    rows = (await uow.session.execute(stmt)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    # The page's open appeals and last messages in two queries, not two per row.
    dialog_ids = [row.id for row in rows]
    message_ids = [row.last_message_id for row in rows if row.last_message_id]
    appeals = {
        a.dialog_id: a
        for a in (
            await uow.session.execute(
                select(Appeal).where(Appeal.dialog_id.in_(dialog_ids), Appeal.status != "closed")
            )
        ).scalars()
    }
    last_messages = {
        m.id: m
        for m in (
            await uow.session.execute(select(Message).where(Message.id.in_(message_ids)))
        ).scalars()
    }
    _employees = await load_employees_txn(  # held while the rows are serialised
        uow,
        [a.assignee_id for a in appeals.values()]
        + [a.waiting_for_id for a in appeals.values()]
        + [m.author_employee_id for m in last_messages.values()],
    )
    _authors = await load_persons_txn(  # held while the rows are serialised
        uow, [m.author_person_id for m in last_messages.values()]
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
                last_message=await message_out_txn(uow, last) if last else None,
                last_activity_at=row.last_activity_at,
                unread_count=int(row.unread or 0),
                open_appeal=await appeal_out_txn(uow, appeal) if appeal else None,
            )
        )
    next_cursor = None
    if more and rows:
        tail = rows[-1]
        next_cursor = encode_cursor({"at": tail.last_activity_at.isoformat(), "id": tail.id})
    return items, next_cursor
