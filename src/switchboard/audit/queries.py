"""The audit trail's filters, shared by the JSON list and the CSV export."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select

from switchboard.appeals.schemas import ActorOut
from switchboard.audit.schemas import AuditOut
from switchboard.kit.clock import as_utc, rfc3339
from switchboard.kit.errors import BadRequest
from switchboard.people.models import AuditRecord

CSV_COLUMNS = [
    "id",
    "at",
    "actor_type",
    "actor_id",
    "action",
    "employee_id",
    "related_employee_id",
    "client_id",
    "details",
]


@dataclass(frozen=True)
class AuditFilter:
    employee_id: int | None = None
    client_id: int | None = None
    actions: tuple[str, ...] = ()
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive

    def statement(self) -> Select[Any]:
        stmt = select(AuditRecord)
        if self.employee_id is not None:
            # Everything about the employee, and everything they did.
            stmt = stmt.where(
                or_(
                    AuditRecord.employee_id == self.employee_id,
                    AuditRecord.related_employee_id == self.employee_id,
                    and_(
                        AuditRecord.actor_type == "employee",
                        AuditRecord.actor_id == self.employee_id,
                    ),
                )
            )
        if self.client_id is not None:
            stmt = stmt.where(AuditRecord.client_id == self.client_id)
        if self.actions:
            stmt = stmt.where(AuditRecord.action.in_(self.actions))
        if self.since is not None:
            stmt = stmt.where(AuditRecord.at >= self.since)
        if self.until is not None:
            stmt = stmt.where(AuditRecord.at < self.until)
        return stmt


def utc_bound(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return as_utc(value)
    except OverflowError:
        # 0001-01-01T00:00:00+01:00 has no UTC form.
        raise BadRequest("validation_error", f"{name}: out of range") from None


def _details(record: AuditRecord) -> dict[str, Any]:
    try:
        value = json.loads(record.details or "{}")
    except ValueError:
        return {"raw": record.details}
    return value if isinstance(value, dict) else {"value": value}


def audit_out(record: AuditRecord) -> AuditOut:
    return AuditOut(
        id=record.id,
        at=record.at,
        actor=ActorOut(type=record.actor_type, id=record.actor_id),
        action=record.action,
        employee_id=record.employee_id,
        related_employee_id=record.related_employee_id,
        client_id=record.client_id,
        details=_details(record),
    )


def csv_row(record: AuditRecord) -> list[str]:
    def cell(value: int | None) -> str:
        return "" if value is None else str(value)

    return [
        str(record.id),
        rfc3339(record.at) or "",
        record.actor_type,
        cell(record.actor_id),
        record.action,
        cell(record.employee_id),
        cell(record.related_employee_id),
        cell(record.client_id),
        # Details as compact JSON: the cell starts with "{", never with a spreadsheet formula.
        json.dumps(_details(record), ensure_ascii=False, separators=(",", ":"), sort_keys=True),
    ]
