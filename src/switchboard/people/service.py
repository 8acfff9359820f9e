"""Employees, their status and limits, and the routing settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from switchboard.auth.passwords import hash_password, verify_password
from switchboard.auth.principals import (
    Actor,
    missing_permission,
    no_longer_valid,
    token_still_holds,
)
from switchboard.auth.tokens import TokenSigner
from switchboard.db.session import Uow
from switchboard.events.publish import Audience, emit
from switchboard.kit.clock import utcnow
from switchboard.kit.errors import BadRequest, Conflict, DomainError, NotFound, Unauthorized
from switchboard.people.audit import audit_txn
from switchboard.people.models import Client, Employee, RoutingSettings
from switchboard.people.schemas import (
    EmployeeCreate,
    EmployeeOut,
    EmployeeUpdate,
    SettingsUpdate,
    TokenOut,
)
from switchboard.routing import engine


def employee_out(employee: Employee) -> EmployeeOut:
    return EmployeeOut.model_validate(employee)


async def authenticate_txn(
    uow: Uow,
    signer: TokenSigner,
    login: str,
    password: str,
    ttl_seconds: int,
    *,
    address: str | None = None,
) -> TokenOut:
    """Check a login and password; audit the attempt either way (never the password)."""
    employee = await uow.session.scalar(select(Employee).where(Employee.login == login))
    ok = verify_password(employee.password_hash if employee else None, password)
    if employee is None or not ok or not employee.is_enabled:
        if employee is None:
            reason = "unknown_login"
        elif not ok:
            reason = "wrong_password"
        else:
            reason = "employee_disabled"
        audit_txn(
            uow,
            Actor.system(),
            "login_failed",
            employee_id=employee.id if employee else None,
            login=login,
            address=address,
            reason=reason,
        )
        raise Unauthorized("invalid_credentials", "the login or the password is wrong")
    audit_txn(
        uow, Actor("employee", employee.id), "login", employee_id=employee.id, address=address
    )
    token, expires_in = signer.issue("employee", employee.id, employee.token_version, ttl_seconds)
    return TokenOut(access_token=token, expires_in=expires_in)


async def login_throttled_txn(
    uow: Uow, login: str, address: str | None, scopes: tuple[str, ...], retry_after: int
) -> None:
    employee_id = await uow.session.scalar(select(Employee.id).where(Employee.login == login))
    audit_txn(
        uow,
        Actor.system(),
        "login_throttled",
        employee_id=employee_id,
        login=login,
        address=address,
        limits=list(scopes),
        retry_after=retry_after,
    )


async def get_employee_txn(uow: Uow, employee_id: int) -> Employee:
    employee = await uow.session.get(Employee, employee_id)
    if employee is None:
        raise NotFound("employee_not_found", f"no employee {employee_id}")
    return employee


async def create_employee_txn(uow: Uow, actor: Actor, data: EmployeeCreate) -> Employee:
    taken = await uow.session.scalar(select(exists().where(Employee.login == data.login)))
    if taken:
        raise Conflict("login_taken", f"the login {data.login!r} is taken")
    employee = Employee(
        login=data.login,
        full_name=data.full_name,
        password_hash=hash_password(data.password),
        permissions=sorted(set(data.permissions)),
        general_limit=data.general_limit,
        status="offline",
        status_changed_at=utcnow(),
        is_enabled=True,
        token_version=0,
    )
    try:
        async with uow.session.begin_nested():
            uow.session.add(employee)
            await uow.session.flush()
    except IntegrityError:
        # The same login raced in on another connection.
        raise Conflict("login_taken", f"the login {data.login!r} is taken") from None
    audit_txn(uow, actor, "employee_created", employee_id=employee.id, login=employee.login)
    return employee


async def update_employee_txn(
    uow: Uow, actor: Actor, employee_id: int, data: EmployeeUpdate
) -> Employee:
    await uow.lock_routing_txn()
    employee = await engine.employee_txn(uow, employee_id)
    if employee is None:
        raise NotFound("employee_not_found", f"no employee {employee_id}")
    given = data.model_fields_set
    reroute = False
    changes: dict[str, dict[str, object]] = {}
    if "full_name" in given and data.full_name is not None:
        if data.full_name != employee.full_name:
            changes["full_name"] = {"old": employee.full_name, "new": data.full_name}
        employee.full_name = data.full_name
    if "password" in given and data.password is not None:
        employee.password_hash = hash_password(data.password)
        employee.token_version += 1
        audit_txn(uow, actor, "password_changed", employee_id=employee.id)
    if "general_limit" in given:
        old = employee.general_limit
        if data.general_limit != old:
            changes["general_limit"] = {"old": old, "new": data.general_limit}
        employee.general_limit = data.general_limit
        reroute = reroute or data.general_limit is None or old is None or data.general_limit > old
    if changes:
        audit_txn(uow, actor, "employee_updated", employee_id=employee.id, changes=changes)
    if "permissions" in given and data.permissions is not None:
        had_general = employee.has("general_chat")
        previous_permissions = list(employee.permissions)
        employee.permissions = sorted(set(data.permissions))
        audit_txn(
            uow,
            actor,
            "permissions_changed",
            employee_id=employee.id,
            permissions=employee.permissions,
            previous_permissions=previous_permissions,
        )
        await uow.session.flush()
        if had_general and not employee.has("general_chat"):
            await engine.general_chat_revoked_txn(uow, employee.id, actor)
        reroute = reroute or (not had_general and employee.has("general_chat"))
    if (
        "is_enabled" in given
        and data.is_enabled is not None
        and data.is_enabled != employee.is_enabled
    ):
        if not data.is_enabled:
            await _disable_txn(uow, actor, employee)
        else:
            employee.is_enabled = True
            audit_txn(uow, actor, "employee_enabled", employee_id=employee.id)
            reroute = True
    await uow.session.flush()
    if reroute:
        await engine.route_general_txn(uow, actor)
    return employee


async def _disable_txn(uow: Uow, actor: Actor, employee: Employee) -> None:
    manages = await uow.session.scalar(
        select(exists().where(Client.personal_manager_id == employee.id))
    )
    if manages:
        raise Conflict(
            "employee_is_personal_manager",
            "this employee is still a client's personal manager: move their clients first",
        )
    was_active = employee.status == "active"
    employee.is_enabled = False
    employee.token_version += 1
    if was_active:
        await _set_status_row_txn(uow, actor, employee, "offline", cause="employee_disabled")
    audit_txn(uow, actor, "employee_disabled", employee_id=employee.id)
    await uow.session.flush()
    # SPEC 4.7: disabling counts as leaving `active` for routing.
    await engine.employee_left_active_txn(uow, employee.id, actor, disabled=True)


async def _set_status_row_txn(
    uow: Uow, actor: Actor, employee: Employee, status: str, *, cause: str | None = None
) -> None:
    """`cause` says why: `api` (someone chose it), or what made the server do it (`presence`,
    `employee_disabled`, ...); by default `api` for an employee or a person, `server` else."""
    old = employee.status
    employee.status = status
    employee.status_changed_at = utcnow()
    cause = cause or ("server" if actor.type == "system" else "api")
    audit_txn(
        uow,
        actor,
        "status_changed",
        employee_id=employee.id,
        old=old,
        new=status,
        by_server=cause != "api",
        cause=cause,
    )
    emit(
        uow,
        "employee.status_changed",
        {
            "employee_id": employee.id,
            "full_name": employee.full_name,
            "status": status,
            "previous_status": old,
            "changed_at": employee.status_changed_at.isoformat().replace("+00:00", "Z"),
        },
        Audience(employee_ids={employee.id}, all_employees=True),
    )


@dataclass(frozen=True)
class Caller:
    """The token of the employee asking for a change, checked in the change's own transaction
    (the status lane reads nothing before): the version it carries, and the permission the
    change needs beyond being that employee."""

    token_version: int
    permission: str | None = None


@dataclass(frozen=True)
class StatusChange:
    actor: Actor
    employee_id: int
    status: str
    cause: str | None = None
    caller: Caller | None = None  # None: checked already, or the server's own change


async def set_status_txn(
    uow: Uow, actor: Actor, employee_id: int, status: str, *, cause: str | None = None
) -> Employee:
    """Change an employee's status with every routing consequence (SPEC 4.4-4.5, 5.1, 5.4, 6.2)."""
    (outcome,) = await set_statuses_txn(uow, [StatusChange(actor, employee_id, status, cause)])
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def _refusal(change: StatusChange, employees: dict[int, Employee]) -> DomainError | None:
    """Why a change may not be made, in the order every endpoint checks: the caller's token,
    their permission, then the employee it is about."""
    if change.caller is not None:
        caller = employees.get(change.actor.id) if change.actor.id is not None else None
        if not token_still_holds(caller, change.caller.token_version):
            return no_longer_valid()
        assert caller is not None
        if change.caller.permission and not caller.has(change.caller.permission):
            return missing_permission(change.caller.permission)
    employee = employees.get(change.employee_id)
    if employee is None:
        return NotFound("employee_not_found", f"no employee {change.employee_id}")
    if not employee.is_enabled:
        return Conflict("employee_disabled", "a disabled employee has no working status")
    return None


async def set_statuses_txn(
    uow: Uow, changes: Sequence[StatusChange]
) -> list[Employee | DomainError]:
    """Several status changes in one transaction, in order, each with its routing consequences,
    and one general routing pass at the end for all of them (SPEC 4.1-4.5, 5.1, 5.4, 6.2).

    The outcome of each is the employee, or the error that refused it; a refused change writes
    nothing (it is refused before its first write), so the others stand. One pass sees every
    operator who became active and every appeal requeued, as if the changes had come at the same
    instant; the pass is recorded as caused by the last change that called for it.
    """
    await uow.lock_routing_txn()
    # Every employee of the batch in one read, fresh under the lock, and held here: the session
    # keeps unchanged objects only weakly, and a lookup that missed would read and flush again.
    ids = {change.employee_id for change in changes}
    ids |= {c.actor.id for c in changes if c.caller is not None and c.actor.id is not None}
    loaded = await uow.session.execute(
        select(Employee).where(Employee.id.in_(ids)).execution_options(populate_existing=True)
    )
    employees = {employee.id: employee for employee in loaded.scalars()}
    outcomes: list[Employee | DomainError] = []
    routed_by: Actor | None = None
    # Consecutive changes to `active` of different employees have independent consequences;
    # they are settled together (one read of the PM appeals waiting for them), and before any
    # other kind of change, so the order of the changes is kept.
    becoming_active: dict[int, Actor] = {}

    async def settle() -> None:
        if becoming_active:
            await uow.session.flush()
            await engine.employees_became_active_txn(uow, list(becoming_active.items()))
            becoming_active.clear()

    for change in changes:
        refusal = _refusal(change, employees)
        if refusal is not None:
            outcomes.append(refusal)
            continue
        employee = employees[change.employee_id]
        outcomes.append(employee)
        old = employee.status
        if old == change.status:
            continue
        if change.status != "active" or employee.id in becoming_active:
            await settle()
        await _set_status_row_txn(uow, change.actor, employee, change.status, cause=change.cause)
        if old == "active":
            await uow.session.flush()
            await engine.employee_left_active_txn(uow, employee.id, change.actor, route=False)
        elif change.status == "active":
            becoming_active[employee.id] = change.actor
        else:
            continue  # between break and offline: nothing to route
        routed_by = change.actor
    await settle()
    if routed_by is not None:
        await uow.session.flush()
        await engine.route_general_txn(uow, routed_by)
    return outcomes


async def update_settings_txn(uow: Uow, actor: Actor, data: SettingsUpdate) -> RoutingSettings:
    await uow.lock_routing_txn()
    settings = await engine.settings_txn(uow)
    changes: dict[str, dict[str, object]] = {}
    for name in sorted(data.model_fields_set):
        value = getattr(data, name)
        if value is None:
            raise BadRequest("validation_error", f"{name}: must not be null")
        changes[name] = {"old": getattr(settings, name), "new": value}
        setattr(settings, name, value)
    audit_txn(uow, actor, "settings_changed", changes=changes)
    await uow.session.flush()
    await engine.route_general_txn(uow, actor)
    return settings
