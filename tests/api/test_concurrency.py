"""The same request sent several times at once (a retrying app, a double click): the answers are
those of the one-at-a-time case, never a 500 (SPEC 9.5, 10)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx

from tests.api.helpers import pm_setup, problem
from tests.support import PASSWORD, World, ok

TIMES = 5


async def at_once(*requests: Any) -> list[httpx.Response]:
    return list(await asyncio.gather(*requests))


def statuses(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


async def test_create_employee_same_login_at_once(world: World) -> None:
    body = {"login": "twin", "full_name": "Близнец", "password": PASSWORD, "permissions": []}
    responses = await at_once(
        *(
            world.api.post("/api/v1/employees", json=body, headers=world.admin.headers)
            for _ in range(TIMES)
        )
    )
    assert statuses(responses) == Counter({201: 1, 409: TIMES - 1}), [r.text for r in responses]
    for r in responses:
        if r.status_code == 409:
            problem(r, 409, "login_taken")


async def test_create_client_same_external_id_at_once(world: World) -> None:
    body = {"kind": "individual", "name": "Двойник", "external_id": "crm-twin"}
    responses = await at_once(
        *(
            world.api.post("/api/v1/clients", json=body, headers=world.admin.headers)
            for _ in range(TIMES)
        )
    )
    assert statuses(responses) == Counter({201: 1, 409: TIMES - 1}), [r.text for r in responses]
    for r in responses:
        if r.status_code == 409:
            problem(r, 409, "external_id_taken")


async def test_create_person_same_external_id_at_once(world: World) -> None:
    client = await world.client(persons=0)
    body = {"name": "Двойник", "external_id": "idp-twin"}
    url = f"/api/v1/clients/{client.id}/persons"
    responses = await at_once(
        *(world.api.post(url, json=body, headers=world.admin.headers) for _ in range(TIMES))
    )
    assert statuses(responses) == Counter({201: 1, 409: TIMES - 1}), [r.text for r in responses]
    page = ok(await world.api.get(url, headers=world.admin.headers))
    assert len(page["items"]) == 1


async def test_get_or_create_dialog_at_once(world: World) -> None:
    manager = await world.manager()
    client = await world.client(manager=manager)
    person = client.persons[0]
    for kind in ("general", "personal_manager"):
        responses = await at_once(
            *(
                world.api.post("/api/v1/dialogs", json={"kind": kind}, headers=person.headers)
                for _ in range(TIMES)
            )
        )
        assert statuses(responses) == Counter({201: 1, 200: TIMES - 1}), [r.text for r in responses]
        assert len({r.json()["id"] for r in responses}) == 1


async def test_first_dialog_list_at_once(world: World) -> None:
    client = await world.client(manager=await world.manager())
    person = client.persons[0]
    responses = await at_once(
        *(world.api.get("/api/v1/dialogs", headers=person.headers) for _ in range(TIMES))
    )
    assert statuses(responses) == Counter({200: TIMES}), [r.text for r in responses]
    assert len({tuple(d["id"] for d in r.json()["items"]) for r in responses}) == 1


async def test_invite_same_colleague_at_once(world: World) -> None:
    manager, _, _, dialog = await pm_setup(world)
    colleague = await world.employee([])
    url = f"/api/v1/dialogs/{dialog['id']}/participants"
    responses = await at_once(
        *(
            world.api.post(url, json={"employee_id": colleague.id}, headers=manager.headers)
            for _ in range(TIMES)
        )
    )
    assert statuses(responses) == Counter({201: 1, 200: TIMES - 1}), [r.text for r in responses]
    page = ok(await world.api.get(url, headers=manager.headers))
    assert [p["employee_id"] for p in page["items"]] == [colleague.id]


async def test_first_messages_at_once_open_one_appeal(world: World) -> None:
    _, _, person, dialog = await pm_setup(world, status="active")
    url = f"/api/v1/dialogs/{dialog['id']}/messages"
    responses = await at_once(
        *(
            world.api.post(url, json={"text": f"сообщение {i}"}, headers=person.headers)
            for i in range(TIMES)
        )
    )
    assert statuses(responses) == Counter({201: TIMES}), [r.text for r in responses]
    assert len({r.json()["appeal_id"] for r in responses}) == 1


async def test_read_marks_at_once(world: World) -> None:
    manager, _, person, dialog = await pm_setup(world, status="active")
    message = await world.write(person, dialog["id"])
    url = f"/api/v1/dialogs/{dialog['id']}/read"
    responses = await at_once(
        *(
            world.api.post(url, json={"up_to_message_id": message["id"]}, headers=manager.headers)
            for _ in range(TIMES)
        )
    )
    assert statuses(responses) == Counter({204: TIMES}), [r.text for r in responses]


async def test_close_at_once(world: World) -> None:
    _, _, person, _ = await pm_setup(world, status="active")
    appeal = await world.ask(person, "personal_manager")
    url = f"/api/v1/appeals/{appeal['id']}/close"
    responses = await at_once(*(world.api.post(url, headers=person.headers) for _ in range(TIMES)))
    assert statuses(responses) == Counter({200: 1, 409: TIMES - 1}), [r.text for r in responses]
