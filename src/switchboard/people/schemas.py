from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from switchboard.kit.schemas import EmployeeStatusRef, Id, Input, Schema
from switchboard.kit.text import check_name

Permission = Literal[
    "general_chat",
    "supervise",
    "manage_personal_managers",
    "manage_employees",
    "manage_clients",
    "issue_person_tokens",
]
Status = Literal["active", "break", "offline"]
Login = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._@-]+$")
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=256)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=200)]


def _not_null(value: object) -> object:
    """A PATCH field given explicitly as null is bad input, not "leave unchanged"."""
    if value is None:
        raise ValueError("must not be null")
    return value


class TokenIn(Input):
    login: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]

    _login = field_validator("login")(check_name)


class TokenOut(Schema):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class EmployeeOut(Schema):
    type: Literal["employee"] = "employee"
    id: int
    login: str
    full_name: str
    permissions: list[Permission]
    general_limit: int | None
    status: Status
    is_enabled: bool


class EmployeeCreate(Input):
    login: Login
    full_name: Name
    password: Password
    permissions: list[Permission] = Field(default_factory=list)
    general_limit: int | None = Field(default=None, ge=0, le=1000)

    _name = field_validator("full_name")(check_name)


class EmployeeUpdate(Input):
    full_name: Name | None = None
    permissions: list[Permission] | None = None
    general_limit: int | None = Field(default=None, ge=0, le=1000)
    is_enabled: bool | None = None
    password: Password | None = None

    _name = field_validator("full_name")(check_name)
    _given_not_null = field_validator("full_name", "permissions", "is_enabled", "password")(
        _not_null
    )


class StatusIn(Input):
    status: Status


class StatusOut(Schema):
    status: Status


class SettingsOut(Schema):
    default_general_limit: int
    requeue_general_on_inactive: bool
    pm_appeals_count_toward_limit: bool
    offline_grace_seconds: int


class SettingsUpdate(Input):
    default_general_limit: int | None = Field(default=None, ge=0, le=1000)
    requeue_general_on_inactive: bool | None = None
    pm_appeals_count_toward_limit: bool | None = None
    offline_grace_seconds: int | None = Field(default=None, ge=0, le=86400)


class ClientCreate(Input):
    kind: Literal["individual", "legal_entity"]
    name: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    external_id: ExternalId | None = None

    _name = field_validator("name", "external_id")(check_name)


class ClientOut(Schema):
    id: int
    kind: Literal["individual", "legal_entity"]
    name: str
    external_id: str | None
    personal_manager: EmployeeStatusRef | None


class PersonCreate(Input):
    name: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    external_id: ExternalId | None = None

    _name = field_validator("name", "external_id")(check_name)


class PersonUpdate(Input):
    name: Annotated[str, StringConstraints(min_length=1, max_length=300)] | None = None
    is_enabled: bool | None = None

    _name = field_validator("name")(check_name)
    _given_not_null = field_validator("name", "is_enabled")(_not_null)


class PersonOut(Schema):
    id: int
    client_id: int
    name: str
    external_id: str | None
    is_enabled: bool


class MeClientPerson(PersonOut):
    personal_manager_dialog_id: int | None


class MeClient(Schema):
    id: int
    kind: Literal["individual", "legal_entity"]
    name: str
    external_id: str | None
    persons: list[MeClientPerson]


class PersonMe(Schema):
    type: Literal["person"] = "person"
    id: int
    client_id: int
    name: str
    external_id: str | None
    is_enabled: bool
    client: ClientOut


class PersonalManagerIn(Input):
    employee_id: Id | None


class PersonalManagerChangeOut(Schema):
    client_id: int
    personal_manager_id: int | None
    previous_personal_manager_id: int | None
    changed_at: datetime
    changed_by: int | None


class MoveIn(Input):
    from_employee_id: Id
    to_employee_id: Id
    dry_run: bool = False


class MoveOut(Schema):
    clients: int
    open_appeals_staying: int
    queued_appeals_moving: int
    dry_run: bool
