from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from switchboard.auth.tokens import TokenClaims, TokenSigner
from switchboard.config import Settings
from switchboard.db.session import Database, Uow
from switchboard.kit.errors import Forbidden, NotFound, Unauthorized
from switchboard.kit.schemas import MAX_ID
from switchboard.people.models import Client, Employee, Person


@dataclass(frozen=True)
class Actor:
    """Who caused a change, as recorded in histories: an employee, a person, or the server."""

    type: str  # "employee" | "person" | "system"
    id: int | None

    @staticmethod
    def system() -> Actor:
        return Actor("system", None)


@dataclass
class Principal:
    employee: Employee | None = None
    person: Person | None = None
    client: Client | None = None

    @property
    def actor(self) -> Actor:
        if self.employee is not None:
            return Actor("employee", self.employee.id)
        assert self.person is not None
        return Actor("person", self.person.id)

    def require_employee(self) -> Employee:
        if self.employee is None:
            raise employee_only()
        return self.employee

    def require_person(self) -> Person:
        if self.person is None:
            raise Forbidden("person_only", "this action is for a client's person")
        return self.person

    def require(self, permission: str) -> Employee:
        employee = self.require_employee()
        if not employee.has(permission):
            raise missing_permission(permission)
        return employee

    def has(self, permission: str) -> bool:
        return self.employee is not None and self.employee.has(permission)


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_signer(request: Request) -> TokenSigner:
    signer: TokenSigner = request.app.state.signer
    return signer


# Dependencies are `async def`: FastAPI runs a plain `def` dependency in a worker thread.
async def get_uow(request: Request) -> AsyncIterator[Uow]:
    async with get_db(request).uow() as uow:
        yield uow


async def _settings_dep(request: Request) -> Settings:
    return get_settings_dep(request)


async def _signer_dep(request: Request) -> TokenSigner:
    return get_signer(request)


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def verify_token(signer: TokenSigner, token: str | None) -> TokenClaims:
    """The token's signature and expiry; whether its subject still holds is `principal_of`."""
    if token is None:
        raise Unauthorized("unauthorized", "a bearer token is required")
    claims = signer.verify(token)
    if claims is None:
        raise Unauthorized("invalid_token", "the token is invalid or has expired")
    return claims


def employee_only() -> Forbidden:
    return Forbidden("employee_only", "this action is for bank employees")


def missing_permission(permission: str) -> Forbidden:
    return Forbidden("permission_denied", f"the permission {permission} is required")


def token_still_holds(subject: Employee | Person | None, version: int) -> bool:
    """Its subject exists, is enabled, and has not had its tokens revoked since."""
    return subject is not None and subject.is_enabled and subject.token_version == version


def no_longer_valid() -> Unauthorized:
    return Unauthorized("invalid_token", "the token is no longer valid")


async def principal_of(uow: Uow, claims: TokenClaims) -> Principal:
    if claims.subject_type == "employee":
        employee = await uow.session.get(Employee, claims.subject_id)
        if not token_still_holds(employee, claims.version):
            raise no_longer_valid()
        return Principal(employee=employee)
    person = await uow.session.get(Person, claims.subject_id)
    if not token_still_holds(person, claims.version):
        raise no_longer_valid()
    assert person is not None
    client = await uow.session.get(Client, person.client_id)
    return Principal(person=person, client=client)


async def resolve_token(uow: Uow, signer: TokenSigner, token: str | None) -> Principal:
    return await principal_of(uow, verify_token(signer, token))


async def get_principal(request: Request, uow: Annotated[Uow, Depends(get_uow)]) -> Principal:
    return await resolve_token(uow, get_signer(request), bearer_token(request))


async def known_path_ids(request: Request) -> None:
    """An id in the path beyond any key a row can have is unknown: `404`, never a database
    error. The token is checked first, as it is for every other id."""
    for value in request.path_params.values():
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        if abs(number) > MAX_ID:
            async with get_db(request).uow() as uow:
                await resolve_token(uow, get_signer(request), bearer_token(request))
            raise NotFound("not_found", "no such resource")


async def get_claims(request: Request) -> TokenClaims:
    return verify_token(get_signer(request), bearer_token(request))


UowDep = Annotated[Uow, Depends(get_uow)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
# Only the token's signature and expiry, for an endpoint that checks its subject itself.
ClaimsDep = Annotated[TokenClaims, Depends(get_claims)]
SignerDep = Annotated[TokenSigner, Depends(_signer_dep)]
SettingsDep = Annotated[Settings, Depends(_settings_dep)]
