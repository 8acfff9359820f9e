from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from switchboard.appeals.schemas import AppealOut
from switchboard.kit.schemas import MAX_BIG_ID, EmployeeStatusRef, Id, Input, Schema
from switchboard.kit.text import check_message_text, check_name

DialogKind = Literal["general", "personal_manager"]


class DialogCreate(Input):
    kind: DialogKind
    person_id: Id | None = None


class DialogClient(Schema):
    id: int
    kind: Literal["individual", "legal_entity"]
    name: str


class DialogPerson(Schema):
    id: int
    name: str


class ParticipantOut(Schema):
    employee_id: int
    full_name: str
    status: str
    invited_by: int | None
    invited_at: datetime


class ParticipantIn(Input):
    employee_id: Id


class PersonDialogOut(Schema):
    id: int
    kind: DialogKind
    label: str
    responsible: EmployeeStatusRef | None
    open_appeal: AppealOut | None


class DialogOut(Schema):
    id: int
    kind: DialogKind
    label: str
    client: DialogClient
    person: DialogPerson
    responsible: EmployeeStatusRef | None
    participants: list[ParticipantOut]
    open_appeal: AppealOut | None
    created_at: datetime
    last_message_at: datetime | None


class MessageIn(Input):
    text: Annotated[str, StringConstraints(min_length=1, max_length=4096)]
    client_message_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None

    _text = field_validator("text")(check_message_text)
    _key = field_validator("client_message_id")(check_name)


class MessageAuthor(Schema):
    type: Literal["person", "employee", "system"]
    id: int | None
    name: str


class MessageOut(Schema):
    id: int
    dialog_id: int
    appeal_id: int
    author: MessageAuthor
    text: str
    client_message_id: str | None
    created_at: datetime


class ReadIn(Input):
    up_to_message_id: int = Field(ge=0, le=MAX_BIG_ID)


class InboxItem(Schema):
    dialog_id: int
    kind: DialogKind
    label: str
    client: DialogClient
    person: DialogPerson
    last_message: MessageOut | None
    last_activity_at: datetime
    unread_count: int
    open_appeal: AppealOut | None
