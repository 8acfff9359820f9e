"""Presence (SPEC 10): live connections recorded in the database, so that every process and a
restarted one agree; an `active` employee whose connections have all been gone for the grace
period is set `offline` by the server, with every routing consequence."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, exists, func, select, update

from switchboard.auth.principals import Actor
from switchboard.db.session import Database, Uow
from switchboard.events.models import LiveConnection
from switchboard.kit.clock import utcnow
from switchboard.people import service
from switchboard.people.models import Employee
from switchboard.routing import engine

# Each process refreshes its connections every heartbeat; one not refreshed for this many
# heartbeats belongs to a process that died.
STALE_HEARTBEATS = 3


async def connected(db: Database, connection_id: str, employee_id: int, process_id: str) -> None:
    async with db.uow() as uow:
        now = utcnow()
        uow.session.add(
            LiveConnection(
                id=connection_id,
                employee_id=employee_id,
                process_id=process_id,
                connected_at=now,
                last_seen_at=now,
            )
        )
        await uow.session.execute(
            update(Employee).where(Employee.id == employee_id).values(disconnected_at=None)
        )
        await uow.commit()


async def disconnected(db: Database, connection_id: str, employee_id: int) -> None:
    async with db.uow() as uow:
        await uow.session.execute(delete(LiveConnection).where(LiveConnection.id == connection_id))
        await _mark_dark_if_alone_txn(uow, employee_id, utcnow())
        await uow.commit()


async def _mark_dark_if_alone_txn(uow: Uow, employee_id: int, since: object) -> None:
    others = await uow.session.scalar(
        select(exists().where(LiveConnection.employee_id == employee_id))
    )
    if not others:
        await uow.session.execute(
            update(Employee).where(Employee.id == employee_id).values(disconnected_at=since)
        )


async def heartbeat(db: Database, process_id: str) -> None:
    async with db.uow() as uow:
        await uow.session.execute(
            update(LiveConnection)
            .where(LiveConnection.process_id == process_id)
            .values(last_seen_at=utcnow())
        )
        await uow.commit()


async def presence_sweep_txn(uow: Uow, heartbeat_seconds: float) -> list[int]:
    """Forget connections of dead processes; set `offline` whoever has been dark for the grace
    period since they last chose a status. Returns the employees set offline."""
    await uow.lock_routing_txn()
    now = utcnow()
    stale_before = now - timedelta(seconds=heartbeat_seconds * STALE_HEARTBEATS)
    stale = (
        await uow.session.execute(
            select(LiveConnection.employee_id, func.max(LiveConnection.last_seen_at))
            .where(LiveConnection.last_seen_at < stale_before)
            .group_by(LiveConnection.employee_id)
        )
    ).all()
    if stale:
        await uow.session.execute(
            delete(LiveConnection).where(LiveConnection.last_seen_at < stale_before)
        )
        for employee_id, last_seen in stale:
            await _mark_dark_if_alone_txn(uow, employee_id, last_seen)
    settings = await engine.settings_txn(uow)
    deadline = now - timedelta(seconds=settings.offline_grace_seconds)
    dark = (
        (
            await uow.session.execute(
                select(Employee.id).where(
                    Employee.status == "active",
                    Employee.is_enabled.is_(True),
                    Employee.disconnected_at.is_not(None),
                    Employee.disconnected_at <= deadline,
                    # They went dark after they last chose a status: one who set `active`
                    # through the API without connecting is left alone.
                    Employee.disconnected_at > Employee.status_changed_at,
                    ~exists().where(LiveConnection.employee_id == Employee.id),
                )
            )
        )
        .scalars()
        .all()
    )
    for employee_id in dark:
        await service.set_status_txn(uow, Actor.system(), employee_id, "offline", cause="presence")
    return list(dark)
