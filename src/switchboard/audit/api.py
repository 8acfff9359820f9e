"""`GET /api/v1/audit` and `GET /api/v1/audit.csv`: the audit trail for holders of `supervise`.

Read only: the trail is append-only (no endpoint edits or deletes it; triggers refuse UPDATE and
DELETE in the database too).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AfterValidator, AwareDatetime, WithJsonSchema

from switchboard.audit.queries import CSV_COLUMNS, AuditFilter, audit_out, csv_row, utc_bound
from switchboard.audit.schemas import AuditOut
from switchboard.auth.principals import PrincipalDep, UowDep, get_db
from switchboard.db.session import Database
from switchboard.kit.api import AUTHED, DEFAULT_PAGE, Limit, problems
from switchboard.kit.pagination import Page, keyset_page
from switchboard.kit.schemas import MAX_ID
from switchboard.people.audit import AUDIT_ACTIONS
from switchboard.people.models import AuditRecord

router = APIRouter(prefix="/api/v1")

CSV_BATCH = 500


def _known_action(value: str) -> str:
    if value not in AUDIT_ACTIONS:
        raise ValueError("not an action of the audit trail")
    return value


Action = Annotated[
    str,
    AfterValidator(_known_action),
    WithJsonSchema({"type": "string", "enum": sorted(AUDIT_ACTIONS)}),
]
EmployeeFilter = Annotated[
    int | None,
    Query(ge=1, le=MAX_ID, description="Records about this employee, or made by them"),
]
ClientFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]
ActionFilter = Annotated[
    list[Action] | None, Query(max_length=50, description="One or more actions (repeat it)")
]
Since = Annotated[AwareDatetime | None, Query(description="RFC 3339; from this moment on")]
Until = Annotated[AwareDatetime | None, Query(description="RFC 3339; before this moment")]


def _filter(
    employee_id: int | None,
    client_id: int | None,
    action: list[str] | None,
    since: datetime | None,
    until: datetime | None,
) -> AuditFilter:
    return AuditFilter(
        employee_id=employee_id,
        client_id=client_id,
        actions=tuple(action or ()),
        since=utc_bound(since, "since"),
        until=utc_bound(until, "until"),
    )


@router.get("/audit", response_model=Page[AuditOut], responses=problems(*AUTHED, 403))
async def list_audit(
    uow: UowDep,
    principal: PrincipalDep,
    employee_id: EmployeeFilter = None,
    client_id: ClientFilter = None,
    action: ActionFilter = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = DEFAULT_PAGE,
    cursor: str | None = None,
) -> Page[AuditOut]:
    """The audit trail, newest first."""
    principal.require("supervise")
    stmt = _filter(employee_id, client_id, action, since, until).statement()
    page, next_cursor = await keyset_page(
        uow.session, stmt, AuditRecord.id, cursor, limit, newest_first=True
    )
    return Page(items=[audit_out(r) for r in page], next_cursor=next_cursor)


class CsvResponse(StreamingResponse):
    media_type = "text/csv"


async def _csv_lines(db: Database, audit: AuditFilter) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    before: int | None = None
    while True:
        # One short transaction a batch: an export never holds a connection for its whole length.
        stmt = audit.statement().order_by(AuditRecord.id.desc()).limit(CSV_BATCH)
        if before is not None:
            stmt = stmt.where(AuditRecord.id < before)
        async with db.uow() as uow:
            rows = [csv_row(r) for r in (await uow.session.execute(stmt)).scalars().all()]
        writer.writerows(rows)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(rows) < CSV_BATCH:
            return
        before = int(rows[-1][0])


@router.get(
    "/audit.csv",
    response_class=CsvResponse,
    responses={
        200: {
            "description": "The filtered audit trail as CSV with a header row, newest first",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **problems(*AUTHED, 403),
    },
)
async def export_audit(
    request: Request,
    uow: UowDep,
    principal: PrincipalDep,
    employee_id: EmployeeFilter = None,
    client_id: ClientFilter = None,
    action: ActionFilter = None,
    since: Since = None,
    until: Until = None,
) -> CsvResponse:
    """The same records as `GET /audit` with the same filters, all of them, as a CSV download."""
    principal.require("supervise")
    audit = _filter(employee_id, client_id, action, since, until)
    # The stream reads in transactions of its own; the request's one ends here (on SQLite it
    # would hold the database for as long as the download lasts).
    await uow.rollback()
    return CsvResponse(
        _csv_lines(get_db(request), audit),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )
