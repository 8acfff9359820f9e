"""Appeal lifecycle beyond routing: close, transfer, history, the supervisor's queue."""

from __future__ import annotations

from sqlalchemy import select

from switchboard.appeals.models import Appeal, AppealEvent
from switchboard.auth.principals import Principal
from switchboard.db.session import Uow
from switchboard.dialogs.access import DialogAccess, dialog_access_txn
from switchboard.dialogs.audience import dialog_audience_txn
from switchboard.events.publish import emit_appeal_event
from switchboard.kit.clock import utcnow
from switchboard.kit.errors import BadRequest, Conflict, NotFound
from switchboard.people.audit import audit_txn
from switchboard.routing import engine, policy
from switchboard.routing.policy import Assign, Queue


async def visible_appeal_txn(
    uow: Uow, principal: Principal, appeal_id: int
) -> tuple[Appeal, DialogAccess]:
    appeal = await uow.session.get(Appeal, appeal_id, populate_existing=True)
    if appeal is None:
        raise NotFound("appeal_not_found", f"no appeal {appeal_id}")
    try:
        access = await dialog_access_txn(uow, principal, appeal.dialog_id)
    except NotFound:
        raise NotFound("appeal_not_found", f"no appeal {appeal_id}") from None
    return appeal, access


async def history_txn(uow: Uow, appeal_id: int) -> list[AppealEvent]:
    return list(
        (
            await uow.session.execute(
                select(AppealEvent)
                .where(AppealEvent.appeal_id == appeal_id)
                .order_by(AppealEvent.id)
            )
        )
        .scalars()
        .all()
    )


async def close_appeal_txn(uow: Uow, principal: Principal, appeal_id: int) -> Appeal:
    """SPEC 3.2: the assignee, a supervisor or the dialog's person closes an appeal."""
    await uow.lock_routing_txn()
    appeal, access = await visible_appeal_txn(uow, principal, appeal_id)
    if appeal.status == "closed":
        raise Conflict("appeal_closed", "this appeal is already closed")
    if not (access.is_person or access.is_holder or access.is_supervisor):
        raise NotFound(
            "appeal_not_found", "only the assignee, a supervisor or the client may close it"
        )
    audience = await dialog_audience_txn(uow, appeal.dialog_id)
    if principal.employee is not None:
        audience.employee_ids.add(principal.employee.id)
    was_general_assigned = appeal.kind == "general" and appeal.status == "assigned"
    reason = policy.CLOSED_BY_PERSON if access.is_person else policy.CLOSED_BY_EMPLOYEE
    appeal.status = "closed"
    appeal.waiting_for_id = None
    appeal.reason = reason
    appeal.closed_at = utcnow()
    engine.record_history_txn(uow, appeal, "closed", reason, appeal.assignee_id, principal.actor)
    audit_txn(
        uow,
        principal.actor,
        "appeal_closed",
        employee_id=appeal.assignee_id,
        client_id=appeal.client_id,
        appeal_id=appeal.id,
        reason=reason,
    )
    await uow.session.flush()
    await emit_appeal_event(uow, "appeal.closed", appeal, audience)
    if was_general_assigned:
        await engine.route_general_txn(uow, principal.actor)
    return appeal


async def transfer_appeal_txn(
    uow: Uow, principal: Principal, appeal_id: int, target_id: int | None
) -> Appeal:
    """SPEC 4.6 and 5.7: general appeals move between operators; PM appeals never do."""
    await uow.lock_routing_txn()
    appeal, access = await visible_appeal_txn(uow, principal, appeal_id)
    if appeal.kind == "personal_manager":
        raise Conflict(
            "personal_manager_dialog_not_transferable",
            "a personal-manager chat cannot be transferred: only a change of manager moves it",
        )
    if not (access.is_holder or access.is_supervisor):
        raise NotFound("appeal_not_found", "only the assignee or a supervisor may transfer it")
    if appeal.status == "closed":
        raise Conflict("appeal_closed", "this appeal is closed")
    actor = principal.actor
    if target_id is None:
        if appeal.status == "queued":
            return appeal
        holder = appeal.assignee_id
        await engine.apply_txn(
            uow, {appeal.id: appeal}, [Queue(appeal.id, None, policy.RETURNED_BY_EMPLOYEE)], actor
        )
        audit_txn(
            uow,
            actor,
            "appeal_returned",
            employee_id=holder,
            client_id=appeal.client_id,
            appeal_id=appeal.id,
        )
        await engine.route_general_txn(uow, actor)
        return appeal
    target = await engine.employee_txn(uow, target_id)
    if target is None:
        raise BadRequest("employee_not_found", f"no employee {target_id}")
    if appeal.status == "assigned" and appeal.assignee_id == target_id:
        return appeal
    settings = await engine.settings_txn(uow)
    operators = {op.id: op for op in await engine.operators_txn(uow, settings)}
    candidate = operators.get(target_id)
    if candidate is None or not policy.is_eligible(candidate):
        raise Conflict(
            "transfer_target_unavailable",
            "the employee must be active, hold general_chat and be below their limit",
        )
    previous_holder = appeal.assignee_id if appeal.status == "assigned" else None
    await engine.apply_txn(
        uow, {appeal.id: appeal}, [Assign(appeal.id, target_id, policy.TRANSFERRED)], actor
    )
    audit_txn(
        uow,
        actor,
        "appeal_transferred",
        client_id=appeal.client_id,
        appeal_id=appeal.id,
        employee_id=target_id,
        related_employee_id=previous_holder,
    )
    # The previous holder has room again.
    await engine.route_general_txn(uow, actor)
    return appeal
