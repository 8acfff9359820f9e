"""Model-based test of the routing policy (SPEC 4-6, 8, 9).

A small world of employees, clients and dialogs takes random steps. `World` keeps its state as
plain dicts and decides every step through `switchboard.routing.policy`, the way the engine does.
Beside it, `Reference` is written straight from the SPEC prose and never calls the policy; after
every step the two must agree, and the SPEC 9 invariants must hold on the policy-driven state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from switchboard.routing import policy
from switchboard.routing.policy import Assign, Decision, OpenAppeal, Operator, Queue

ACTIVE, BREAK, OFFLINE = "active", "break", "offline"
STATUSES = (ACTIVE, BREAK, OFFLINE)
GENERAL, PM = "general", "personal_manager"

# SPEC 8, verbatim, by kind and state.
QUEUED_REASONS = {
    GENERAL: {"no_eligible_operator", "returned_operator_inactive", "returned_by_employee"},
    PM: {"waiting_for_personal_manager", "no_personal_manager"},
}
ASSIGNED_REASONS = {
    GENERAL: {"routed", "transferred", "opened_by_employee"},
    PM: {"personal_manager_active", "handover_to_new_personal_manager", "opened_by_employee"},
}


# ---------------------------------------------------------------------------------------------
# The independent reference: SPEC 4-6 as prose, no policy calls.


@dataclass
class RefAppeal:
    kind: str
    client: int
    holder: int | None = None
    last_holder: int | None = None
    waiting_for: int | None = None
    reason: str = ""
    # SPEC 6.1/9.3: the previous PM who held it when the PM changed, while they keep holding it
    kept_by: int | None = None


@dataclass
class Reference:
    status: dict[int, str]
    general_chat: dict[int, bool]
    limit: dict[int, int]
    pm: dict[int, int | None]
    requeue_general: bool
    pm_counts: bool
    appeals: dict[int, RefAppeal] = field(default_factory=dict)
    last_general: dict[int, int] = field(default_factory=dict)
    clock: int = 0

    def active(self, e: int | None) -> bool:
        return e is not None and self.status[e] == ACTIVE

    def load(self, e: int) -> int:
        kinds = {GENERAL, PM} if self.pm_counts else {GENERAL}
        return sum(1 for a in self.appeals.values() if a.holder == e and a.kind in kinds)

    def may_hold(self, appeal_id: int) -> set[int]:
        """SPEC 9.3: who may hold this PM appeal right now."""
        a = self.appeals[appeal_id]
        return {e for e in (self.pm[a.client], a.kept_by) if e is not None and self.active(e)}

    # -- placing -------------------------------------------------------------------------------
    def _give(self, a: RefAppeal, e: int, reason: str) -> None:
        a.holder, a.last_holder, a.waiting_for, a.reason = e, e, None, reason
        if a.kind == GENERAL:
            self.clock += 1
            self.last_general[e] = self.clock

    def _give_to_pm(self, a: RefAppeal, pm: int) -> None:
        # SPEC 8: handover when it goes to someone other than its previous assignee
        handover = a.last_holder is not None and a.last_holder != pm
        self._give(
            a, pm, "handover_to_new_personal_manager" if handover else "personal_manager_active"
        )
        a.kept_by = None

    def _wait_for_pm(self, a: RefAppeal) -> None:
        pm = self.pm[a.client]
        a.holder, a.waiting_for, a.kept_by = None, pm, None
        a.reason = "waiting_for_personal_manager" if pm is not None else "no_personal_manager"

    def _place_pm(self, a: RefAppeal) -> None:
        """SPEC 5.1/6.2/6.4/6.6: to the current PM if active, else wait for them."""
        pm = self.pm[a.client]
        if self.active(pm):
            assert pm is not None
            if a.holder != pm:
                self._give_to_pm(a, pm)
        else:
            self._wait_for_pm(a)

    def _route_general(self) -> None:
        """SPEC 4.1-4.3, literally: oldest queued general appeal, fewest open, then fairness."""
        while True:
            queue = sorted(
                i for i, a in self.appeals.items() if a.kind == GENERAL and a.holder is None
            )
            operators = [
                e
                for e in self.status
                if self.active(e) and self.general_chat[e] and self.load(e) < self.limit[e]
            ]
            if not queue or not operators:
                return

            def rank(e: int) -> tuple[int, bool, int, int]:
                last = self.last_general.get(e)
                return (self.load(e), last is not None, last or 0, e)

            self._give(self.appeals[queue[0]], min(operators, key=rank), "routed")

    # -- events --------------------------------------------------------------------------------
    def open(self, appeal_id: int, kind: str, client: int) -> None:
        a = RefAppeal(kind, client)
        self.appeals[appeal_id] = a
        if kind == PM:
            self._place_pm(a)
        else:
            a.reason = "no_eligible_operator"
            self._route_general()

    def close(self, appeal_id: int) -> None:
        del self.appeals[appeal_id]
        self._route_general()

    def set_status(self, e: int, status: str) -> None:
        was_active = self.active(e)
        self.status[e] = status
        if was_active and status != ACTIVE:
            for a in self.appeals.values():
                if a.holder != e:
                    continue
                if a.kind == GENERAL:
                    if self.requeue_general:  # SPEC 4.5
                        a.holder, a.reason = None, "returned_operator_inactive"
                else:  # SPEC 5.4, 6.2, 6.5, 6.6
                    self._place_pm(a)
        elif not was_active and status == ACTIVE:
            for a in self.appeals.values():  # SPEC 5.1, 6.2
                if a.kind == PM and a.holder is None and self.pm[a.client] == e:
                    self._give_to_pm(a, e)
        self._route_general()

    def change_manager(self, client: int, new: int | None) -> None:
        self.pm[client] = new
        for a in self.appeals.values():
            if a.kind != PM or a.client != client:
                continue
            if a.holder is not None and self.active(a.holder):  # SPEC 6.1, 6.5, 6.6
                a.kept_by = a.holder if a.holder != new else None
            else:  # SPEC 6.3, 6.4
                self._place_pm(a)

    def transfer(self, appeal_id: int, target: int) -> None:  # SPEC 4.6
        self._give(self.appeals[appeal_id], target, "transferred")
        self._route_general()

    def return_to_queue(self, appeal_id: int) -> None:  # SPEC 4.6
        a = self.appeals[appeal_id]
        a.holder, a.reason = None, "returned_by_employee"
        self._route_general()

    def set_limit(self, e: int, limit: int) -> None:  # SPEC 4.3, 4.4
        self.limit[e] = limit
        self._route_general()

    def set_general_chat(self, e: int, granted: bool) -> None:  # SPEC 4.4, 4.7
        self.general_chat[e] = granted
        if not granted:
            for a in self.appeals.values():
                if a.kind == GENERAL and a.holder == e:
                    a.holder, a.reason = None, "returned_operator_inactive"
        self._route_general()


# ---------------------------------------------------------------------------------------------
# The world, driven by the policy.


class World(RuleBasedStateMachine):
    @initialize(data=st.data())
    def build(self, data: st.DataObject) -> None:
        n_employees = data.draw(st.integers(4, 5), label="employees")
        self.employees: dict[int, dict] = {}
        for e in range(1, n_employees + 1):
            self.employees[e] = {
                "status": data.draw(st.sampled_from(STATUSES)),
                # employee 1 always works the general chat, so general routing is exercised
                "general_chat": e == 1 or data.draw(st.booleans()),
                "limit": data.draw(st.integers(0, 3)),
                "seq": None,
            }
        n_clients = data.draw(st.integers(3, 4), label="clients")
        self.clients: dict[int, dict] = {
            c: {"pm": data.draw(st.sampled_from([*range(1, n_employees + 1), None]))}
            for c in range(1, n_clients + 1)
        }
        self.dialogs: dict[int, dict] = {}
        for c in self.clients:
            for _person in range(data.draw(st.integers(1, 2))):
                for kind in (GENERAL, PM):
                    self.dialogs[len(self.dialogs) + 1] = {"client": c, "kind": kind, "open": None}
        self.requeue_general = data.draw(st.booleans(), label="requeue_general_on_inactive")
        self.pm_counts = data.draw(st.booleans(), label="pm_appeals_count_toward_limit")
        self.appeals: dict[int, dict] = {}
        self.next_appeal_id = 1
        self.seq = 0
        self.general_before = self._general_loads()
        self.ref = Reference(
            status={e: v["status"] for e, v in self.employees.items()},
            general_chat={e: v["general_chat"] for e, v in self.employees.items()},
            limit={e: v["limit"] for e, v in self.employees.items()},
            pm={c: v["pm"] for c, v in self.clients.items()},
            requeue_general=self.requeue_general,
            pm_counts=self.pm_counts,
        )
        # start from a busy world: some dialogs already have an open appeal
        for dialog_id in sorted(self.dialogs):
            if data.draw(st.booleans(), label=f"open in dialog {dialog_id}"):
                self._open(dialog_id)

    # -- the engine's view ---------------------------------------------------------------------
    def is_active(self, e: int) -> bool:
        return self.employees[e]["status"] == ACTIVE

    def pm_of(self, appeal: dict) -> int | None:
        return self.clients[appeal["client"]]["pm"]

    def plain(self, appeal_id: int) -> OpenAppeal:
        a = self.appeals[appeal_id]
        return OpenAppeal(
            id=appeal_id,
            kind=a["kind"],
            status=a["status"],
            assignee_id=a["assignee"],
            last_assignee_id=a["last_assignee"],
            waiting_for_id=a["waiting_for"],
            reason=a["reason"],
            personal_manager_id=self.pm_of(a) if a["kind"] == PM else None,
        )

    def load(self, e: int) -> int:
        kinds = {GENERAL, PM} if self.pm_counts else {GENERAL}
        return sum(
            1
            for a in self.appeals.values()
            if a["status"] == "assigned" and a["assignee"] == e and a["kind"] in kinds
        )

    def operators(self) -> list[Operator]:
        # all employees, not only the eligible: the policy must filter them itself
        return [
            Operator(
                id=e,
                active=self.is_active(e),
                general_chat=v["general_chat"],
                limit=v["limit"],
                load=self.load(e),
                last_assigned_seq=v["seq"],
            )
            for e, v in self.employees.items()
        ]

    def held_by(self, e: int) -> list[OpenAppeal]:
        return [
            self.plain(i)
            for i, a in self.appeals.items()
            if a["status"] == "assigned" and a["assignee"] == e
        ]

    def apply(self, decisions: list[Decision]) -> None:
        for d in decisions:
            a = self.appeals[d.appeal_id]
            before = (a["status"], a["assignee"], a["waiting_for"], a["reason"])
            if isinstance(d, Assign):
                a.update(
                    status="assigned",
                    assignee=d.employee_id,
                    last_assignee=d.employee_id,
                    waiting_for=None,
                    reason=d.reason,
                )
                if a["kind"] == GENERAL:
                    self.seq += 1
                    self.employees[d.employee_id]["seq"] = self.seq
            else:
                assert isinstance(d, Queue)
                a.update(
                    status="queued", assignee=None, waiting_for=d.waiting_for_id, reason=d.reason
                )
            after = (a["status"], a["assignee"], a["waiting_for"], a["reason"])
            # SPEC 8: a routing attempt that changes nothing records nothing
            assert after != before, f"no-op decision {d}"

    def route_general(self) -> None:
        queue = [self.plain(i) for i in sorted(self.appeals)]  # everything open: it must filter
        capacity = policy.free_capacity(self.operators())
        decisions = policy.route_general(queue, self.operators(), self.seq + 1)
        queued_general = sum(
            1 for a in self.appeals.values() if a["kind"] == GENERAL and a["status"] == "queued"
        )
        assert len(decisions) == min(capacity, queued_general)
        for d in decisions:
            assert self.appeals[d.appeal_id]["kind"] == GENERAL
            assert self.appeals[d.appeal_id]["status"] == "queued"
        self.apply(list(decisions))
        # SPEC 9.2: routing never puts an operator over their limit
        for e in {d.employee_id for d in decisions}:
            assert self.load(e) <= self.employees[e]["limit"], f"operator {e} over limit"

    # -- steps ---------------------------------------------------------------------------------
    # Hypothesis favours the rule whose name sorts first; status changes drive most of SPEC 5-6,
    # so they come first, and one of them picks the employees whose moves matter most.
    @rule(data=st.data())
    def activity_of_a_manager_or_holder(self, data: st.DataObject) -> None:
        pms = {c["pm"] for c in self.clients.values()} - {None}
        holders = {a["assignee"] for a in self.appeals.values() if a["kind"] == PM} - {None}
        interesting = sorted(pms | holders) or sorted(self.employees)
        self._set_status(data, data.draw(st.sampled_from(interesting), label="employee"))

    @rule(data=st.data())
    def activity_of_anyone(self, data: st.DataObject) -> None:
        self._set_status(data, data.draw(st.sampled_from(sorted(self.employees)), label="employee"))

    def _set_status(self, data: st.DataObject, e: int) -> None:
        current = self.employees[e]["status"]
        # mostly a move in or out of `active`; break <-> offline now and then
        if current == ACTIVE:
            choices = [BREAK, OFFLINE]
        else:
            choices = [ACTIVE, BREAK if current == OFFLINE else OFFLINE]
        status = data.draw(st.sampled_from(choices), label="status")
        was_active = self.is_active(e)
        self.employees[e]["status"] = status
        if was_active and status != ACTIVE:
            self.apply(
                policy.on_leave_active(
                    e, self.held_by(e), self.is_active, requeue_general=self.requeue_general
                )
            )
            self.route_general()
        elif not was_active and status == ACTIVE:
            waiting = [
                self.plain(i)
                for i, a in self.appeals.items()
                if a["kind"] == PM and a["status"] == "queued" and self.pm_of(a) == e
            ]
            self.apply(policy.on_become_active(e, waiting))
            self.route_general()
        self.ref.set_status(e, status)

    @precondition(lambda self: any(d["open"] is None for d in self.dialogs.values()))
    @rule(data=st.data())
    def open_appeal(self, data: st.DataObject) -> None:
        free = sorted(
            (i for i, d in self.dialogs.items() if d["open"] is None),
            key=lambda i: (self.dialogs[i]["kind"] != PM, i),
        )
        self._open(data.draw(st.sampled_from(free), label="dialog"))

    def _open(self, dialog_id: int) -> None:
        dialog = self.dialogs[dialog_id]
        client, kind = dialog["client"], dialog["kind"]
        if kind == PM and self.clients[client]["pm"] is None:
            return  # SPEC 2.5: refused with 409 no_personal_manager; nothing changes
        appeal_id = self.next_appeal_id
        self.next_appeal_id += 1
        dialog["open"] = appeal_id
        self.appeals[appeal_id] = {
            "dialog": dialog_id,
            "client": client,
            "kind": kind,
            "status": "queued",
            "assignee": None,
            "last_assignee": None,
            "waiting_for": None,
            "reason": "no_eligible_operator" if kind == GENERAL else "",
        }
        if kind == PM:
            self.apply([policy.on_open_personal_manager(self.plain(appeal_id), self.is_active)])
        else:
            self.route_general()
        self.ref.open(appeal_id, kind, client)

    @precondition(lambda self: bool(self.appeals))
    @rule(data=st.data())
    def close_appeal(self, data: st.DataObject) -> None:
        appeal_id = data.draw(st.sampled_from(sorted(self.appeals)), label="appeal")
        appeal = self.appeals.pop(appeal_id)
        self.dialogs[appeal["dialog"]]["open"] = None
        self.route_general()
        self.ref.close(appeal_id)

    @rule(data=st.data())
    def change_manager(self, data: st.DataObject) -> None:
        client = data.draw(st.sampled_from(sorted(self.clients)), label="client")
        old = self.clients[client]["pm"]
        choices = [*self.employees, None]
        new = data.draw(st.sampled_from([c for c in choices if c != old]), label="new_pm")
        self.clients[client]["pm"] = new
        ids = [i for i, a in self.appeals.items() if a["client"] == client and a["kind"] == PM]
        self.apply(policy.on_manager_changed([self.plain(i) for i in ids], self.is_active))
        self.ref.change_manager(client, new)

    def _assigned_general(self) -> list[int]:
        return sorted(
            i for i, a in self.appeals.items() if a["kind"] == GENERAL and a["status"] == "assigned"
        )

    @precondition(lambda self: bool(self._assigned_general()))
    @rule(data=st.data())
    def transfer(self, data: st.DataObject) -> None:
        appeal_id = data.draw(st.sampled_from(self._assigned_general()), label="appeal")
        holder = self.appeals[appeal_id]["assignee"]
        targets = [o.id for o in self.operators() if policy.is_eligible(o) and o.id != holder]
        if not targets:
            return  # SPEC 4.6: 409 transfer_target_unavailable; nothing changes
        target = data.draw(st.sampled_from(targets), label="target")
        self.apply([Assign(appeal_id, target, policy.TRANSFERRED)])
        assert self.load(target) <= self.employees[target]["limit"]
        self.route_general()
        self.ref.transfer(appeal_id, target)

    @precondition(lambda self: bool(self._assigned_general()))
    @rule(data=st.data())
    def return_to_queue(self, data: st.DataObject) -> None:
        appeal_id = data.draw(st.sampled_from(self._assigned_general()), label="appeal")
        self.apply([Queue(appeal_id, None, policy.RETURNED_BY_EMPLOYEE)])
        self.route_general()
        self.ref.return_to_queue(appeal_id)

    @rule(data=st.data())
    def change_operator(self, data: st.DataObject) -> None:
        """An administrator changes a limit or grants/takes away `general_chat`."""
        if data.draw(st.booleans(), label="limit or general_chat"):
            self._set_general_chat(data)
        else:
            self._set_limit(data)

    def _set_limit(self, data: st.DataObject) -> None:
        e = data.draw(st.sampled_from(sorted(self.employees)), label="employee")
        limit = data.draw(st.integers(0, 3), label="limit")
        raised = limit > self.employees[e]["limit"]
        self.employees[e]["limit"] = limit  # SPEC 4.3: lowering moves nothing
        if raised:
            self.route_general()
        self.ref.set_limit(e, limit)

    def _set_general_chat(self, data: st.DataObject) -> None:
        e = data.draw(st.sampled_from(sorted(self.employees)), label="employee")
        granted = not self.employees[e]["general_chat"]
        self.employees[e]["general_chat"] = granted
        if not granted:
            self.apply(policy.on_general_chat_revoked(e, self.held_by(e)))
        self.route_general()
        self.ref.set_general_chat(e, granted)

    # -- checks after every step ---------------------------------------------------------------
    def _general_loads(self) -> dict[int, int]:
        return {
            e: sum(
                1
                for a in self.appeals.values()
                if a["kind"] == GENERAL and a["status"] == "assigned" and a["assignee"] == e
            )
            for e in self.employees
        }

    @invariant()
    def agrees_with_the_reference(self) -> None:
        assert set(self.appeals) == set(self.ref.appeals)
        for i, a in self.appeals.items():
            r = self.ref.appeals[i]
            got = (a["assignee"], a["waiting_for"], a["reason"])
            want = (r.holder, r.waiting_for, r.reason)
            assert got == want, f"appeal {i} ({a['kind']}): policy {got} != reference {want}"

    @invariant()
    def spec_9_1_assigned_iff_one_assignee(self) -> None:
        for a in self.appeals.values():
            assert a["status"] in ("queued", "assigned")
            assert (a["status"] == "assigned") == (a["assignee"] is not None)
        open_dialogs = [a["dialog"] for a in self.appeals.values()]
        assert len(open_dialogs) == len(set(open_dialogs))
        for d, dialog in self.dialogs.items():
            if dialog["open"] is not None:
                assert self.appeals[dialog["open"]]["dialog"] == d

    @invariant()
    def spec_9_2_no_operator_pushed_over_their_limit(self) -> None:
        now = self._general_loads()
        for e, count in now.items():
            if count > self.general_before[e]:  # routed or transferred to in this step
                # (PM appeals may push the counted load past it later: limits skip them, 5.2)
                assert count <= self.employees[e]["limit"], f"operator {e} over limit"
                assert self.is_active(e) and self.employees[e]["general_chat"]
        self.general_before = now

    @invariant()
    def spec_9_3_pm_appeal_held_only_by_whom_may(self) -> None:
        for i, a in self.appeals.items():
            if a["kind"] != PM or a["status"] != "assigned":
                continue
            assert a["assignee"] in self.ref.may_hold(i), (
                f"PM appeal {i} held by {a['assignee']}; current PM {self.pm_of(a)}, "
                f"kept by {self.ref.appeals[i].kept_by}"
            )
            # nobody holds a PM appeal off `active` (no writing-first in this world)
            assert self.is_active(a["assignee"])

    @invariant()
    def spec_9_4_liveness(self) -> None:
        for i, a in self.appeals.items():
            if a["status"] != "queued":
                continue
            if a["kind"] == PM:
                pm = self.pm_of(a)
                assert pm is None or not self.is_active(pm), f"PM appeal {i} waits for active {pm}"
            else:
                room = [o.id for o in self.operators() if policy.is_eligible(o)]
                assert not room, f"general appeal {i} queued while {room} have room"

    @invariant()
    def spec_8_reasons_fit_the_state(self) -> None:
        for i, a in self.appeals.items():
            if a["status"] == "assigned":
                assert a["reason"] in ASSIGNED_REASONS[a["kind"]], (i, a)
                assert a["waiting_for"] is None
            else:
                assert a["reason"] in QUEUED_REASONS[a["kind"]], (i, a)
                if a["kind"] == PM:
                    pm = self.pm_of(a)
                    assert a["waiting_for"] == pm
                    expected = "waiting_for_personal_manager" if pm else "no_personal_manager"
                    assert a["reason"] == expected
                else:
                    assert a["waiting_for"] is None

    @invariant()
    def spec_10_settled_state_moves_nothing_twice(self) -> None:
        queue = [self.plain(i) for i in sorted(self.appeals)]
        assert policy.route_general(queue, self.operators(), self.seq + 1) == []
        for e in self.employees:
            if self.is_active(e):
                assert policy.on_become_active(e, queue) == []
            else:
                assert (
                    policy.on_leave_active(
                        e, self.held_by(e), self.is_active, requeue_general=self.requeue_general
                    )
                    == []
                )
        for c in self.clients:
            mine = [p for p in queue if self.appeals[p.id]["client"] == c]
            assert policy.on_manager_changed(mine, self.is_active) == []
        for p in queue:
            if p.kind == PM and p.status == "queued":
                assert policy.route_personal_manager(p, self.is_active) is None


World.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=40,
    deadline=None,
    derandomize=True,
    database=None,
)
TestRoutingPolicyModel = World.TestCase
