"""Small HTTP steps shared by the scenario tests (SPEC 2-8), on top of `tests.support.World`.

Every step goes through the public API of API.md; none reads the database.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import Actor, ClientRef, Emp, PersonRef, World, ok

PM = "personal_manager"
GENERAL = "general"

LABEL_RU = {PM: "Чат с персональным менеджером", GENERAL: "Общий чат"}
LABEL_EN = {PM: "Chat with personal manager", GENERAL: "General chat"}

# SPEC 8, verbatim.
QUEUED_REASONS = {
    "no_eligible_operator",
    "waiting_for_personal_manager",
    "no_personal_manager",
    "returned_operator_inactive",
    "returned_by_employee",
}
ASSIGNED_REASONS = {
    "routed",
    "personal_manager_active",
    "handover_to_new_personal_manager",
    "transferred",
    "opened_by_employee",
}
CLOSED_REASONS = {"closed_by_employee", "closed_by_person"}
INFORMATIONAL = {"personal_manager_changed"}
ALL_REASONS = QUEUED_REASONS | ASSIGNED_REASONS | CLOSED_REASONS | INFORMATIONAL


def problem(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """Assert an RFC 9457 problem response with the given status (and stable code)."""
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url} -> {response.status_code} "
        f"(expected {status}): {response.text}"
    )
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    return body


def refused(response: httpx.Response) -> None:
    """SPEC 7.2: every other read or write is refused with 403 or 404."""
    assert response.status_code in (403, 404), (
        f"{response.request.method} {response.request.url} -> {response.status_code}: "
        f"{response.text}"
    )


def reasons(history: list[dict[str, Any]]) -> list[str]:
    """The reason codes of an appeal's history, in order (events without a reason skipped)."""
    return [e["reason"] for e in history if e["reason"] is not None]


def routing(history: list[dict[str, Any]]) -> list[tuple[str, int | None]]:
    """(reason, employee_id) of every routing step, informational entries left out."""
    return [
        (e["reason"], e["employee_id"])
        for e in history
        if e["reason"] is not None and e["reason"] not in INFORMATIONAL
    ]


def assigned_to(appeal: dict[str, Any], emp: Emp, reason: str) -> None:
    assert appeal["status"] == "assigned", appeal
    assert appeal["assignee"]["id"] == emp.id, appeal
    assert appeal["assignee"]["full_name"] == emp.name
    assert appeal["waiting_for"] is None, appeal
    assert appeal["reason"] == reason, appeal


def waiting_for(appeal: dict[str, Any], emp: Emp | None, reason: str) -> None:
    assert appeal["status"] == "queued", appeal
    assert appeal["assignee"] is None, appeal
    if emp is None:
        assert appeal["waiting_for"] is None, appeal
    else:
        assert appeal["waiting_for"]["id"] == emp.id, appeal
    assert appeal["reason"] == reason, appeal


async def pm_client(world: World, manager: Emp, persons: int = 1) -> tuple[ClientRef, PersonRef]:
    client = await world.client(manager=manager, persons=persons)
    return client, client.persons[0]


async def get_dialog(world: World, who: Actor, dialog_id: int, **headers: str) -> httpx.Response:
    return await world.api.get(f"/api/v1/dialogs/{dialog_id}", headers={**who.headers, **headers})


async def post(world: World, who: Actor, dialog_id: int, text: str = "Сообщение") -> httpx.Response:
    return await world.api.post(
        f"/api/v1/dialogs/{dialog_id}/messages", json={"text": text}, headers=who.headers
    )


async def messages(world: World, who: Actor, dialog_id: int) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = ok(
        await world.api.get(f"/api/v1/dialogs/{dialog_id}/messages?limit=200", headers=who.headers)
    )["items"]
    return result


async def employee_dialog(
    world: World, emp: Emp, person: PersonRef, kind: str = PM
) -> httpx.Response:
    return await world.api.post(
        "/api/v1/dialogs", json={"kind": kind, "person_id": person.id}, headers=emp.headers
    )


async def invite(world: World, who: Actor, dialog_id: int, emp: Emp) -> httpx.Response:
    return await world.api.post(
        f"/api/v1/dialogs/{dialog_id}/participants",
        json={"employee_id": emp.id},
        headers=who.headers,
    )


async def uninvite(world: World, who: Actor, dialog_id: int, emp: Emp) -> httpx.Response:
    return await world.api.delete(
        f"/api/v1/dialogs/{dialog_id}/participants/{emp.id}", headers=who.headers
    )


async def transfer(world: World, who: Actor, appeal_id: int, target: Emp | None) -> httpx.Response:
    return await world.api.post(
        f"/api/v1/appeals/{appeal_id}/transfer",
        json={"employee_id": target.id if target else None},
        headers=who.headers,
    )


async def close(world: World, who: Actor, appeal_id: int) -> httpx.Response:
    return await world.api.post(f"/api/v1/appeals/{appeal_id}/close", headers=who.headers)


async def patch_employee(world: World, emp: Emp, **fields: Any) -> dict[str, Any]:
    result: dict[str, Any] = ok(
        await world.api.patch(
            f"/api/v1/employees/{emp.id}", json=fields, headers=world.admin.headers
        )
    )
    return result


async def patch_settings(world: World, **fields: Any) -> dict[str, Any]:
    result: dict[str, Any] = ok(
        await world.api.patch("/api/v1/settings", json=fields, headers=world.admin.headers)
    )
    return result


async def person_dialogs(world: World, person: PersonRef, **headers: str) -> dict[str, Any]:
    """The person's dialogs by kind (GET /api/v1/dialogs)."""
    items = ok(await world.api.get("/api/v1/dialogs", headers={**person.headers, **headers}))[
        "items"
    ]
    return {d["kind"]: d for d in items}


async def pm_dialog_id(world: World, person: PersonRef) -> int:
    return int((await world.dialog(person, PM))["id"])
