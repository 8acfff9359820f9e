from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from switchboard.appeals.models import Appeal
from switchboard.appeals.schemas import AppealOut
from switchboard.db.session import Uow
from switchboard.kit.schemas import EmployeeRef
from switchboard.people.models import Employee, Person


async def load_employees_txn(uow: Uow, ids: Iterable[int | None]) -> list[Employee]:
    """Bring a page's employees into the session in one query, so that the `session.get` of
    each row's serialisation finds them there. Keep the answer while serialising: the
    session's identity map holds its objects weakly."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return []
    return list(
        (await uow.session.execute(select(Employee).where(Employee.id.in_(wanted)))).scalars()
    )


async def load_persons_txn(uow: Uow, ids: Iterable[int | None]) -> list[Person]:
    """As `load_employees_txn`, for the persons a page names."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return []
    rows = await uow.session.execute(select(Person).where(Person.id.in_(wanted)))
    return list(rows.scalars())


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
