"""The PostgreSQL fast path for a message into an open appeal stores exactly what the general
path stores, and steps aside for everything else."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import select

from switchboard.dialogs import hotpath
from switchboard.dialogs.models import Dialog, ReadMark
from tests.engine.test_outbox import Event, _events
from tests.support import World

pytestmark = pytest.mark.postgres_only


class Spy:
    """Wraps the fast path: records whether it took each request, or switches it off."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.taken: list[bool] = []
        self.enabled = True
        original = hotpath.post_message

        async def wrapper(*args: Any, **kwargs: Any) -> hotpath.Stored | None:
            if not self.enabled:
                self.taken.append(False)
                return None
            stored = await original(*args, **kwargs)
            self.taken.append(stored is not None)
            return stored

        monkeypatch.setattr(hotpath, "post_message", wrapper)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Spy:
    return Spy(monkeypatch)


def _comparable(event: Event) -> tuple[Any, ...]:
    data = {
        k: v
        for k, v in event.data.items()
        if k not in ("id", "created_at", "text", "client_message_id")
    }
    return (
        event.type,
        event.dialog_id,
        data,
        event.supervisors,
        event.employee_ids,
        event.person_ids,
    )


async def _read_mark(app: Any, dialog_id: int, reader_type: str, reader_id: int) -> int:
    async with app.state.db.uow() as uow:
        mark = await uow.session.scalar(
            select(ReadMark.last_read_message_id).where(
                ReadMark.dialog_id == dialog_id,
                ReadMark.reader_type == reader_type,
                ReadMark.reader_id == reader_id,
            )
        )
        return int(mark or 0)


async def test_fast_and_general_paths_store_the_same(world: World, app: Any, spy: Spy) -> None:
    manager = await world.manager(status="active")
    colleague = await world.manager(status="active")
    client = await world.client(manager=manager)
    person = client.persons[0]
    appeal = await world.ask(person, "personal_manager", "Первое сообщение")
    dialog_id = appeal["dialog_id"]
    invited = await world.api.post(
        f"/api/v1/dialogs/{dialog_id}/participants",
        json={"employee_id": colleague.id},
        headers=manager.headers,
    )
    assert invited.status_code == 201, invited.text
    spy.taken.clear()

    results: dict[str, list[tuple[dict[str, Any], Event]]] = {"fast": [], "general": []}
    for path in ("fast", "general"):
        spy.enabled = path == "fast"
        for author in (person, manager, colleague):
            before = len(await _events(app))
            text = f"{path} · {author.id} · 👩‍💼 \u200f"
            r = await world.api.post(
                f"/api/v1/dialogs/{dialog_id}/messages",
                json={"text": text, "client_message_id": f"{path}-{author.id}"},
                headers=author.headers,
            )
            assert r.status_code == 201, r.text
            body = r.json()
            assert body["text"] == text
            new = (await _events(app))[before:]
            assert [e.type for e in new] == ["message.created"]
            assert new[0].data == body  # the event carries the REST shape
            results[path].append((body, new[0]))
            mark_type = "person" if author is person else "employee"
            assert await _read_mark(app, dialog_id, mark_type, author.id) == body["id"]
            async with app.state.db.uow() as uow:
                dialog = await uow.session.get(Dialog, dialog_id)
                assert dialog is not None and dialog.last_message_id == body["id"]
    assert spy.taken == [True, True, True, False, False, False]

    for (fast_body, fast_event), (general_body, general_event) in zip(
        results["fast"], results["general"], strict=True
    ):
        assert fast_body.keys() == general_body.keys()
        assert fast_body["author"] == general_body["author"]
        assert fast_body["appeal_id"] == general_body["appeal_id"] == appeal["id"]
        assert _comparable(fast_event) == _comparable(general_event)
        assert fast_event.employee_ids == {manager.id, colleague.id}
        assert fast_event.person_ids == {person.id}

    # The history reads back what was answered, in order.
    listed = await world.api.get(f"/api/v1/dialogs/{dialog_id}/messages", headers=person.headers)
    bodies = [b for path in ("fast", "general") for b, _ in results[path]]
    assert listed.json()["items"][-6:] == bodies


async def test_the_fast_path_steps_aside(world: World, app: Any, spy: Spy) -> None:
    manager = await world.manager(status="active")
    outsider = await world.operator()
    client = await world.client(manager=manager)
    person = client.persons[0]
    dialog = await world.dialog(person, "personal_manager")
    url = f"/api/v1/dialogs/{dialog['id']}/messages"

    # No open appeal: the general path opens and routes one.
    first = await world.api.post(url, json={"text": "Откройте"}, headers=person.headers)
    assert first.status_code == 201
    assert spy.taken == [False]
    # An employee who may not see the dialog: 404 from the general path, nothing stored.
    denied = await world.api.post(url, json={"text": "Чужой"}, headers=outsider.headers)
    assert denied.status_code == 404
    assert denied.json()["code"] == "dialog_not_found"
    # A replay of a client_message_id: the stored message, 200.
    once = await world.api.post(
        url, json={"text": "Один раз", "client_message_id": "k1"}, headers=person.headers
    )
    again = await world.api.post(
        url, json={"text": "Один раз", "client_message_id": "k1"}, headers=person.headers
    )
    assert (once.status_code, again.status_code) == (201, 200)
    assert again.json() == once.json()
    clash = await world.api.post(
        url, json={"text": "Другой", "client_message_id": "k1"}, headers=person.headers
    )
    assert clash.status_code == 409
    assert clash.json()["code"] == "idempotency_conflict"
    assert spy.taken == [False, False, True, False, False]

    # A disabled person's token: 401, from the general path.
    disabled = await world.api.patch(
        f"/api/v1/persons/{person.id}", json={"is_enabled": False}, headers=world.admin.headers
    )
    assert disabled.status_code == 200, disabled.text
    gone = await world.api.post(url, json={"text": "После"}, headers=person.headers)
    assert gone.status_code == 401
    assert spy.taken[-1] is False

    listed = await world.api.get(url, headers=manager.headers)
    assert [m["text"] for m in listed.json()["items"]] == ["Откройте", "Один раз"]


async def test_a_pooled_connection_the_database_dropped_is_never_a_500(
    world: World, app: Any, spy: Spy
) -> None:
    """Without a pre-ping, a pooled connection may be dead when it is checked out (the database
    restarted, a proxy cut it): the fast path steps aside, and the answer is the message stored or
    a 503 to retry — never a 500."""
    manager = await world.manager(status="active")
    person = (await world.client(manager=manager)).persons[0]
    appeal = await world.ask(person, "personal_manager", "До обрыва")
    url = f"/api/v1/dialogs/{appeal['dialog_id']}/messages"
    dsn = app.state.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    killer = await asyncpg.connect(dsn)
    try:
        dropped = await killer.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await killer.close()
    assert dropped >= 1
    await asyncio.sleep(0.3)  # the driver sees its sockets closed
    statuses = []
    for _ in range(5):
        answer = await world.api.post(url, json={"text": "После обрыва"}, headers=person.headers)
        statuses.append(answer.status_code)
        if answer.status_code == 201:
            break
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "database_unavailable"
    assert statuses[-1] == 201, statuses
    assert spy.taken[0] is False  # the dead connection made the fast path step aside
    listed = await world.api.get(url, headers=manager.headers)
    assert [m["text"] for m in listed.json()["items"]] == ["До обрыва", "После обрыва"]


async def test_messages_arriving_together_are_stored_as_if_one_by_one(
    world: World, app: Any, spy: Spy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Messages posted at the same moment share statements (a group commit); each is stored,
    acknowledged and announced exactly as alone, and one the fast path may not take is left to
    the general path without touching the others."""
    sizes: list[int] = []
    post_group = hotpath._post_group

    async def counting(db: Any, messages: list[Any]) -> list[hotpath.Stored | None]:
        sizes.append(len(messages))
        return await post_group(db, messages)

    monkeypatch.setattr(hotpath, "_post_group", counting)
    manager = await world.manager(status="active")
    outsider = await world.operator()
    a = (await world.client(manager=manager)).persons[0]
    b = (await world.client(manager=manager)).persons[0]
    dialog_a = (await world.ask(a, "personal_manager", "Начало"))["dialog_id"]
    dialog_b = (await world.ask(b, "personal_manager", "Начало"))["dialog_id"]
    before = len(await _events(app))
    url_a, url_b = (f"/api/v1/dialogs/{d}/messages" for d in (dialog_a, dialog_b))

    def post(url: str, headers: dict[str, str], text: str, key: str | None = None) -> Any:
        body: dict[str, str] = {"text": text}
        if key is not None:
            body["client_message_id"] = key
        return world.api.post(url, json=body, headers=headers)

    calls = [post(url_a, a.headers, f"A{i}", f"a{i}") for i in range(12)]
    calls += [post(url_b, b.headers, f"B{i}") for i in range(12)]
    calls += [
        post(url_a, a.headers, "A0", "a0"),  # the same key twice at once: stored once
        post(url_a, outsider.headers, "Чужой"),  # may not write here: the general path's 404
        post(url_a, manager.headers, "Ответ"),
    ]
    answers = await asyncio.gather(*calls)

    codes = [r.status_code for r in answers]
    assert codes[1:24] == [201] * 23
    assert sorted([codes[0], codes[24]]) == [200, 201]  # whichever came second is the replay
    assert answers[24].json() == answers[0].json()
    assert codes[25:] == [404, 201]
    assert max(sizes) > 1  # they did go together

    listed_a = (await world.api.get(f"{url_a}?limit=100", headers=manager.headers)).json()
    texts_a = [m["text"] for m in listed_a["items"]]
    assert sorted(texts_a) == sorted(["Начало", *(f"A{i}" for i in range(12)), "Ответ"])
    stored = [r.json() for r in answers[:24]] + [answers[26].json()]
    ids = [m["id"] for m in stored]
    assert len(set(ids)) == len(ids)
    # Each message's event, once, in the order of the message ids, for the dialog's audience.
    new = [e for e in (await _events(app))[before:] if e.type == "message.created"]
    assert [e.data["id"] for e in new] == sorted(ids)
    for event in new:
        assert event.employee_ids == {manager.id}
        assert event.person_ids == ({a.id} if event.dialog_id == dialog_a else {b.id})
    # The dialog's newest message and each author's read mark: the highest of theirs.
    async with app.state.db.uow() as uow:
        last = dict(
            (
                await uow.session.execute(
                    select(Dialog.id, Dialog.last_message_id).where(
                        Dialog.id.in_([dialog_a, dialog_b])
                    )
                )
            ).all()
        )
    a_ids = [m["id"] for m in stored if m["dialog_id"] == dialog_a]
    b_ids = [m["id"] for m in stored if m["dialog_id"] == dialog_b]
    assert last == {dialog_a: max(a_ids), dialog_b: max(b_ids)}
    a_own = [m["id"] for m in stored if m["dialog_id"] == dialog_a and m["author"]["id"] == a.id]
    assert await _read_mark(app, dialog_a, "person", a.id) == max(a_own)
    assert await _read_mark(app, dialog_b, "person", b.id) == max(b_ids)
    assert await _read_mark(app, dialog_a, "employee", manager.id) == answers[26].json()["id"]
