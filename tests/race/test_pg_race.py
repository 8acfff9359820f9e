"""SPEC 9 under real concurrency: several OS processes fire routing triggers at once on one
PostgreSQL (status flips, client messages, manager changes, closes); the invariants hold."""

from __future__ import annotations

import asyncio
import multiprocessing

import pytest

from switchboard.auth.principals import Actor
from switchboard.db.session import Database
from switchboard.people import clients as client_service
from switchboard.people import service as people
from switchboard.people.schemas import ClientCreate, EmployeeCreate, PersonCreate
from tests.invariants import snapshot, violations
from tests.race.worker import run_worker

pytestmark = pytest.mark.postgres_only

PROCESSES = 4
TASKS_PER_PROCESS = 3
OPERATIONS_PER_TASK = 40


async def _build_world(url: str) -> None:
    db = Database(url)
    system = Actor.system()
    async with db.uow() as uow:
        everything = [
            "general_chat",
            "supervise",
            "manage_personal_managers",
            "manage_employees",
            "manage_clients",
            "issue_person_tokens",
        ]
        await people.create_employee_txn(
            uow,
            system,
            EmployeeCreate(login="admin", full_name="A", password="x" * 8, permissions=everything),  # type: ignore[arg-type]
        )
        for i in range(3):
            await people.create_employee_txn(
                uow,
                system,
                EmployeeCreate(
                    login=f"op{i}",
                    full_name=f"Op {i}",
                    password="x" * 8,
                    permissions=["general_chat"],
                    general_limit=2,
                ),
            )
        for i in range(3):
            await people.create_employee_txn(
                uow,
                system,
                EmployeeCreate(
                    login=f"pm{i}",
                    full_name=f"PM {i}",
                    password="x" * 8,
                    permissions=["general_chat"] if i == 0 else [],
                    general_limit=1,
                ),
            )
        for i in range(8):
            client = await client_service.create_client_txn(
                uow, system, ClientCreate(kind="individual", name=f"Client {i}")
            )
            for j in range(2):
                await client_service.create_person_txn(
                    uow, system, client.id, PersonCreate(name=f"Person {i}.{j}")
                )
        await uow.commit()
    await db.dispose()


async def test_spec_9_invariants_hold_under_concurrent_processes(database_url: str) -> None:
    await _build_world(database_url)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(PROCESSES) as pool:
        results = await asyncio.to_thread(
            pool.starmap,
            run_worker,
            [
                (database_url, seed, OPERATIONS_PER_TASK, TASKS_PER_PROCESS)
                for seed in range(PROCESSES)
            ],
        )
    done = sum(r[0] for r in results)
    errors = [e for r in results for e in r[1]]
    assert not errors, errors[0]
    assert done > PROCESSES * TASKS_PER_PROCESS * OPERATIONS_PER_TASK // 3

    db = Database(database_url)
    try:
        snap = await snapshot(db)
        assert len(snap.appeals) > 20
        assert violations(snap) == []
    finally:
        await db.dispose()
