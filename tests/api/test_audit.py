"""The audit trail (`GET /api/v1/audit`, `GET /api/v1/audit.csv`): what is recorded, by whom,
about whom; filters, paging, the CSV export; append-only; written with the change or not at all."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text, update

from switchboard.kit.clock import utcnow
from switchboard.maintenance import presence_sweep_once
from switchboard.people import presence
from switchboard.people.models import Employee
from tests.api.helpers import assert_unauthorized, problem
from tests.support import PASSWORD, Emp, World, ok

AUDIT = "/api/v1/audit"
CSV = "/api/v1/audit.csv"
SYSTEM = {"type": "system", "id": None}


def _by(emp: Emp) -> dict[str, Any]:
    return {"type": "employee", "id": emp.id}


async def _audit(world: World, **params: Any) -> list[dict[str, Any]]:
    """Every matching record, newest first, following the cursors."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {"limit": 200, **params, **({"cursor": cursor} if cursor else {})}
        page = ok(await world.api.get(AUDIT, params=query, headers=world.admin.headers), 200)
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def _only(records: list[dict[str, Any]], action: str, **match: Any) -> dict[str, Any]:
    found = [
        r for r in records if r["action"] == action and all(r.get(k) == v for k, v in match.items())
    ]
    assert len(found) == 1, (action, match, records)
    return found[0]


# --- access ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [AUDIT, CSV])
async def test_audit_needs_a_token(world: World, path: str) -> None:
    await assert_unauthorized(world, "GET", path)


@pytest.mark.parametrize("path", [AUDIT, CSV])
async def test_audit_needs_supervise(world: World, path: str) -> None:
    everything_else = await world.employee(
        ["general_chat", "manage_personal_managers", "manage_employees", "manage_clients"]
    )
    problem(await world.api.get(path, headers=everything_else.headers), 403, "permission_denied")
    person = (await world.client()).persons[0]
    problem(await world.api.get(path, headers=person.headers), 403)
    supervisor = await world.supervisor()
    assert (await world.api.get(path, headers=supervisor.headers)).status_code == 200


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_no_endpoint_changes_the_trail(world: World, method: str) -> None:
    response = await world.api.request(method, AUDIT, headers=world.admin.headers)
    problem(response, 405)
    records = await _audit(world)
    first = records[-1]["id"]
    response = await world.api.request(method, f"{AUDIT}/{first}", headers=world.admin.headers)
    assert response.status_code in (404, 405)
    assert await _audit(world) == records


async def test_the_database_refuses_to_change_or_delete_records(world: World, app: Any) -> None:
    await world.employee()
    for statement in ("UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log"):
        async with app.state.db.uow() as uow:
            with pytest.raises(Exception, match="append-only"):
                await uow.session.execute(text(statement))
    assert "forged" not in {r["action"] for r in await _audit(world)}
    assert await _audit(world, action="employee_created")


# --- what is recorded -----------------------------------------------------------------------


async def test_employees_settings_and_logins(world: World) -> None:
    admin = world.admin
    emp = await world.employee(["general_chat"], name="Ирина Котова")
    ok(
        await world.api.patch(
            f"/api/v1/employees/{emp.id}",
            json={"full_name": "Ирина Котова-Лис", "general_limit": 4},
            headers=admin.headers,
        )
    )
    ok(
        await world.api.patch(
            f"/api/v1/employees/{emp.id}",
            json={"permissions": ["general_chat", "supervise"]},
            headers=admin.headers,
        )
    )
    ok(
        await world.api.patch(
            "/api/v1/settings", json={"default_general_limit": 5}, headers=admin.headers
        )
    )
    problem(
        await world.api.post("/api/v1/auth/token", json={"login": emp.login, "password": "not-it"}),
        401,
    )
    records = await _audit(world)

    created = _only(records, "employee_created", employee_id=emp.id)
    assert created["actor"] == _by(admin)
    assert created["details"]["login"] == emp.login
    updated = _only(records, "employee_updated", employee_id=emp.id)
    assert updated["actor"] == _by(admin)
    assert updated["details"]["changes"] == {
        "full_name": {"old": "Ирина Котова", "new": "Ирина Котова-Лис"},
        "general_limit": {"old": None, "new": 4},
    }
    permissions = _only(records, "permissions_changed", employee_id=emp.id)
    assert permissions["details"]["permissions"] == ["general_chat", "supervise"]
    assert permissions["details"]["previous_permissions"] == ["general_chat"]
    settings = _only(records, "settings_changed")
    assert settings["actor"] == _by(admin)
    assert settings["details"]["changes"] == {"default_general_limit": {"old": 3, "new": 5}}
    login = [r for r in records if r["action"] == "login" and r["employee_id"] == emp.id]
    assert login and login[0]["actor"] == _by(emp)
    failed = _only(records, "login_failed", employee_id=emp.id)
    assert failed["actor"] == SYSTEM
    assert failed["details"] == {
        "login": emp.login,
        "address": "127.0.0.1",
        "reason": "wrong_password",
    }
    for record in records:
        assert record["at"].endswith("Z") or record["at"].endswith("+00:00")


async def test_status_changes_say_who_and_whether_the_server_did_it(world: World, app: Any) -> None:
    supervisor = await world.supervisor()
    emp = await world.operator(status="active")  # by themself
    ok(
        await world.api.put(
            f"/api/v1/employees/{emp.id}/status",
            json={"status": "break"},
            headers=supervisor.headers,
        )
    )
    await world.set_status(emp, "active")
    # Presence: their last connection went away long ago; the server sets them offline.
    db = app.state.db
    await presence.connected(db, "conn-1", emp.id, "process-1")
    await presence.disconnected(db, "conn-1", emp.id)
    async with db.uow() as uow:
        now = utcnow()
        await uow.session.execute(
            update(Employee)
            .where(Employee.id == emp.id)
            .values(
                status_changed_at=now - timedelta(seconds=300),
                disconnected_at=now - timedelta(seconds=120),
            )
        )
        await uow.commit()
    assert await presence_sweep_once(db, 10.0) == [emp.id]
    await world.set_status(emp, "active")
    ok(
        await world.api.patch(
            f"/api/v1/employees/{emp.id}", json={"is_enabled": False}, headers=world.admin.headers
        )
    )

    changes = [
        (r["actor"], *(r["details"][k] for k in ("old", "new", "by_server", "cause")))
        for r in reversed(await _audit(world, employee_id=emp.id, action="status_changed"))
    ]
    assert changes == [
        (_by(emp), "offline", "active", False, "api"),
        (_by(supervisor), "active", "break", False, "api"),
        (_by(emp), "break", "active", False, "api"),
        (SYSTEM, "active", "offline", True, "presence"),
        (_by(emp), "offline", "active", False, "api"),
        (_by(world.admin), "active", "offline", True, "employee_disabled"),
    ]
    disabled = _only(await _audit(world, employee_id=emp.id), "employee_disabled")
    assert disabled["actor"] == _by(world.admin)


async def test_managers_invitations_and_person_tokens(world: World) -> None:
    first = await world.manager(status="active")
    second = await world.manager()
    colleague = await world.employee([])
    client = await world.client(manager=first)
    person = client.persons[0]
    await world.set_manager(client, second)
    dialog = await world.dialog(person, "personal_manager")
    ok(
        await world.api.post(
            f"/api/v1/dialogs/{dialog['id']}/participants",
            json={"employee_id": colleague.id},
            headers=second.headers,
        ),
        201,
    )
    ok(
        await world.api.delete(
            f"/api/v1/dialogs/{dialog['id']}/participants/{colleague.id}",
            headers=colleague.headers,
        ),
        204,
    )
    records = await _audit(world, client_id=client.id)

    appointed, changed = sorted(
        (r for r in records if r["action"] == "personal_manager_changed"), key=lambda r: r["id"]
    )
    assert appointed["actor"] == _by(world.admin)
    assert (appointed["employee_id"], appointed["related_employee_id"]) == (first.id, None)
    assert (changed["employee_id"], changed["related_employee_id"]) == (second.id, first.id)
    assert changed["details"]["previous_employee_id"] == first.id
    added = _only(records, "participant_added")
    assert added["actor"] == _by(second)
    assert added["employee_id"] == colleague.id
    assert added["details"]["dialog_id"] == dialog["id"]
    removed = _only(records, "participant_removed")
    assert removed["actor"] == _by(colleague)
    assert removed["employee_id"] == colleague.id
    issued = _only(records, "person_token_issued")
    assert issued["actor"] == _by(world.admin)
    assert issued["details"]["person_id"] == person.id
    assert set(issued["details"]) == {"person_id", "expires_in"}  # never the token
    # The previous manager finds the change among their own records.
    mine = await _audit(world, employee_id=first.id, action="personal_manager_changed")
    assert {r["id"] for r in mine} == {appointed["id"], changed["id"]}


async def test_transfers_returns_and_closes(world: World) -> None:
    supervisor = await world.supervisor()
    first = await world.operator(limit=1)
    client = await world.client()
    appeal = await world.ask(client.persons[0], "general")
    assert appeal["assignee"]["id"] == first.id
    second = await world.operator(limit=1)
    ok(
        await world.api.post(
            f"/api/v1/appeals/{appeal['id']}/transfer",
            json={"employee_id": second.id},
            headers=first.headers,
        )
    )
    await world.set_status(first, "break")
    ok(
        await world.api.post(
            f"/api/v1/appeals/{appeal['id']}/transfer",
            json={"employee_id": None},
            headers=supervisor.headers,
        )
    )
    await world.close(client.persons[0], appeal["id"])
    records = await _audit(world, client_id=client.id)

    transferred = _only(records, "appeal_transferred")
    assert transferred["actor"] == _by(first)
    assert transferred["employee_id"] == second.id
    assert transferred["related_employee_id"] == first.id
    assert transferred["details"] == {"appeal_id": appeal["id"]}
    returned = _only(records, "appeal_returned")
    assert returned["actor"] == _by(supervisor)
    assert returned["employee_id"] == second.id
    closed = _only(records, "appeal_closed")
    assert closed["actor"] == {"type": "person", "id": client.persons[0].id}
    assert closed["details"]["reason"] == "closed_by_person"
    # Returned to the queue, the appeal came straight back to the only operator with room.
    assert closed["employee_id"] == second.id


async def test_a_refused_change_leaves_no_record(world: World) -> None:
    manager = await world.manager()
    await world.client(manager=manager)
    response = await world.api.patch(
        f"/api/v1/employees/{manager.id}", json={"is_enabled": False}, headers=world.admin.headers
    )
    problem(response, 409, "employee_is_personal_manager")
    assert await _audit(world, employee_id=manager.id, action="employee_disabled") == []
    dry = ok(
        await world.api.post(
            "/api/v1/personal-managers/moves",
            json={
                "from_employee_id": manager.id,
                "to_employee_id": world.admin.id,
                "dry_run": True,
            },
            headers=world.admin.headers,
        )
    )
    assert dry["clients"] == 1
    changes = await _audit(world, employee_id=manager.id, action="personal_manager_changed")
    assert len(changes) == 1  # the appointment only: the dry run recorded nothing


# --- filters, paging, CSV -------------------------------------------------------------------


async def _busy_world(world: World) -> tuple[Emp, Emp, int]:
    one = await world.employee(["general_chat"])
    two = await world.employee(["general_chat"])
    client = await world.client(manager=one)
    for emp in (one, two, one):
        await world.set_status(emp, "active")
        await world.set_status(emp, "offline")
    return one, two, client.id


async def test_filters(world: World) -> None:
    one, two, client_id = await _busy_world(world)
    everything = await _audit(world)
    ids = [r["id"] for r in everything]
    assert ids == sorted(ids, reverse=True)  # newest first

    def involves(record: dict[str, Any], emp: Emp) -> bool:
        return emp.id in (record["employee_id"], record["related_employee_id"]) or record[
            "actor"
        ] == _by(emp)

    for emp in (one, two):
        mine = await _audit(world, employee_id=emp.id)
        assert mine == [r for r in everything if involves(r, emp)]
    assert await _audit(world, client_id=client_id) == [
        r for r in everything if r["client_id"] == client_id
    ]
    statuses = await _audit(world, action="status_changed")
    assert len(statuses) == 6
    both = await _audit(world, action=["status_changed", "login"])
    assert both == [r for r in everything if r["action"] in ("status_changed", "login")]
    assert await _audit(world, action="status_changed", employee_id=two.id) == [
        r for r in statuses if r["employee_id"] == two.id
    ]

    middle = statuses[3]["at"]
    since = await _audit(world, since=middle)
    until = await _audit(world, until=middle)
    assert since and until
    assert {r["id"] for r in since} | {r["id"] for r in until} == set(ids)
    assert not {r["id"] for r in since} & {r["id"] for r in until}
    assert statuses[3]["id"] in {r["id"] for r in since}  # since is inclusive, until exclusive
    # Another offset means the same moment.
    assert await _audit(world, since="2000-01-01T03:00:00+03:00") == everything
    assert await _audit(world, until="2000-01-01T00:00:00Z") == []


@pytest.mark.parametrize(
    "query",
    [
        "limit=201",
        "limit=0",
        "cursor=not-a-cursor",
        "since=2026-01-01T00:00:00",  # no offset
        "since=yesterday",
        "until=2026-13-01T00:00:00Z",
        "since=0001-01-01T00:00:00%2B01:00",
        "employee_id=0",
        "employee_id=99999999999",
        "client_id=-1",
        "action=Login",
        "action=no_such_action",
        "action=false",
        "action=%00",
    ],
)
async def test_bad_filters_are_422(world: World, query: str) -> None:
    problem(await world.api.get(f"{AUDIT}?{query}", headers=world.admin.headers), 422)
    if not query.startswith(("limit", "cursor")):
        problem(await world.api.get(f"{CSV}?{query}", headers=world.admin.headers), 422)


async def test_pages_follow_the_cursor(world: World) -> None:
    await _busy_world(world)
    everything = await _audit(world)
    assert len(everything) > 10
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = ok(await world.api.get(AUDIT, params=params, headers=world.admin.headers))
        assert set(page) == {"items", "next_cursor"}
        assert 1 <= len(page["items"]) <= 3
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything
    default = ok(await world.api.get(AUDIT, headers=world.admin.headers))
    assert default["items"] == everything[:50]


def _rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment") and 'filename="audit.csv"' in disposition
    reader = csv.DictReader(io.StringIO(response.text))
    assert reader.fieldnames == [
        "id",
        "at",
        "actor_type",
        "actor_id",
        "action",
        "employee_id",
        "related_employee_id",
        "client_id",
        "details",
    ]
    return list(reader)


def _as_csv(record: dict[str, Any]) -> dict[str, Any]:
    def cell(value: int | None) -> str:
        return "" if value is None else str(value)

    return {
        "id": str(record["id"]),
        "actor_type": record["actor"]["type"],
        "actor_id": cell(record["actor"]["id"]),
        "action": record["action"],
        "employee_id": cell(record["employee_id"]),
        "related_employee_id": cell(record["related_employee_id"]),
        "client_id": cell(record["client_id"]),
        "details": record["details"],
    }


async def test_csv_matches_the_json(world: World) -> None:
    one, _, client_id = await _busy_world(world)
    # Text that a spreadsheet or a CSV reader could stumble on.
    ok(
        await world.api.patch(
            f"/api/v1/employees/{one.id}",
            json={"full_name": '=SUM(A1) "quoted", \u202eRTL; second line'},
            headers=world.admin.headers,
        )
    )
    for params in ({}, {"employee_id": one.id}, {"client_id": client_id}, {"action": "login"}):
        records = await _audit(world, **params)
        rows = _rows(await world.api.get(CSV, params=params, headers=world.admin.headers))
        assert len(rows) == len(records) > 0
        for row, record in zip(rows, records, strict=True):
            assert {**row, "details": json.loads(row["details"])} | {"at": ""} == _as_csv(
                record
            ) | {"at": ""}
            assert row["at"].replace("Z", "+00:00")[:19] == record["at"][:19]
            assert row["details"].startswith("{")
    renamed = _only(await _audit(world, employee_id=one.id), "employee_updated")
    assert renamed["details"]["changes"]["full_name"]["new"].endswith("second line")


async def test_csv_streams_more_than_one_batch(world: World, app: Any) -> None:
    emp = await world.employee(["general_chat"])
    for _ in range(260):
        await world.set_status(emp, "break")
        await world.set_status(emp, "offline")
    rows = _rows(
        await world.api.get(CSV, params={"action": "status_changed"}, headers=world.admin.headers)
    )
    assert len(rows) == 520
    ids = [int(r["id"]) for r in rows]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)


async def test_csv_of_nothing_is_a_header(world: World) -> None:
    rows = _rows(
        await world.api.get(
            CSV, params={"action": "appeal_transferred"}, headers=world.admin.headers
        )
    )
    assert rows == []


async def test_logins_with_the_right_password_are_recorded_once_each(world: World) -> None:
    emp = await world.employee(["general_chat"])
    for _ in range(3):
        ok(
            await world.api.post(
                "/api/v1/auth/token", json={"login": emp.login, "password": PASSWORD}
            )
        )
    logins = await _audit(world, employee_id=emp.id, action="login")
    assert len(logins) == 4  # the factory's own login and three more
    assert all(r["actor"] == _by(emp) for r in logins)
