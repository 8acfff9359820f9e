"""A hypothesis state machine over the whole service, through the HTTP API.

Random status changes, messages from both sides, manager changes, closes, invitations and
transfers over several employees and clients. After every step the database is checked against
SPEC 9.1-9.4 and against a small reference model of SPEC 5-6 written from the prose: who must
hold each open personal-manager appeal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from switchboard.app import create_app
from switchboard.config import Settings
from tests.invariants import snapshot, violations
from tests.support import Emp, PersonRef, World

T = TypeVar("T")
MANAGERS = 3
OPERATORS = 2
CLIENTS = 4
STATUSES = ["active", "break", "offline"]


class ServiceMachine(RuleBasedStateMachine):
    fresh_database: Callable[[], str]

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.app = create_app(
            Settings(database_url=type(self).fresh_database(), secret_key="machine"),
            run_sweeper_task=False,
        )
        self.lifespan = self.app.router.lifespan_context(self.app)
        self.run(self.lifespan.__aenter__())
        self.api = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://machine"
        )
        self.world: World = self.run(World.start(self.api, self.app))
        # reference model
        self.status: dict[int, str] = {}
        self.pm_of: dict[int, int | None] = {}
        self.pm_holder: dict[int, int | None] = {}  # open PM appeal id -> expected holder
        self.client_of_appeal: dict[int, int] = {}

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.api.aclose())
        self.run(self.lifespan.__aexit__(None, None, None))
        self.loop.close()

    @initialize()
    def build(self) -> None:
        async def build() -> None:
            w = self.world
            self.managers: list[Emp] = [await w.manager() for _ in range(MANAGERS)]
            self.operators: list[Emp] = [await w.operator(limit=2) for _ in range(OPERATORS)]
            self.supervisor: Emp = await w.supervisor()
            self.persons: list[PersonRef] = []
            for i in range(CLIENTS):
                manager = self.managers[i % MANAGERS] if i < MANAGERS else None
                client = await w.client(manager=manager)
                self.pm_of[client.id] = manager.id if manager else None
                self.persons.append(client.persons[0])
            for emp in [*self.operators, self.supervisor]:
                self.status[emp.id] = "active" if emp in self.operators else "offline"
            for emp, status in zip(self.managers, ["active", "offline", "break"], strict=True):
                await w.set_status(emp, status)
                self.status[emp.id] = status

        self.run(build())

    def active(self, eid: int | None) -> bool:
        return eid is not None and self.status.get(eid) == "active"

    async def _open_pm_appeal(self, dialog_id: int) -> dict[str, Any] | None:
        r = await self.api.get(f"/api/v1/dialogs/{dialog_id}", headers=self.world.admin.headers)
        assert r.status_code == 200, r.text
        appeal: dict[str, Any] | None = r.json()["open_appeal"]
        return appeal

    # --- rules -------------------------------------------------------------------------------

    @rule(who=st.integers(0, CLIENTS - 1), kind=st.sampled_from(["general", "personal_manager"]))
    def person_writes(self, who: int, kind: str) -> None:
        person = self.persons[who]

        async def go() -> None:
            r = await self.api.post("/api/v1/dialogs", json={"kind": kind}, headers=person.headers)
            no_manager = kind == "personal_manager" and self.pm_of[person.client_id] is None
            if no_manager and r.status_code == 409:
                assert r.json()["code"] == "no_personal_manager"
                return
            assert r.status_code in (200, 201), r.text
            dialog = r.json()
            before = dialog["open_appeal"]
            r = await self.api.post(
                f"/api/v1/dialogs/{dialog['id']}/messages",
                json={"text": "?"},
                headers=person.headers,
            )
            if (
                kind == "personal_manager"
                and before is None
                and self.pm_of[person.client_id] is None
            ):
                assert r.status_code == 409 and r.json()["code"] == "no_personal_manager"
                return
            assert r.status_code == 201, r.text
            appeal_id = r.json()["appeal_id"]
            if kind == "personal_manager" and before is None:
                pm = self.pm_of[person.client_id]
                self.pm_holder[appeal_id] = pm if self.active(pm) else None
                self.client_of_appeal[appeal_id] = person.client_id

        self.run(go())

    @rule(m=st.integers(0, MANAGERS - 1), who=st.integers(0, CLIENTS - 1))
    def manager_writes_first(self, m: int, who: int) -> None:
        manager, person = self.managers[m], self.persons[who]
        if self.pm_of[person.client_id] != manager.id:
            return

        async def go() -> None:
            r = await self.api.post(
                "/api/v1/dialogs",
                json={"kind": "personal_manager", "person_id": person.id},
                headers=manager.headers,
            )
            assert r.status_code in (200, 201), r.text
            dialog = r.json()
            r = await self.api.post(
                f"/api/v1/dialogs/{dialog['id']}/messages",
                json={"text": "Добрый день!"},
                headers=manager.headers,
            )
            assert r.status_code == 201, r.text
            if dialog["open_appeal"] is None:
                appeal_id = r.json()["appeal_id"]
                self.pm_holder[appeal_id] = manager.id  # SPEC 3.3: theirs even off `active`
                self.client_of_appeal[appeal_id] = person.client_id

        self.run(go())

    @rule(index=st.integers(0, MANAGERS + OPERATORS), status=st.sampled_from(STATUSES))
    def status_change(self, index: int, status: str) -> None:
        emp = [*self.managers, *self.operators, self.supervisor][index]
        old = self.status[emp.id]
        self.run(self.world.set_status(emp, status))
        self.status[emp.id] = status
        if old == status:
            return
        if old == "active":  # SPEC 5.4, 6.2
            for aid, holder in self.pm_holder.items():
                if holder == emp.id:
                    pm = self.pm_of[self.client_of_appeal[aid]]
                    self.pm_holder[aid] = pm if pm != emp.id and self.active(pm) else None
        if status == "active":  # SPEC 5.1
            for aid, holder in self.pm_holder.items():
                if holder is None and self.pm_of[self.client_of_appeal[aid]] == emp.id:
                    self.pm_holder[aid] = emp.id

    @rule(who=st.integers(0, CLIENTS - 1), new_pm=st.integers(-1, MANAGERS - 1))
    def change_manager(self, who: int, new_pm: int) -> None:
        client_id = self.persons[who].client_id
        new = self.managers[new_pm] if new_pm >= 0 else None
        self.run(self.world.set_manager(client_id, new))
        new_id = new.id if new else None
        if self.pm_of[client_id] == new_id:
            return
        self.pm_of[client_id] = new_id
        for aid, holder in self.pm_holder.items():  # SPEC 6.1-6.6
            if self.client_of_appeal[aid] != client_id or self.active(holder):
                continue
            self.pm_holder[aid] = new_id if self.active(new_id) else None

    @rule(who=st.integers(0, CLIENTS - 1), kind=st.sampled_from(["general", "personal_manager"]))
    def close(self, who: int, kind: str) -> None:
        person = self.persons[who]

        async def go() -> None:
            r = await self.api.get("/api/v1/dialogs", headers=person.headers)
            dialogs = [d for d in r.json()["items"] if d["kind"] == kind]
            if not dialogs or dialogs[0]["open_appeal"] is None:
                return
            appeal = dialogs[0]["open_appeal"]
            closed = await self.world.close(self.supervisor, appeal["id"])
            assert closed["status"] == "closed"
            self.pm_holder.pop(appeal["id"], None)

        self.run(go())

    @rule(who=st.integers(0, CLIENTS - 1), guest=st.integers(0, OPERATORS - 1))
    def invite_and_write(self, who: int, guest: int) -> None:
        person, colleague = self.persons[who], self.operators[guest]
        pm = self.pm_of[person.client_id]
        if pm is None:
            return
        manager = next(m for m in self.managers if m.id == pm)

        async def go() -> None:
            dialog = await self.world.dialog(person, "personal_manager")
            r = await self.api.post(
                f"/api/v1/dialogs/{dialog['id']}/participants",
                json={"employee_id": colleague.id},
                headers=manager.headers,
            )
            assert r.status_code in (200, 201), r.text
            inbox = await self.world.inbox(colleague)
            assert dialog["id"] in [i["dialog_id"] for i in inbox]
            before = await self._open_pm_appeal(dialog["id"])
            message = await self.world.write(colleague, dialog["id"], "Коллега на связи")
            if before is None:  # SPEC 3.3: an invitee writing first opens an appeal for the PM
                self.pm_holder[message["appeal_id"]] = pm if self.active(pm) else None
                self.client_of_appeal[message["appeal_id"]] = person.client_id
            else:
                assert message["appeal_id"] == before["id"]

        self.run(go())

    @rule(who=st.integers(0, CLIENTS - 1), to=st.integers(-1, OPERATORS - 1))
    def transfer(self, who: int, to: int) -> None:
        person = self.persons[who]

        async def go() -> None:
            r = await self.api.get("/api/v1/dialogs", headers=person.headers)
            for d in r.json()["items"]:
                appeal = d["open_appeal"]
                if appeal is None:
                    continue
                body = {"employee_id": self.operators[to].id if to >= 0 else None}
                r = await self.api.post(
                    f"/api/v1/appeals/{appeal['id']}/transfer",
                    json=body,
                    headers=self.supervisor.headers,
                )
                if d["kind"] == "personal_manager":  # SPEC 5.7
                    assert r.status_code == 409
                    assert r.json()["code"] == "personal_manager_dialog_not_transferable"
                else:
                    assert r.status_code in (200, 409), r.text
                    if r.status_code == 409:
                        assert r.json()["code"] == "transfer_target_unavailable"

        self.run(go())

    # --- checks ------------------------------------------------------------------------------

    @invariant()
    def spec_9_and_the_reference_model(self) -> None:
        if not hasattr(self, "managers"):
            return
        snap = self.run(snapshot(self.app.state.db))
        assert violations(snap) == []
        by_id = {a.id: a for a in snap.appeals}
        for aid, holder in self.pm_holder.items():
            appeal = by_id[aid]
            assert appeal.status != "closed"
            actual = appeal.assignee_id if appeal.status == "assigned" else None
            assert actual == holder, (
                f"PM appeal {aid}: model says {holder}, service says {appeal.status} {actual}"
            )
            if appeal.status == "queued":
                pm = self.pm_of[self.client_of_appeal[aid]]
                expected = "no_personal_manager" if pm is None else "waiting_for_personal_manager"
                assert appeal.reason == expected


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_service_state_machine(fresh_database: Callable[[], str]) -> None:
    ServiceMachine.fresh_database = staticmethod(fresh_database)  # type: ignore[assignment]
    runner = ServiceMachine.TestCase()
    # The same derandomized sequences run on both databases; PostgreSQL, slower per request,
    # runs the first half of them.
    examples = 40 if "postgresql" not in ServiceMachine.fresh_database() else 20
    runner.settings = settings(
        max_examples=examples,
        stateful_step_count=40,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    runner.runTest()
