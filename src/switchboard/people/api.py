from __future__ import annotations

from fastapi import APIRouter, Query, Request
from sqlalchemy import select

from switchboard.auth import throttle
from switchboard.auth.principals import (
    Actor,
    ClaimsDep,
    PrincipalDep,
    SettingsDep,
    SignerDep,
    UowDep,
    employee_only,
    get_db,
    principal_of,
)
from switchboard.auth.tokens import TokenClaims
from switchboard.dialogs.models import Dialog
from switchboard.kit.api import AUTHED, DEFAULT_PAGE, NO_CONTROLS, Limit, problems
from switchboard.kit.errors import NotFound, TooManyRequests, Unauthorized
from switchboard.kit.pagination import Page, cursor_int, decode_cursor, encode_cursor, keyset_page
from switchboard.kit.text import fold
from switchboard.people import clients as client_service
from switchboard.people import service
from switchboard.people.models import Client, Employee, Person, PersonalManagerChange
from switchboard.people.schemas import (
    ClientCreate,
    ClientOut,
    EmployeeCreate,
    EmployeeOut,
    EmployeeUpdate,
    MeClient,
    MeClientPerson,
    MoveIn,
    MoveOut,
    PersonalManagerChangeOut,
    PersonalManagerIn,
    PersonCreate,
    PersonMe,
    PersonOut,
    PersonUpdate,
    SettingsOut,
    SettingsUpdate,
    StatusIn,
    StatusOut,
    TokenIn,
    TokenOut,
)
from switchboard.people.status_lane import StatusLane
from switchboard.routing import engine

router = APIRouter(prefix="/api/v1")


@router.post("/auth/token", response_model=TokenOut, responses=problems(401, 422, 429))
async def issue_token(
    body: TokenIn, request: Request, uow: UowDep, signer: SignerDep, settings: SettingsDep
) -> TokenOut:
    # Behind a proxy, uvicorn's --proxy-headers (FORWARDED_ALLOW_IPS) makes this the client's.
    address = request.client.host if request.client else None
    policy = throttle.ThrottlePolicy.from_settings(settings)
    verdict = await throttle.count_attempt_txn(uow, policy, body.login, address)
    if not verdict.allowed:
        await service.login_throttled_txn(
            uow, body.login, address, verdict.scopes, verdict.retry_after
        )
        await uow.commit()
        raise TooManyRequests(
            "too_many_attempts",
            "too many failed logins: try again later",
            headers={"Retry-After": str(verdict.retry_after)},
            retry_after=verdict.retry_after,
        )
    # The attempt is counted (and visible to every process) before the password is checked.
    await uow.commit()
    try:
        out = await service.authenticate_txn(
            uow,
            signer,
            body.login,
            body.password,
            settings.employee_token_ttl_seconds,
            address=address,
        )
    except Unauthorized:
        await throttle.forget_expired_txn(uow, policy)
        await uow.commit()  # the failed attempt is audited
        raise
    await throttle.login_succeeded_txn(uow, body.login, address)
    await uow.commit()
    return out


@router.get("/me", response_model=EmployeeOut | PersonMe, responses=problems(*AUTHED))
async def me(uow: UowDep, principal: PrincipalDep) -> EmployeeOut | PersonMe:
    if principal.employee is not None:
        return service.employee_out(principal.employee)
    person = principal.require_person()
    assert principal.client is not None
    return PersonMe(
        id=person.id,
        client_id=person.client_id,
        name=person.name,
        external_id=person.external_id,
        is_enabled=person.is_enabled,
        client=await client_service.client_out_txn(uow, principal.client),
    )


@router.post(
    "/employees",
    status_code=201,
    response_model=EmployeeOut,
    responses=problems(*AUTHED, 403, 409),
)
async def create_employee(
    body: EmployeeCreate, uow: UowDep, principal: PrincipalDep
) -> EmployeeOut:
    principal.require("manage_employees")
    employee = await service.create_employee_txn(uow, principal.actor, body)
    await uow.commit()
    return service.employee_out(employee)


@router.get("/employees", response_model=Page[EmployeeOut], responses=problems(*AUTHED, 403))
async def list_employees(
    uow: UowDep,
    principal: PrincipalDep,
    limit: Limit = DEFAULT_PAGE,
    cursor: str | None = None,
    status: str | None = Query(default=None, pattern="^(active|break|offline)$"),
    permission: str | None = None,
) -> Page[EmployeeOut]:
    principal.require_employee()
    after = cursor_int(decode_cursor(cursor), "id")
    stmt = select(Employee).order_by(Employee.id)
    if after is not None:
        stmt = stmt.where(Employee.id > after)
    if status is not None:
        stmt = stmt.where(Employee.status == status)
    rows = list((await uow.session.execute(stmt)).scalars().all())
    if permission is not None:
        rows = [e for e in rows if e.has(permission)]
    page = rows[:limit]
    more = len(rows) > limit
    return Page(
        items=[service.employee_out(e) for e in page],
        next_cursor=encode_cursor({"id": page[-1].id}) if more and page else None,
    )


@router.get(
    "/employees/{employee_id}", response_model=EmployeeOut, responses=problems(*AUTHED, 403, 404)
)
async def get_employee(employee_id: int, uow: UowDep, principal: PrincipalDep) -> EmployeeOut:
    principal.require_employee()
    return service.employee_out(await service.get_employee_txn(uow, employee_id))


@router.patch(
    "/employees/{employee_id}",
    response_model=EmployeeOut,
    responses=problems(*AUTHED, 403, 404, 409),
)
async def update_employee(
    employee_id: int, body: EmployeeUpdate, uow: UowDep, principal: PrincipalDep
) -> EmployeeOut:
    principal.require("manage_employees")
    employee = await service.update_employee_txn(uow, principal.actor, employee_id, body)
    await uow.commit()
    return service.employee_out(employee)


async def _change_status(
    request: Request, claims: TokenClaims, employee_id: int, status: str, permission: str | None
) -> StatusOut:
    """Through the status lane (changes arriving together share a transaction), which checks
    that the caller's token still holds in the change's own transaction: a status change
    costs its request no database work of its own."""
    if claims.subject_type != "employee":
        # A person's token: the errors the other endpoints give it.
        async with get_db(request).uow() as uow:
            await principal_of(uow, claims)  # 401 if it no longer holds
        raise employee_only()
    change = service.StatusChange(
        Actor("employee", claims.subject_id),
        employee_id,
        status,
        caller=service.Caller(claims.version, permission),
    )
    lane: StatusLane = request.app.state.status_lane
    return StatusOut(status=await lane.change(change))


@router.put("/me/status", response_model=StatusOut, responses=problems(*AUTHED, 403, 409))
async def set_my_status(request: Request, body: StatusIn, claims: ClaimsDep) -> StatusOut:
    return await _change_status(request, claims, claims.subject_id, body.status, None)


@router.put(
    "/employees/{employee_id}/status",
    response_model=StatusOut,
    responses=problems(*AUTHED, 403, 404, 409),
)
async def set_employee_status(
    request: Request, employee_id: int, body: StatusIn, claims: ClaimsDep
) -> StatusOut:
    return await _change_status(request, claims, employee_id, body.status, "supervise")


@router.get("/settings", response_model=SettingsOut, responses=problems(*AUTHED, 403))
async def get_settings(uow: UowDep, principal: PrincipalDep) -> SettingsOut:
    principal.require_employee()
    return SettingsOut.model_validate(await engine.settings_txn(uow))


@router.patch("/settings", response_model=SettingsOut, responses=problems(*AUTHED, 403))
async def update_settings(
    body: SettingsUpdate, uow: UowDep, principal: PrincipalDep
) -> SettingsOut:
    principal.require("manage_employees")
    settings = await service.update_settings_txn(uow, principal.actor, body)
    out = SettingsOut.model_validate(settings)
    await uow.commit()
    return out


@router.post(
    "/clients", status_code=201, response_model=ClientOut, responses=problems(*AUTHED, 403, 409)
)
async def create_client(body: ClientCreate, uow: UowDep, principal: PrincipalDep) -> ClientOut:
    principal.require("manage_clients")
    client = await client_service.create_client_txn(uow, principal.actor, body)
    out = await client_service.client_out_txn(uow, client)
    await uow.commit()
    return out


@router.get("/clients", response_model=Page[ClientOut], responses=problems(*AUTHED, 403))
async def list_clients(
    uow: UowDep,
    principal: PrincipalDep,
    q: str | None = Query(default=None, max_length=200, pattern=NO_CONTROLS),
    external_id: str | None = Query(default=None, max_length=200, pattern=NO_CONTROLS),
    limit: Limit = DEFAULT_PAGE,
    cursor: str | None = None,
) -> Page[ClientOut]:
    employee = principal.require_employee()
    if external_id is not None:
        principal.require("manage_clients")
    elif not any(
        employee.has(p) for p in ("supervise", "manage_clients", "manage_personal_managers")
    ):
        principal.require("supervise")
    stmt = select(Client)
    if external_id is not None:
        stmt = stmt.where(Client.external_id == external_id)
    if q:
        escaped = fold(q).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Client.name_folded.like(f"%{escaped}%", escape="\\"))
    page, next_cursor = await keyset_page(uow.session, stmt, Client.id, cursor, limit)
    return Page(
        items=[await client_service.client_out_txn(uow, c) for c in page],
        next_cursor=next_cursor,
    )


@router.get("/me/clients", response_model=Page[MeClient], responses=problems(*AUTHED, 403))
async def my_clients(
    uow: UowDep,
    principal: PrincipalDep,
    q: str | None = Query(default=None, max_length=200, pattern=NO_CONTROLS),
    limit: Limit = DEFAULT_PAGE,
    cursor: str | None = None,
) -> Page[MeClient]:
    employee = principal.require_employee()
    stmt = select(Client).where(Client.personal_manager_id == employee.id)
    if q:
        escaped = fold(q).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Client.name_folded.like(f"%{escaped}%", escape="\\"))
    page, next_cursor = await keyset_page(uow.session, stmt, Client.id, cursor, limit)
    items: list[MeClient] = []
    for client in page:
        persons = await uow.session.execute(
            select(Person, Dialog.id)
            .outerjoin(
                Dialog,
                (Dialog.person_id == Person.id) & (Dialog.kind == "personal_manager"),
            )
            .where(Person.client_id == client.id)
            .order_by(Person.id)
        )
        items.append(
            MeClient(
                id=client.id,
                kind=client.kind,
                name=client.name,
                external_id=client.external_id,
                persons=[
                    MeClientPerson(
                        id=p.id,
                        client_id=p.client_id,
                        name=p.name,
                        external_id=p.external_id,
                        is_enabled=p.is_enabled,
                        personal_manager_dialog_id=dialog_id,
                    )
                    for p, dialog_id in persons
                ],
            )
        )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/clients/{client_id}", response_model=ClientOut, responses=problems(*AUTHED, 403, 404))
async def get_client(client_id: int, uow: UowDep, principal: PrincipalDep) -> ClientOut:
    principal.require_employee()
    client = await client_service.visible_client_txn(uow, principal, client_id)
    return await client_service.client_out_txn(uow, client)


@router.post(
    "/clients/{client_id}/persons",
    status_code=201,
    response_model=PersonOut,
    responses=problems(*AUTHED, 403, 404, 409),
)
async def create_person(
    client_id: int, body: PersonCreate, uow: UowDep, principal: PrincipalDep
) -> PersonOut:
    principal.require("manage_clients")
    person = await client_service.create_person_txn(uow, principal.actor, client_id, body)
    await uow.commit()
    return PersonOut.model_validate(person)


@router.get(
    "/clients/{client_id}/persons",
    response_model=Page[PersonOut],
    responses=problems(*AUTHED, 403, 404),
)
async def list_persons(
    client_id: int,
    uow: UowDep,
    principal: PrincipalDep,
    limit: Limit = DEFAULT_PAGE,
    cursor: str | None = None,
) -> Page[PersonOut]:
    employee = principal.require_employee()
    client = await uow.session.get(Client, client_id)
    if client is None:
        raise NotFound("client_not_found", f"no client {client_id}")
    allowed = (
        employee.has("manage_clients")
        or employee.has("supervise")
        or client.personal_manager_id == employee.id
    )
    if not allowed:
        if await client_service.may_see_client_txn(uow, principal, client):
            principal.require("manage_clients")
        raise NotFound("client_not_found", f"no client {client_id}")
    page, next_cursor = await keyset_page(
        uow.session, select(Person).where(Person.client_id == client_id), Person.id, cursor, limit
    )
    return Page(items=[PersonOut.model_validate(p) for p in page], next_cursor=next_cursor)


@router.patch(
    "/persons/{person_id}", response_model=PersonOut, responses=problems(*AUTHED, 403, 404)
)
async def update_person(
    person_id: int, body: PersonUpdate, uow: UowDep, principal: PrincipalDep
) -> PersonOut:
    principal.require("manage_clients")
    person = await client_service.update_person_txn(uow, principal.actor, person_id, body)
    await uow.commit()
    return PersonOut.model_validate(person)


@router.post(
    "/persons/{person_id}/token",
    response_model=TokenOut,
    responses=problems(*AUTHED, 403, 404, 409),
)
async def issue_person_token(
    person_id: int, uow: UowDep, principal: PrincipalDep, signer: SignerDep, settings: SettingsDep
) -> TokenOut:
    principal.require("issue_person_tokens")
    out = await client_service.issue_person_token_txn(
        uow, principal.actor, signer, person_id, settings.person_token_ttl_seconds
    )
    await uow.commit()
    return out


def _change_out(change: PersonalManagerChange) -> PersonalManagerChangeOut:
    return PersonalManagerChangeOut(
        client_id=change.client_id,
        personal_manager_id=change.employee_id,
        previous_personal_manager_id=change.previous_employee_id,
        changed_at=change.changed_at,
        changed_by=change.changed_by,
    )


@router.put(
    "/clients/{client_id}/personal-manager",
    response_model=PersonalManagerChangeOut,
    responses=problems(*AUTHED, 403, 404),
)
async def set_personal_manager(
    client_id: int, body: PersonalManagerIn, uow: UowDep, principal: PrincipalDep
) -> PersonalManagerChangeOut:
    principal.require("manage_personal_managers")
    change = await client_service.set_manager_txn(uow, principal.actor, client_id, body.employee_id)
    await uow.commit()
    return _change_out(change)


@router.get(
    "/clients/{client_id}/personal-manager/history",
    response_model=Page[PersonalManagerChangeOut],
    responses=problems(*AUTHED, 403, 404),
)
async def personal_manager_history(
    client_id: int,
    uow: UowDep,
    principal: PrincipalDep,
    limit: Limit = DEFAULT_PAGE,
    cursor: str | None = None,
) -> Page[PersonalManagerChangeOut]:
    employee = principal.require_employee()
    if not (employee.has("manage_personal_managers") or employee.has("supervise")):
        principal.require("manage_personal_managers")
    if await uow.session.get(Client, client_id) is None:
        raise NotFound("client_not_found", f"no client {client_id}")
    page, next_cursor = await keyset_page(
        uow.session,
        select(PersonalManagerChange).where(PersonalManagerChange.client_id == client_id),
        PersonalManagerChange.id,
        cursor,
        limit,
        newest_first=True,
    )
    return Page(items=[_change_out(c) for c in page], next_cursor=next_cursor)


@router.post("/personal-managers/moves", response_model=MoveOut, responses=problems(*AUTHED, 403))
async def move_portfolio(body: MoveIn, uow: UowDep, principal: PrincipalDep) -> MoveOut:
    principal.require("manage_personal_managers")
    out = await client_service.move_portfolio_txn(
        uow, principal.actor, body.from_employee_id, body.to_employee_id
    )
    if body.dry_run:
        await uow.rollback()
        return out.model_copy(update={"dry_run": True})
    await uow.commit()
    return out
