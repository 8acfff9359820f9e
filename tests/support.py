"""Typed factories that build a test world through the public HTTP API.

Only the first administrator is created directly (as `switchboard create-admin` does); everything
else goes through the endpoints of API.md, so the tests exercise what banks integrate against.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import httpx

from switchboard.bootstrap import create_admin

PASSWORD = "correct-horse-battery"
ALL_PERMISSIONS = [
    "general_chat",
    "supervise",
    "manage_personal_managers",
    "manage_employees",
    "manage_clients",
    "issue_person_tokens",
]
_counter = itertools.count(1)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Actor:
    id: int
    token: str
    name: str

    @property
    def headers(self) -> dict[str, str]:
        return auth(self.token)


@dataclass
class Emp(Actor):
    login: str = ""


@dataclass
class PersonRef(Actor):
    client_id: int = 0


@dataclass
class ClientRef:
    id: int
    name: str
    persons: list[PersonRef] = field(default_factory=list)


def ok(response: httpx.Response, *statuses: int) -> Any:
    expected = statuses or (200, 201)
    assert response.status_code in expected, (
        f"{response.request.method} {response.request.url} -> {response.status_code}: "
        f"{response.text}"
    )
    if response.status_code == 204 or not response.content:
        return None
    return response.json()


@dataclass
class World:
    api: httpx.AsyncClient
    admin: Emp

    @classmethod
    async def start(cls, api: httpx.AsyncClient, app: Any) -> World:
        login = f"admin{next(_counter)}"
        employee = await create_admin(app.state.db, login, PASSWORD, "Администратор")
        token = await login_token(api, login, PASSWORD)
        return cls(api, Emp(employee.id, token, "Администратор", login))

    @classmethod
    async def connect(cls, api: httpx.AsyncClient, login: str, password: str) -> World:
        """A world on a running server whose first administrator already exists."""
        token = await login_token(api, login, password)
        me = ok(await api.get("/api/v1/me", headers=auth(token)))
        return cls(api, Emp(me["id"], token, me["full_name"], login))

    async def employee(
        self,
        permissions: list[str] | None = None,
        *,
        general_limit: int | None = None,
        status: str | None = None,
        name: str | None = None,
    ) -> Emp:
        n = next(_counter)
        login = f"emp{n}"
        full_name = name or f"Сотрудник {n}"
        body: dict[str, Any] = {
            "login": login,
            "full_name": full_name,
            "password": PASSWORD,
            "permissions": permissions if permissions is not None else ["general_chat"],
            "general_limit": general_limit,
        }
        data = ok(await self.api.post("/api/v1/employees", json=body, headers=self.admin.headers))
        token = await login_token(self.api, login, PASSWORD)
        emp = Emp(data["id"], token, full_name, login)
        if status is not None:
            await self.set_status(emp, status)
        return emp

    async def operator(self, limit: int | None = None, status: str = "active") -> Emp:
        return await self.employee(["general_chat"], general_limit=limit, status=status)

    async def manager(self, status: str = "offline", name: str | None = None) -> Emp:
        return await self.employee([], status=status, name=name)

    async def supervisor(self) -> Emp:
        return await self.employee(["supervise"])

    async def set_status(self, emp: Emp, status: str) -> None:
        ok(await self.api.put("/api/v1/me/status", json={"status": status}, headers=emp.headers))

    async def client(
        self,
        *,
        kind: str = "individual",
        name: str | None = None,
        manager: Emp | None = None,
        persons: int = 1,
    ) -> ClientRef:
        n = next(_counter)
        client_name = name or f"Клиент {n}"
        data = ok(
            await self.api.post(
                "/api/v1/clients",
                json={"kind": kind, "name": client_name},
                headers=self.admin.headers,
            )
        )
        client = ClientRef(data["id"], client_name)
        for _ in range(persons):
            client.persons.append(await self.person(client.id))
        if manager is not None:
            await self.set_manager(client, manager)
        return client

    async def person(self, client_id: int, name: str | None = None) -> PersonRef:
        n = next(_counter)
        person_name = name or f"Представитель {n}"
        data = ok(
            await self.api.post(
                f"/api/v1/clients/{client_id}/persons",
                json={"name": person_name},
                headers=self.admin.headers,
            )
        )
        token = ok(
            await self.api.post(f"/api/v1/persons/{data['id']}/token", headers=self.admin.headers)
        )["access_token"]
        return PersonRef(data["id"], token, person_name, client_id)

    async def set_manager(self, client: ClientRef | int, manager: Emp | None) -> dict[str, Any]:
        client_id = client if isinstance(client, int) else client.id
        result: dict[str, Any] = ok(
            await self.api.put(
                f"/api/v1/clients/{client_id}/personal-manager",
                json={"employee_id": manager.id if manager else None},
                headers=self.admin.headers,
            )
        )
        return result

    async def dialog(self, person: PersonRef, kind: str) -> dict[str, Any]:
        result: dict[str, Any] = ok(
            await self.api.post("/api/v1/dialogs", json={"kind": kind}, headers=person.headers)
        )
        return result

    async def write(self, who: Actor, dialog_id: int, text: str = "Здравствуйте") -> dict[str, Any]:
        result: dict[str, Any] = ok(
            await self.api.post(
                f"/api/v1/dialogs/{dialog_id}/messages", json={"text": text}, headers=who.headers
            ),
            201,
        )
        return result

    async def ask(self, person: PersonRef, kind: str, text: str = "Вопрос") -> dict[str, Any]:
        """The person writes into their dialog of `kind`; returns the appeal as it is now."""
        dialog = await self.dialog(person, kind)
        message = await self.write(person, dialog["id"], text)
        return await self.appeal(message["appeal_id"])

    async def appeal(self, appeal_id: int) -> dict[str, Any]:
        result: dict[str, Any] = ok(
            await self.api.get(f"/api/v1/appeals/{appeal_id}", headers=self.admin.headers)
        )
        return result

    async def history(self, appeal_id: int) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = ok(
            await self.api.get(
                f"/api/v1/appeals/{appeal_id}/history?limit=200", headers=self.admin.headers
            )
        )["items"]
        return result

    async def close(self, who: Actor, appeal_id: int) -> dict[str, Any]:
        result: dict[str, Any] = ok(
            await self.api.post(f"/api/v1/appeals/{appeal_id}/close", headers=who.headers)
        )
        return result

    async def queue(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = ok(
            await self.api.get("/api/v1/queue?limit=200", headers=self.admin.headers)
        )["items"]
        return result

    async def inbox(self, emp: Emp, query: str = "") -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = ok(
            await self.api.get(f"/api/v1/inbox?limit=200{query}", headers=emp.headers)
        )["items"]
        return result


async def login_token(api: httpx.AsyncClient, login: str, password: str) -> str:
    data = ok(await api.post("/api/v1/auth/token", json={"login": login, "password": password}))
    token: str = data["access_token"]
    return token
