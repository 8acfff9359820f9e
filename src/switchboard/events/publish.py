"""Building events: the REST shape of what changed, and who may see it at that moment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from switchboard.appeals.models import Appeal
from switchboard.appeals.serialize import appeal_out, names_txn
from switchboard.db.session import PendingEvent, Uow


@dataclass
class Audience:
    employee_ids: set[int] = field(default_factory=set)
    person_ids: set[int] = field(default_factory=set)
    supervisors: bool = True
    all_employees: bool = False


def emit(uow: Uow, type_: str, data: dict[str, Any], audience: Audience) -> None:
    uow.emit(
        PendingEvent(
            type=type_,
            data=data,
            dialog_id=data.get("dialog_id"),
            employee_ids=set(audience.employee_ids),
            person_ids=set(audience.person_ids),
            supervisors=audience.supervisors,
            all_employees=audience.all_employees,
        )
    )


async def emit_appeal_event(uow: Uow, type_: str, appeal: Appeal, audience: Audience) -> None:
    await emit_appeal_events(uow, [(type_, appeal, audience)])


async def emit_appeal_events(uow: Uow, events: list[tuple[str, Appeal, Audience]]) -> None:
    """`emit_appeal_event` for many appeals, with the names they mention read once."""
    names = await names_txn(
        uow, {i for _, a, _ in events for i in (a.assignee_id, a.waiting_for_id)}
    )
    for type_, appeal, audience in events:
        emit(uow, type_, appeal_out(appeal, names).model_dump(mode="json"), audience)
