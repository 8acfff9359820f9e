"""The first administrator, from the environment or the command line."""

from __future__ import annotations

from sqlalchemy import exists, select

from switchboard.auth.passwords import hash_password
from switchboard.config import Settings
from switchboard.db.session import Database
from switchboard.kit.clock import utcnow
from switchboard.people.models import PERMISSIONS, Employee


def _administrator(login: str, password: str, full_name: str) -> Employee:
    return Employee(
        login=login,
        full_name=full_name,
        password_hash=hash_password(password),
        permissions=list(PERMISSIONS),
        status="offline",
        status_changed_at=utcnow(),
        is_enabled=True,
        token_version=0,
    )


async def create_admin(db: Database, login: str, password: str, full_name: str) -> Employee:
    async with db.uow() as uow:
        employee = _administrator(login, password, full_name)
        uow.session.add(employee)
        await uow.commit()
        return employee


async def ensure_admin_from_env(db: Database, settings: Settings) -> None:
    """At start, if no employee exists yet, SWITCHBOARD_ADMIN_LOGIN/PASSWORD becomes one."""
    if not settings.admin_login or not settings.admin_password:
        return
    async with db.uow() as uow:
        await uow.lock_routing_txn()  # several processes starting at once create one
        if await uow.session.scalar(select(exists().where(Employee.id.is_not(None)))):
            return
        uow.session.add(
            _administrator(settings.admin_login, settings.admin_password, "Administrator")
        )
        await uow.commit()
