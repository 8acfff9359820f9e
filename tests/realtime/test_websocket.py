"""API.md "Real time" on one server process: live delivery, audience, replay with after=."""

from __future__ import annotations

import asyncio

from tests.realtime.server import Server, open_socket
from tests.support import World, ok


async def test_manager_receives_the_persons_message_live(server: Server, live: World) -> None:
    manager = await live.manager(status="active")
    outsider = await live.operator(limit=3)
    client = await live.client(manager=manager)
    person = client.persons[0]
    dialog = await live.dialog(person, "personal_manager")
    async with (
        open_socket(server, manager.token) as mine,
        open_socket(server, outsider.token) as theirs,
        open_socket(server, person.token) as persons,
    ):
        message = await live.write(person, dialog["id"], "Добрый день")
        event = await mine.wait_for(lambda e: e["type"] == "message.created", timeout=1.0)
        assert event["data"]["id"] == message["id"]
        assert event["data"]["dialog_id"] == dialog["id"]
        assert event["data"]["text"] == "Добрый день"
        assert await persons.wait_for(lambda e: e["type"] == "message.created")
        await asyncio.sleep(0.3)
        assert [e for e in theirs.events if e["data"].get("dialog_id") == dialog["id"]] == []
    ids = [e["id"] for e in mine.events]
    assert ids == sorted(ids) and len(ids) == len(set(ids))


async def test_invitee_gets_the_dialogs_events_from_the_invitation_on(
    server: Server, live: World
) -> None:
    manager = await live.manager(status="active")
    colleague = await live.manager(status="active")
    client = await live.client(manager=manager)
    person = client.persons[0]
    dialog = await live.dialog(person, "personal_manager")
    async with open_socket(server, colleague.token) as theirs:
        await live.write(person, dialog["id"], "до приглашения")
        ok(
            await live.api.post(
                f"/api/v1/dialogs/{dialog['id']}/participants",
                json={"employee_id": colleague.id},
                headers=manager.headers,
            ),
            201,
        )
        await live.write(person, dialog["id"], "после приглашения")
        await theirs.wait_for(
            lambda e: e["type"] == "message.created" and e["data"]["text"] == "после приглашения"
        )
        texts = [e["data"].get("text") for e in theirs.events if e["type"] == "message.created"]
        assert texts == ["после приглашения"]
        assert any(e["type"] == "dialog.participant_added" for e in theirs.events)


async def test_reconnect_with_after_replays_missed_events_once_then_goes_live(
    server: Server, live: World
) -> None:
    manager = await live.manager(status="active")
    client = await live.client(manager=manager)
    person = client.persons[0]
    dialog = await live.dialog(person, "personal_manager")
    async with open_socket(server, manager.token) as first:
        await live.write(person, dialog["id"], "один")
        seen = await first.wait_for(lambda e: e["type"] == "message.created")
    last_seen = max(e["id"] for e in first.events)
    assert seen["id"] <= last_seen
    for text in ("два", "три", "четыре"):
        await live.write(person, dialog["id"], text)

    async with open_socket(server, manager.token, after=last_seen) as second:
        await second.wait_for(lambda e: e.get("data", {}).get("text") == "четыре")
        await live.write(person, dialog["id"], "пять")
        await second.wait_for(lambda e: e.get("data", {}).get("text") == "пять")
    texts = [e["data"]["text"] for e in second.events if e["type"] == "message.created"]
    assert texts == ["два", "три", "четыре", "пять"]
    ids = [e["id"] for e in second.events]
    assert ids == sorted(set(ids)) and min(ids) > last_seen

    listed = ok(
        await live.api.get(f"/api/v1/events?after={last_seen}&limit=200", headers=manager.headers)
    )
    assert [e["id"] for e in listed["items"]] == ids
    assert listed["next_cursor"] is None


async def test_events_list_pages_and_hides_other_peoples_events(live: World) -> None:
    manager = await live.manager(status="active")
    stranger = await live.manager(status="active")
    client = await live.client(manager=manager)
    person = client.persons[0]
    dialog = await live.dialog(person, "personal_manager")
    for i in range(5):
        await live.write(person, dialog["id"], f"m{i}")
    first = ok(await live.api.get("/api/v1/events?after=0&limit=3", headers=manager.headers))
    assert len(first["items"]) == 3 and first["next_cursor"] is not None
    rest = ok(
        await live.api.get(
            f"/api/v1/events?after={first['next_cursor']}&limit=200", headers=manager.headers
        )
    )
    all_ids = [e["id"] for e in first["items"] + rest["items"]]
    assert all_ids == sorted(set(all_ids))
    texts = [
        e["data"]["text"] for e in first["items"] + rest["items"] if e["type"] == "message.created"
    ]
    assert texts == [f"m{i}" for i in range(5)]
    theirs = ok(await live.api.get("/api/v1/events?after=0&limit=200", headers=stranger.headers))
    assert all(e["data"].get("dialog_id") != dialog["id"] for e in theirs["items"])
    other = await live.client()
    persons_view = ok(
        await live.api.get("/api/v1/events?after=0&limit=200", headers=other.persons[0].headers)
    )
    assert all(e["data"].get("dialog_id") != dialog["id"] for e in persons_view["items"])


async def test_a_bad_token_is_refused(server: Server) -> None:
    import websockets

    connection = await websockets.connect(f"{server.ws_url}?token=nonsense")
    try:
        await connection.recv()
    except websockets.ConnectionClosed as closed:
        assert closed.rcvd is not None and closed.rcvd.code == 4401
    else:
        raise AssertionError("the server kept a connection with a bad token")


async def test_the_token_of_a_websocket_never_reaches_the_log(server: Server, live: World) -> None:
    employee = await live.operator()
    async with open_socket(server, employee.token) as sock:
        await asyncio.sleep(0.2)
        del sock
    log = server.log_tail()
    assert "/api/v1/ws" in log
    assert employee.token not in log
    assert employee.token.split(".")[1] not in log


async def test_a_previous_manager_who_lost_access_gets_nothing_more(
    server: Server, live: World
) -> None:
    old = await live.manager(status="active")
    new = await live.manager(status="active")
    client = await live.client(manager=old)
    person = client.persons[0]
    appeal = await live.ask(person, "personal_manager", "первое")
    async with open_socket(server, old.token) as olds:
        await live.set_manager(client, new)
        await live.set_status(old, "break")  # the handover: the old manager loses access
        handed = await olds.wait_for(
            lambda e: e["type"] == "appeal.assigned" and e["data"]["id"] == appeal["id"]
        )
        assert handed["data"]["assignee"]["id"] == new.id
        await live.write(person, appeal["dialog_id"], "после передачи")
        await asyncio.sleep(0.6)
        texts = [e["data"].get("text") for e in olds.events if e["type"] == "message.created"]
        assert "после передачи" not in texts
    r = await live.api.get(f"/api/v1/dialogs/{appeal['dialog_id']}", headers=old.headers)
    assert r.status_code == 404
