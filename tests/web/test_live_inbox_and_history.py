"""The Inbox reorders itself live; a long history loads upward in pages without a jump."""

from __future__ import annotations

import asyncio

from playwright.async_api import expect

from tests.support import World
from tests.web.ui import UI, row


async def test_rows_move_up_and_unread_counts_change_live(world: World, ui: UI) -> None:
    manager = await world.employee([], name="Анна Смирнова", status="active")
    older = await world.client(name="Павел Новиков", manager=manager)
    newer = await world.client(kind="legal_entity", name="АО «Уральские станки»", manager=manager)
    older_dialog = await world.dialog(older.persons[0], "personal_manager")
    newer_dialog = await world.dialog(newer.persons[0], "personal_manager")
    await world.write(older.persons[0], older_dialog["id"], "Первый вопрос")
    await world.write(newer.persons[0], newer_dialog["id"], "Второй вопрос")

    page = await ui.employee(manager.login)
    rows = page.locator(".inbox-row")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_contain_text("АО «Уральские станки»")
    await expect(row(page, "Павел Новиков").get_by_test_id("unread")).to_have_text("1")

    await world.write(older.persons[0], older_dialog["id"], "Ещё вопрос")
    await expect(rows.nth(0)).to_contain_text("Павел Новиков")
    await expect(rows.nth(0)).to_contain_text("Ещё вопрос")
    await expect(row(page, "Павел Новиков").get_by_test_id("unread")).to_have_text("2")

    # Filters and search go to the server; the list follows them.
    await page.fill("#f-q", "урал")
    await expect(rows).to_have_count(1)
    await expect(rows.nth(0)).to_contain_text("ЮЛ")
    await page.fill("#f-q", "")
    await page.check("#f-unread")
    await expect(rows).to_have_count(2)
    await row(page, "Павел Новиков").click()
    await page.wait_for_url("**/dialogs/*")
    await expect(page.locator(".msg", has_text="Ещё вопрос")).to_be_visible()
    await page.go_back()
    await page.wait_for_url("**/inbox?unread=true")
    await expect(rows).to_have_count(1)
    await ui.shot(page, "inbox-unread-filter")


async def test_long_history_pages_upward_without_a_jump(world: World, ui: UI) -> None:
    manager = await world.employee([], name="Анна Смирнова", status="active")
    client = await world.client(name="Иван Сидоров", manager=manager)
    person = client.persons[0]
    dialog = await world.dialog(person, "personal_manager")
    for n in range(1, 131):
        author = person if n % 2 else manager
        await world.write(author, dialog["id"], f"Сообщение {n:03d}")

    page = await ui.employee(manager.login)
    await page.goto(f"{ui.url}/dialogs/{dialog['id']}")
    items = page.locator(".message-items > li")
    await expect(items).to_have_count(50)
    await expect(items.last).to_contain_text("Сообщение 130")
    scroller = page.get_by_test_id("messages")

    # Scroll to the top: the previous page arrives above, and what was in view stays put.
    # Measured from the top of the history's own viewport: the panels above it (appeal, routing
    # history) may still be settling and move the whole history on the page.
    in_view = """el => {
        const anchor = [...el.querySelectorAll('.msg')]
            .find((m) => m.textContent.includes('Сообщение 081'));
        return anchor.getBoundingClientRect().top - el.getBoundingClientRect().top;
    }"""
    top_at_scroll = await scroller.evaluate(
        f"el => {{ el.scrollTop = 0; return ({in_view})(el); }}"
    )
    await expect(items).to_have_count(100)
    top_after = await scroller.evaluate(in_view)
    assert abs(top_after - top_at_scroll) < 2, (top_at_scroll, top_after)
    await scroller.evaluate("el => { el.scrollTop = 0; }")
    await expect(items).to_have_count(130)
    await expect(items.first).to_contain_text("Сообщение 001")
    await expect(page.get_by_role("button", name="Показать более ранние")).to_be_hidden()

    # While the reader is up in the history, a live message does not move the view.
    before = await scroller.evaluate("el => el.scrollTop")
    await world.write(person, dialog["id"], "Новое сообщение")
    await expect(page.get_by_role("button", name="Новые сообщения ↓")).to_be_visible()
    assert await scroller.evaluate("el => el.scrollTop") == before
    await page.get_by_role("button", name="Новые сообщения ↓").click()
    await expect(page.locator(".msg", has_text="Новое сообщение")).to_be_in_viewport()
    await asyncio.sleep(0.2)
    await ui.shot(page, "long-history")
