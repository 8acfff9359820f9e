"""Every endpoint under /api/v1 × every kind of caller → the status SPEC §7 and API.md promise.

One scene serves the whole table (issue 6.2). A PM dialog whose appeal was handed over from the
previous manager A to the current manager B, with an invited colleague; around it the other
callers. Rows that change state either repeat what is already so (same status, same manager,
an invitation that exists) or restore, before each caller, what the previous caller changed.
The table is keyed by the app's own routes: a new endpoint without a row fails the test.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import Route

from tests.api.helpers import disable_employee, problem
from tests.support import ALL_PERMISSIONS, PASSWORD, Emp, PersonRef, World, auth, ok

CALLERS = (
    "no_token",
    "expired_token",
    "disabled_employee",
    "other_person",
    "dialog_person",
    "operator",
    "invitee",
    "manager",
    "previous_manager",
    "supervisor",
    "pm_admin",  # holds manage_personal_managers only
    "administrator",
)
UNAUTHENTICATED = ("no_token", "expired_token", "disabled_employee")
PERSONS = ("other_person", "dialog_person")
EMPLOYEES = (
    "operator",
    "invitee",
    "manager",
    "previous_manager",
    "supervisor",
    "pm_admin",
    "administrator",
)
# Who may read the PM dialog (SPEC 7.3): its person, its manager, the invitee, `supervise`.
READERS = ("dialog_person", "invitee", "manager", "supervisor", "administrator")
WS_OPEN = 101  # the WebSocket handshake accepted and kept open
WS_REFUSED = 4401  # accepted, then closed as unauthorized


@dataclass
class Scene:
    world: World
    app: Any
    callers: dict[str, dict[str, str]]
    emp: dict[str, Emp]
    person: PersonRef  # the dialog's person
    other_person: PersonRef
    target_employee: Emp  # no caller: the object of PATCH and status rows
    target_person: PersonRef
    target_client_id: int  # a client without a manager
    client_id: int
    dialog_id: int
    appeal_id: int
    message_id: int
    spare: Emp  # invited and removed by the DELETE row
    login: str = ""


def expect(
    allowed: tuple[str, ...] | dict[str, int],
    ok_status: int = 200,
    *,
    persons: int = 403,
    employees: int = 403,
) -> dict[str, int]:
    """The status of each caller: 401 without a valid token; `ok_status` for the allowed;
    `persons` and `employees` for the others of each kind."""
    table = dict.fromkeys(UNAUTHENTICATED, 401)
    table.update(dict.fromkeys(PERSONS, persons))
    table.update(dict.fromkeys(EMPLOYEES, employees))
    if isinstance(allowed, dict):
        table.update(allowed)
    else:
        table.update(dict.fromkeys(allowed, ok_status))
    return table


def everyone(status: int = 200) -> dict[str, int]:
    """Every caller with a valid token; the others 401."""
    return expect(tuple(c for c in CALLERS if c not in UNAUTHENTICATED), status)


PUBLIC = dict.fromkeys(CALLERS, 200)  # no token needed: a token, even a bad one, changes nothing


Body = Callable[[Scene, str], Any]
Prepare = Callable[[Scene, str], Awaitable[None]]


@dataclass
class Row:
    method: str
    path: str  # the route's template
    expected: dict[str, int]
    url: Callable[[Scene, str], str] | None = None
    body: Body | None = None
    prepare: Prepare | None = None


def _status_of(scene: Scene, caller: str) -> dict[str, str]:
    current = {"operator": "active", "manager": "active"}
    return {"status": current.get(caller, "offline")}


async def _reopen_appeal(scene: Scene, caller: str) -> None:
    """The PM appeal is open and held by the manager again (a previous caller closed it)."""
    del caller
    appeal = await scene.world.appeal(scene.appeal_id)
    if appeal["status"] == "closed":
        message = await scene.world.write(scene.person, scene.dialog_id, "Снова вопрос")
        scene.appeal_id = message["appeal_id"]
        appeal = await scene.world.appeal(scene.appeal_id)
    assert appeal["status"] == "assigned", appeal
    assert appeal["assignee"]["id"] == scene.emp["manager"].id, appeal


async def _invite_spare(scene: Scene, caller: str) -> None:
    invited = scene.emp["invitee"] if caller == "invitee" else scene.spare
    ok(
        await scene.world.api.post(
            f"/api/v1/dialogs/{scene.dialog_id}/participants",
            json={"employee_id": invited.id},
            headers=scene.world.admin.headers,
        ),
        200,
        201,
    )


def _unique(prefix: str) -> Callable[[Scene, str], str]:
    return lambda _scene, caller: f"{prefix}-{caller.replace('_', '-')}"


def rows() -> list[Row]:
    d = "/api/v1/dialogs/{dialog_id}"
    a = "/api/v1/appeals/{appeal_id}"
    return [
        Row("GET", "/api/v1/openapi.json", PUBLIC),
        Row("GET", "/api/v1/docs", PUBLIC),
        Row(
            "POST",
            "/api/v1/auth/token",
            PUBLIC,
            body=lambda s, _c: {"login": s.login, "password": PASSWORD},
        ),
        Row("GET", "/api/v1/me", everyone()),
        Row("GET", "/api/v1/events", everyone()),
        Row("WS", "/api/v1/ws", {**everyone(WS_OPEN), **dict.fromkeys(UNAUTHENTICATED, 4401)}),
        # Employees and settings (API.md "Auth and employees").
        Row("GET", "/api/v1/employees", expect(EMPLOYEES)),
        Row(
            "POST",
            "/api/v1/employees",
            expect(("administrator",), 201),
            body=lambda _s, c: {
                "login": _unique("matrix")(_s, c),
                "full_name": "Новый сотрудник",
                "password": PASSWORD,
                "permissions": [],
            },
        ),
        Row(
            "GET",
            "/api/v1/employees/{employee_id}",
            expect(EMPLOYEES),
            url=lambda s, _c: f"/api/v1/employees/{s.target_employee.id}",
        ),
        Row(
            "PATCH",
            "/api/v1/employees/{employee_id}",
            expect(("administrator",)),
            url=lambda s, _c: f"/api/v1/employees/{s.target_employee.id}",
            body=lambda s, _c: {"full_name": s.target_employee.name},
        ),
        Row("PUT", "/api/v1/me/status", expect(EMPLOYEES), body=_status_of),
        Row(
            "PUT",
            "/api/v1/employees/{employee_id}/status",
            expect(("supervisor", "administrator")),
            url=lambda s, _c: f"/api/v1/employees/{s.target_employee.id}/status",
            body=lambda _s, _c: {"status": "offline"},
        ),
        Row("GET", "/api/v1/settings", expect(EMPLOYEES)),
        Row(
            "PATCH",
            "/api/v1/settings",
            expect(("administrator",)),
            body=lambda _s, _c: {"default_general_limit": 3},
        ),
        # Clients, persons, personal managers.
        Row(
            "POST",
            "/api/v1/clients",
            expect(("administrator",), 201),
            body=lambda _s, _c: {"kind": "individual", "name": "Клиент матрицы"},
        ),
        Row("GET", "/api/v1/clients", expect(("supervisor", "pm_admin", "administrator"))),
        Row("GET", "/api/v1/me/clients", expect(EMPLOYEES)),
        Row(
            "GET",
            "/api/v1/clients/{client_id}",
            # Whoever may see one of its dialogs, its manager, the client-facing permissions.
            expect(
                ("invitee", "manager", "supervisor", "pm_admin", "administrator"), employees=404
            ),
            url=lambda s, _c: f"/api/v1/clients/{s.client_id}",
        ),
        Row(
            "POST",
            "/api/v1/clients/{client_id}/persons",
            expect(("administrator",), 201),
            url=lambda s, _c: f"/api/v1/clients/{s.target_client_id}/persons",
            body=lambda _s, _c: {"name": "Ещё один представитель"},
        ),
        Row(
            "GET",
            "/api/v1/clients/{client_id}/persons",
            # Those who may see the client but lack the permission get 403; the rest 404.
            expect(
                {
                    "manager": 200,
                    "supervisor": 200,
                    "administrator": 200,
                    "invitee": 403,
                    "pm_admin": 403,
                },
                employees=404,
            ),
            url=lambda s, _c: f"/api/v1/clients/{s.client_id}/persons",
        ),
        Row(
            "PATCH",
            "/api/v1/persons/{person_id}",
            expect(("administrator",)),
            url=lambda s, _c: f"/api/v1/persons/{s.target_person.id}",
            body=lambda s, _c: {"name": s.target_person.name},
        ),
        Row(
            "POST",
            "/api/v1/persons/{person_id}/token",
            expect(("administrator",)),
            url=lambda s, _c: f"/api/v1/persons/{s.target_person.id}/token",
        ),
        Row(
            "PUT",
            "/api/v1/clients/{client_id}/personal-manager",
            expect(("pm_admin", "administrator")),
            url=lambda s, _c: f"/api/v1/clients/{s.target_client_id}/personal-manager",
            body=lambda _s, _c: {"employee_id": None},
        ),
        Row(
            "GET",
            "/api/v1/clients/{client_id}/personal-manager/history",
            expect(("supervisor", "pm_admin", "administrator")),
            url=lambda s, _c: f"/api/v1/clients/{s.client_id}/personal-manager/history",
        ),
        Row(
            "POST",
            "/api/v1/personal-managers/moves",
            expect(("pm_admin", "administrator")),
            body=lambda s, _c: {
                "from_employee_id": s.emp["manager"].id,
                "to_employee_id": s.emp["previous_manager"].id,
                "dry_run": True,
            },
        ),
        # Dialogs and messages (SPEC 7.3; readers who may not act get 404).
        Row("GET", "/api/v1/dialogs", expect(PERSONS)),
        Row(
            "POST",
            "/api/v1/dialogs",
            expect(
                ("dialog_person", "manager", "supervisor", "administrator"),
                persons=404,
                employees=404,
            ),
            body=lambda s, _c: {"kind": "personal_manager", "person_id": s.person.id},
        ),
        Row("GET", d, expect(READERS, persons=404, employees=404)),
        Row(
            "POST",
            f"{d}/messages",
            expect(READERS, 201, persons=404, employees=404),
            body=lambda _s, c: {"text": f"Сообщение от {c}"},
        ),
        Row("GET", f"{d}/messages", expect(READERS, persons=404, employees=404)),
        Row(
            "POST",
            f"{d}/read",
            expect(READERS, 204, persons=404, employees=404),
            body=lambda s, _c: {"up_to_message_id": s.message_id},
        ),
        Row("GET", f"{d}/participants", expect(READERS, persons=404, employees=404)),
        Row(
            "POST",
            f"{d}/participants",
            # The invitation exists: 200 with it (docs/decisions.md).
            expect(("manager", "supervisor", "administrator"), persons=404, employees=404),
            body=lambda s, _c: {"employee_id": s.emp["invitee"].id},
        ),
        # Appeals, queue, inbox.
        Row("GET", "/api/v1/inbox", expect(EMPLOYEES)),
        Row("GET", "/api/v1/queue", expect(("supervisor", "administrator"))),
        Row("GET", "/api/v1/audit", expect(("supervisor", "administrator"))),
        Row("GET", "/api/v1/audit.csv", expect(("supervisor", "administrator"))),
        Row("GET", a, expect(READERS, persons=404, employees=404)),
        Row("GET", f"{a}/history", expect(READERS, persons=404, employees=404)),
        Row(
            "POST",
            f"{a}/transfer",
            # A PM appeal: 409 for everyone who may see the dialog (API.md), others 404.
            expect(READERS, 409, persons=404, employees=404),
            body=lambda _s, _c: {"employee_id": None},
        ),
        # Rows that change the scene come last, each restoring what the caller before undid.
        Row(
            "POST",
            f"{a}/close",
            expect(
                ("dialog_person", "manager", "supervisor", "administrator"),
                persons=404,
                employees=404,
            ),
            prepare=_reopen_appeal,
        ),
        Row(
            "DELETE",
            f"{d}/participants/{{employee_id}}",
            # The PM, `supervise`, and the participant themself (the invitee removes self).
            expect(
                ("invitee", "manager", "supervisor", "administrator"),
                204,
                persons=404,
                employees=404,
            ),
            url=lambda s, c: (
                f"/api/v1/dialogs/{s.dialog_id}/participants/"
                f"{(s.emp['invitee'] if c == 'invitee' else s.spare).id}"
            ),
            prepare=_invite_spare,
        ),
    ]


def _default_url(scene: Scene, template: str) -> str:
    return template.format(
        dialog_id=scene.dialog_id, appeal_id=scene.appeal_id, client_id=scene.client_id
    )


async def build_scene(world: World, app: Any) -> Scene:
    api = world.api
    previous = await world.manager(status="active", name="Прежний менеджер")
    manager = await world.manager(status="active", name="Новый менеджер")
    invitee = await world.employee([], name="Приглашённый")
    operator = await world.operator()
    supervisor = await world.supervisor()
    pm_admin = await world.employee(["manage_personal_managers"])
    disabled = await world.employee(ALL_PERMISSIONS)
    spare = await world.employee([])
    target_employee = await world.employee([], name="Цель изменений")

    client = await world.client(manager=previous)
    person = client.persons[0]
    dialog = await world.dialog(person, "personal_manager")
    first = await world.write(person, dialog["id"], "Вопрос менеджеру")
    assert (await world.appeal(first["appeal_id"]))["assignee"]["id"] == previous.id
    ok(
        await api.post(
            f"/api/v1/dialogs/{dialog['id']}/participants",
            json={"employee_id": invitee.id},
            headers=previous.headers,
        ),
        201,
    )
    # Handover: B becomes the manager; A keeps the appeal while active, then loses it.
    await world.set_manager(client, manager)
    await world.set_status(previous, "offline")
    appeal = await world.appeal(first["appeal_id"])
    assert appeal["assignee"]["id"] == manager.id, appeal
    assert appeal["reason"] == "handover_to_new_personal_manager", appeal

    other = (await world.client()).persons[0]
    await world.dialog(other, "general")  # so that "their own" dialogs exist
    target = await world.client()
    await disable_employee(world, disabled)
    signer = app.state.signer
    expired, _ = signer.issue("employee", world.admin.id, 0, -60)

    emp = {
        "operator": operator,
        "invitee": invitee,
        "manager": manager,
        "previous_manager": previous,
        "supervisor": supervisor,
        "pm_admin": pm_admin,
        "administrator": world.admin,
    }
    callers: dict[str, dict[str, str]] = {
        "no_token": {},
        "expired_token": auth(expired),
        "disabled_employee": disabled.headers,
        "other_person": other.headers,
        "dialog_person": person.headers,
        **{name: e.headers for name, e in emp.items()},
    }
    return Scene(
        world=world,
        app=app,
        callers=callers,
        emp=emp,
        person=person,
        other_person=other,
        target_employee=target_employee,
        target_person=target.persons[0],
        target_client_id=target.id,
        client_id=client.id,
        dialog_id=dialog["id"],
        appeal_id=first["appeal_id"],
        message_id=first["id"],
        spare=spare,
        login=supervisor.login,
    )


async def websocket_outcome(app: Any, headers: dict[str, str]) -> int:
    """Open /api/v1/ws in-process: WS_OPEN if accepted and kept open, else the close code."""
    token = headers.get("Authorization", "").removeprefix("Bearer ")
    query = f"token={token}".encode() if token else b""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await inbox.put({"type": "websocket.connect"})
    if not token:
        await inbox.put({"type": "websocket.receive", "text": json.dumps({"type": "auth"})})
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "path": "/api/v1/ws",
        "raw_path": b"/api/v1/ws",
        "root_path": "",
        "query_string": query,
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "scheme": "ws",
        "subprotocols": [],
        "state": {},
    }
    task = asyncio.create_task(app(scope, inbox.get, outbox.put))
    outcome: int | None = None
    try:
        while outcome is None:
            try:
                message = await asyncio.wait_for(outbox.get(), timeout=0.5)
            except TimeoutError:
                outcome = WS_OPEN  # accepted and still open
                break
            if message["type"] == "websocket.close":
                outcome = int(message.get("code", 1000))
            elif message["type"] == "websocket.accept":
                continue
    finally:
        await inbox.put({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(task, timeout=5)
    return outcome


def api_routes(app: FastAPI) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for route in app.router.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        inner = [c.original_route for c in contexts()] if contexts else [route]
        for r in inner:
            path = getattr(r, "path", "")
            if not path.startswith("/api/v1/"):
                continue
            if isinstance(r, APIWebSocketRoute):
                found.add(("WS", path))
            elif isinstance(r, APIRoute | Route):
                found.update((m, path) for m in (r.methods or set()) if m != "HEAD")
    return found


async def test_every_endpoint_has_a_row(app: FastAPI) -> None:
    routes = api_routes(app)
    assert len(routes) >= 40, routes
    table = {(row.method, row.path) for row in rows()}
    assert len(table) == len(rows()), "a row is listed twice"
    assert routes - table == set(), f"endpoints without a row: {sorted(routes - table)}"
    assert table - routes == set(), f"rows without an endpoint: {sorted(table - routes)}"
    for row in rows():
        assert set(row.expected) == set(CALLERS), f"{row.method} {row.path}"


async def test_permission_matrix(world: World, app: Any) -> None:
    scene = await build_scene(world, app)
    mismatches: list[str] = []
    for row in rows():
        for caller in CALLERS:
            if row.prepare is not None:
                await row.prepare(scene, caller)
            headers = scene.callers[caller]
            if row.method == "WS":
                got = await websocket_outcome(app, headers)
                detail = ""
            else:
                url = row.url(scene, caller) if row.url else _default_url(scene, row.path)
                kwargs: dict[str, Any] = {"headers": headers}
                if row.body is not None:
                    kwargs["json"] = row.body(scene, caller)
                response = await world.api.request(row.method, url, **kwargs)
                got = response.status_code
                detail = response.text[:120]
                if got >= 400:
                    problem(response, got)
                    if got == 403:
                        # 403 is only for a missing permission or the wrong kind of caller.
                        code = response.json()["code"]
                        assert code in {"permission_denied", "employee_only", "person_only"}
            want = row.expected[caller]
            if got != want:
                mismatches.append(
                    f"{row.method} {row.path} as {caller}: {got}, want {want} {detail}"
                )
    assert not mismatches, "\n".join(mismatches)
    await _assert_scene_intact(scene)


async def _assert_scene_intact(scene: Scene) -> None:
    """The refused requests changed nothing that the table relies on."""
    world = scene.world
    participants = ok(
        await world.api.get(
            f"/api/v1/dialogs/{scene.dialog_id}/participants", headers=world.admin.headers
        )
    )
    ids = {p["employee_id"] for p in participants["items"]}
    assert scene.emp["previous_manager"].id not in ids
    client = ok(
        await world.api.get(f"/api/v1/clients/{scene.client_id}", headers=world.admin.headers)
    )
    assert client["personal_manager"]["id"] == scene.emp["manager"].id
    target = ok(
        await world.api.get(
            f"/api/v1/clients/{scene.target_client_id}", headers=world.admin.headers
        )
    )
    assert target["personal_manager"] is None
    employee = ok(
        await world.api.get(
            f"/api/v1/employees/{scene.target_employee.id}", headers=world.admin.headers
        )
    )
    assert employee["is_enabled"] and employee["permissions"] == []
