"""One OS process of the race test: fires routing triggers at random through the services."""

from __future__ import annotations

import asyncio
import random
import traceback

from switchboard.auth.principals import Actor, Principal
from switchboard.db.session import Database
from switchboard.dialogs import service as dialogs
from switchboard.kit.errors import DomainError
from switchboard.people import clients as client_service
from switchboard.people import service as people
from switchboard.people.models import Client, Employee, Person


async def _run(url: str, seed: int, operations: int, tasks: int) -> tuple[int, list[str]]:
    db = Database(url, pool_size=tasks)
    rng = random.Random(seed)
    done = 0
    errors: list[str] = []

    async def one_task(task_seed: int) -> None:
        nonlocal done
        trng = random.Random(task_seed)
        for _ in range(operations):
            async with db.uow() as uow:
                try:
                    await _step(uow, trng)
                    await uow.commit()
                    done += 1
                except DomainError:
                    await uow.rollback()
                except Exception:  # a deadlock or a broken invariant shows up here
                    errors.append(traceback.format_exc(limit=3))
                    await uow.rollback()

    try:
        await asyncio.gather(*(one_task(rng.randrange(1 << 30)) for _ in range(tasks)))
    finally:
        await db.dispose()
    return done, errors


async def _step(uow, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    s = uow.session
    roll = rng.random()
    if roll < 0.5:
        person = rng.choice(list((await s.execute(select(Person))).scalars().all()))
        client = await s.get(Client, person.client_id)
        principal = Principal(person=person, client=client)
        kind = rng.choice(["general", "personal_manager"])
        dialog, _ = await dialogs.get_or_create_dialog_txn(uow, principal, kind, None)
        await dialogs.post_message_txn(uow, principal, dialog.id, f"msg {rng.random()}", None)
    elif roll < 0.8:
        employees = [
            e for e in (await s.execute(select(Employee))).scalars().all() if e.login != "admin"
        ]
        employee = rng.choice(employees)
        status = rng.choice(["active", "active", "break", "offline"])
        await people.set_status_txn(uow, Actor("employee", employee.id), employee.id, status)
    elif roll < 0.9:
        clients = list((await s.execute(select(Client))).scalars().all())
        managers = [
            e
            for e in (await s.execute(select(Employee))).scalars().all()
            if e.login.startswith("pm")
        ]
        client = rng.choice(clients)
        target = rng.choice([*managers, None])
        admin = await s.scalar(select(Employee).where(Employee.login == "admin"))
        await client_service.set_manager_txn(
            uow, Actor("employee", admin.id), client.id, target.id if target else None
        )
    else:
        from switchboard.appeals import service as appeals
        from switchboard.appeals.models import Appeal

        open_ids = list(
            (await s.execute(select(Appeal.id).where(Appeal.status != "closed"))).scalars().all()
        )
        if not open_ids:
            return
        admin = await s.scalar(select(Employee).where(Employee.login == "admin"))
        await appeals.close_appeal_txn(uow, Principal(employee=admin), rng.choice(open_ids))


def run_worker(url: str, seed: int, operations: int, tasks: int) -> tuple[int, list[str]]:
    return asyncio.run(_run(url, seed, operations, tasks))
