"""The first administrator, from the environment or the command line."""

from __future__ import annotations

from sqlalchemy import exists, select

from switchboard.auth.passwords import hash_password
from switchboard.config import Settings
from switchboard.db.session import Database
from switchboard.kit.clock import utcnow
from switchboard.people.models import PERMISSIONS, Employee


async def create_admin(db: Database, login: str, password: str, full_name: str) -> Employee:
    async with db.uow() as uow:
        employee = Employee(
            login=login,
            full_name=full_name,
            password_hash=hash_password(password),
            permissions=list(PERMISSIONS),
            status="offline",
            status_changed_at=utcnow(),
            is_enabled=True,
            token_version=0,
        )
        uow.session.add(employee)
        await uow.commit()
        return employee


async def ensure_admin_from_env(db: Database, settings: Settings) -> None:
    """At start, if no employee exists yet, SWITCHBOARD_ADMIN_LOGIN/PASSWORD becomes one."""
    if not settings.admin_login or not settings.admin_password:
        return
    async with db.uow() as uow:
        await uow.lock_routing_txn()
        if await uow.session.scalar(select(exists().where(Employee.id.is_not(None)))):
            return
        uow.session.add(
            Employee(
                login=settings.admin_login,
                full_name="Administrator",
                password_hash=hash_password(settings.admin_password),
                permissions=list(PERMISSIONS),
                status="offline",
                status_changed_at=utcnow(),
                is_enabled=True,
                token_version=0,
            )
        )
        await uow.commit()
