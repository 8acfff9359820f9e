from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select

from switchboard.appeals.models import Appeal
from switchboard.appeals.schemas import AppealOut
from switchboard.db.session import Uow
from switchboard.kit.schemas import EmployeeRef
from switchboard.people.models import Employee, Person


class AppealFields(Protocol):
    """An appeal as an entity or as a row of its columns."""

    @property
    def id(self) -> int: ...
    @property
    def dialog_id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def assignee_id(self) -> int | None: ...
    @property
    def waiting_for_id(self) -> int | None: ...
    @property
    def reason(self) -> str: ...
    @property
    def opened_at(self) -> datetime: ...
    @property
    def assigned_at(self) -> datetime | None: ...
    @property
    def closed_at(self) -> datetime | None: ...


APPEAL_COLUMNS = (
    Appeal.id,
    Appeal.dialog_id,
    Appeal.kind,
    Appeal.status,
    Appeal.assignee_id,
    Appeal.waiting_for_id,
    Appeal.reason,
    Appeal.opened_at,
    Appeal.assigned_at,
    Appeal.closed_at,
)


@dataclass(frozen=True)
class Names:
    """The names a page of rows mentions, read in one query per kind of party: list pages
    serialise from these instead of looking each author or assignee up."""

    employees: dict[int, str]
    persons: dict[int, str]

    def employee(self, employee_id: int | None) -> EmployeeRef | None:
        if employee_id is None or employee_id not in self.employees:
            return None
        return EmployeeRef(id=employee_id, full_name=self.employees[employee_id])


async def names_txn(
    uow: Uow, employee_ids: Iterable[int | None], person_ids: Iterable[int | None] = ()
) -> Names:
    employees = {i for i in employee_ids if i is not None}
    persons = {i for i in person_ids if i is not None}
    found_employees: dict[int, str] = {}
    found_persons: dict[int, str] = {}
    if employees:
        rows = await uow.session.execute(
            select(Employee.id, Employee.full_name).where(Employee.id.in_(employees))
        )
        found_employees = {row.id: row.full_name for row in rows}
    if persons:
        rows = await uow.session.execute(
            select(Person.id, Person.name).where(Person.id.in_(persons))
        )
        found_persons = {row.id: row.name for row in rows}
    return Names(found_employees, found_persons)


def appeal_out(appeal: AppealFields, names: Names) -> AppealOut:
    return AppealOut(
        id=appeal.id,
        dialog_id=appeal.dialog_id,
        kind=appeal.kind,
        status=appeal.status,
        assignee=names.employee(appeal.assignee_id),
        waiting_for=names.employee(appeal.waiting_for_id),
        reason=appeal.reason,
        opened_at=appeal.opened_at,
        assigned_at=appeal.assigned_at,
        closed_at=appeal.closed_at,
    )


async def employee_ref_txn(uow: Uow, employee_id: int | None) -> EmployeeRef | None:
    if employee_id is None:
        return None
    employee = await uow.session.get(Employee, employee_id)
    if employee is None:
        return None
    return EmployeeRef(id=employee.id, full_name=employee.full_name)


async def appeal_out_txn(uow: Uow, appeal: Appeal) -> AppealOut:
    return AppealOut(
        id=appeal.id,
        dialog_id=appeal.dialog_id,
        kind=appeal.kind,
        status=appeal.status,
        assignee=await employee_ref_txn(uow, appeal.assignee_id),
        waiting_for=await employee_ref_txn(uow, appeal.waiting_for_id),
        reason=appeal.reason,
        opened_at=appeal.opened_at,
        assigned_at=appeal.assigned_at,
        closed_at=appeal.closed_at,
    )
