from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from switchboard.kit.schemas import EmployeeRef, Id, Input, Schema


class AppealOut(Schema):
    id: int
    dialog_id: int
    kind: Literal["general", "personal_manager"]
    status: Literal["queued", "assigned", "closed"]
    assignee: EmployeeRef | None
    waiting_for: EmployeeRef | None
    reason: str
    opened_at: datetime
    assigned_at: datetime | None
    closed_at: datetime | None


class ActorOut(Schema):
    type: Literal["employee", "person", "system"]
    id: int | None


class AppealHistoryItem(Schema):
    at: datetime
    event: str
    reason: str | None
    employee_id: int | None
    actor: ActorOut


class QueueClient(Schema):
    id: int
    kind: str
    name: str


class QueuePerson(Schema):
    id: int
    name: str


class QueueItem(AppealOut):
    waiting_seconds: int = Field(ge=0)
    queued_at: datetime | None
    client: QueueClient
    person: QueuePerson


class TransferIn(Input):
    employee_id: Id | None
