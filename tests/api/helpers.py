"""Assertions shared by the API contract tests (API.md)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.support import ClientRef, Emp, PersonRef, World, ok

PROBLEM_JSON = "application/problem+json"
PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)$")
LABEL_RU = {"personal_manager": "Чат с персональным менеджером", "general": "Общий чат"}
LABEL_EN = {"personal_manager": "Chat with personal manager", "general": "General chat"}
EMPLOYEE_FIELDS = {
    "id",
    "login",
    "full_name",
    "permissions",
    "general_limit",
    "status",
    "is_enabled",
}
APPEAL_FIELDS = {
    "id",
    "dialog_id",
    "kind",
    "status",
    "assignee",
    "waiting_for",
    "reason",
    "opened_at",
    "assigned_at",
    "closed_at",
}
MESSAGE_FIELDS = {"id", "dialog_id", "appeal_id", "author", "text", "created_at"}
DIALOG_FIELDS = {
    "id",
    "kind",
    "label",
    "client",
    "person",
    "responsible",
    "participants",
    "open_appeal",
    "created_at",
    "last_message_at",
}
PM_CHANGE_FIELDS = {
    "client_id",
    "personal_manager_id",
    "previous_personal_manager_id",
    "changed_at",
    "changed_by",
}


def problem(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is RFC 9457 problem JSON with the given status (and `code`, when given)."""
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url} -> {response.status_code} "
        f"(expected {status}): {response.text}"
    )
    content_type = response.headers.get("content-type", "").split(";")[0].strip()
    assert content_type == PROBLEM_JSON, f"content-type {content_type!r}: {response.text}"
    body: dict[str, Any] = response.json()
    assert body.keys() >= PROBLEM_KEYS, body
    assert body["status"] == status, body
    assert isinstance(body["type"], str) and body["type"], body
    assert isinstance(body["title"], str) and body["title"], body
    assert isinstance(body["detail"], str) and body["detail"], body
    assert isinstance(body["code"], str) and SNAKE.match(body["code"]), body
    if code is not None:
        assert body["code"] == code, body
    return body


def assert_time(value: Any) -> None:
    assert isinstance(value, str) and RFC3339_UTC.match(value), value


def assert_page(body: Any) -> list[dict[str, Any]]:
    assert isinstance(body, dict) and set(body) == {"items", "next_cursor"}, body
    assert isinstance(body["items"], list)
    assert body["next_cursor"] is None or isinstance(body["next_cursor"], str)
    items: list[dict[str, Any]] = body["items"]
    return items


async def collect(
    api: httpx.AsyncClient, url: str, headers: dict[str, str], limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Every item of a cursor-paged list, and the number of pages it took."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    sep = "&" if "?" in url else "?"
    while True:
        query = f"{url}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        page = ok(await api.get(query, headers=headers), 200)
        got = assert_page(page)
        assert len(got) <= limit
        items.extend(got)
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages
        assert pages < 100, "paging does not end"


async def disable_employee(world: World, emp: Emp) -> None:
    ok(
        await world.api.patch(
            f"/api/v1/employees/{emp.id}", json={"is_enabled": False}, headers=world.admin.headers
        ),
        200,
    )


async def disable_person(world: World, person: PersonRef) -> None:
    ok(
        await world.api.patch(
            f"/api/v1/persons/{person.id}", json={"is_enabled": False}, headers=world.admin.headers
        ),
        200,
    )


async def bad_credentials(world: World) -> list[tuple[str, dict[str, str]]]:
    """Header sets that must all get 401: none, garbage, and tokens of the disabled."""
    emp = await world.employee(
        [
            "general_chat",
            "supervise",
            "manage_personal_managers",
            "manage_employees",
            "manage_clients",
            "issue_person_tokens",
        ]
    )
    client = await world.client()
    person = client.persons[0]
    await disable_employee(world, emp)
    await disable_person(world, person)
    return [
        ("no token", {}),
        ("garbage token", {"Authorization": "Bearer garbage"}),
        ("not bearer", {"Authorization": f"Basic {emp.token}"}),
        ("disabled employee", emp.headers),
        ("disabled person", person.headers),
    ]


async def assert_unauthorized(
    world: World, method: str, url: str, json: Any = None, *, body: bool = False
) -> None:
    for label, headers in await bad_credentials(world):
        kwargs: dict[str, Any] = {"headers": headers}
        if json is not None or body:
            kwargs["json"] = json
        response = await world.api.request(method, url, **kwargs)
        assert response.status_code == 401, f"{label}: {method} {url} -> {response.text}"
        problem(response, 401)


async def pm_setup(
    world: World, *, status: str = "active", persons: int = 1
) -> tuple[Emp, ClientRef, PersonRef, dict[str, Any]]:
    """A manager, their client, the client's person and the person's PM dialog."""
    manager = await world.manager(status=status)
    client = await world.client(manager=manager, persons=persons)
    person = client.persons[0]
    dialog = await world.dialog(person, "personal_manager")
    return manager, client, person, dialog


async def messages(
    world: World, dialog_id: int, who: Emp | PersonRef | None = None, query: str = ""
) -> list[dict[str, Any]]:
    headers = (who or world.admin).headers
    page = ok(
        await world.api.get(
            f"/api/v1/dialogs/{dialog_id}/messages?limit=200{query}", headers=headers
        ),
        200,
    )
    return assert_page(page)
