"""«Мои клиенты»: a manager finds a client of theirs and writes first; the person sees it."""

from __future__ import annotations

from playwright.async_api import expect

from tests.support import World
from tests.web import bulk
from tests.web.ui import UI, message, set_status

CLIENT = "ООО «Северный ветер»"
PERSON = "Анатолий Крылов"
SECOND = "Мария Крылова"
EVIL = '<img src=x onerror="alert(1)"> ООО «Тест»'


async def test_a_manager_opens_my_clients_and_writes_first(
    world: World, ui: UI, database_url: str
) -> None:
    manager = await world.employee([], name="Анна Смирнова")
    client = await world.client(kind="legal_entity", name=CLIENT, persons=0, manager=manager)
    person = await world.person(client.id, name=PERSON)
    await world.person(client.id, name=SECOND)
    await world.client(name=EVIL, manager=manager)
    await world.client(name="Павел Новиков", manager=manager)
    await world.client(name="Ветров Чужой", manager=await world.employee([]))
    bulk.portfolio(database_url, manager.id, 60)  # «Клиент 0001» … «Клиент 0060», chats begun

    # The person has the chat open (which makes the dialog) before anyone has written in it.
    chat = await ui.person_by_token(person.token)
    await expect(chat.get_by_test_id("chat-manager")).to_contain_text("Анна Смирнова")

    page = await ui.employee(manager.login)
    await set_status(page, "Активен")
    await page.get_by_role("link", name="Мои клиенты").click()
    await page.wait_for_url("**/my-clients")
    await expect(page.get_by_role("heading", name="Мои клиенты", level=1)).to_be_visible()
    cards = page.locator(".client-card")

    # A page of clients (their own only), the next as the list is scrolled; names as text.
    await expect(cards).to_have_count(50)
    await expect(cards.nth(0)).to_contain_text(CLIENT)
    await expect(cards.nth(0)).to_contain_text("ЮЛ")
    await expect(cards.nth(1).locator(".client-name")).to_have_text(f"{EVIL} ФЛ")
    assert await page.locator(".client-card img").count() == 0
    await ui.shot(page, "my-clients")
    await page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    await expect(cards).to_have_count(63)
    await expect(page.locator("#mc-more")).to_be_hidden()
    ids = await cards.evaluate_all("els => els.map((el) => el.dataset.clientId)")
    assert len(set(ids)) == 63
    await expect(page.locator(".client-card", has_text="Ветров Чужой")).to_have_count(0)
    await expect(
        page.get_by_role("button", name="Открыть чат с Представитель 0060")
    ).to_be_visible()

    # Search, then the keyboard alone: Tab from the search field to the first person, Enter.
    search = page.get_by_label("Поиск по клиенту")
    await search.fill("ВЕТЕР")
    await expect(cards).to_have_count(1)
    await expect(cards.first).to_contain_text(CLIENT)
    await expect(page).to_have_url(f"{ui.url}/my-clients?q=%D0%92%D0%95%D0%A2%D0%95%D0%A0")
    await search.focus()
    await page.keyboard.press("Tab")
    open_chat = page.get_by_role("button", name=f"Открыть чат с {PERSON}")
    await expect(open_chat).to_be_focused()
    await expect(page.get_by_role("button", name=f"Написать первым: {SECOND}")).to_be_visible()
    await page.keyboard.press("Enter")

    # The dialog opens with the composer ready; the manager writes first and holds the appeal.
    await page.wait_for_url("**/dialogs/*")
    composer = page.get_by_test_id("composer")
    await expect(composer).to_be_focused()
    await expect(page.get_by_test_id("dialog-label")).to_have_text("Чат с персональным менеджером")
    await page.keyboard.type("Добрый день! Я ваш персональный менеджер.")
    await page.keyboard.press("Enter")
    await expect(message(page, "Я ваш персональный менеджер.")).to_be_visible()
    await expect(page.get_by_test_id("appeal-state")).to_have_text("Назначено: Анна Смирнова")
    await expect(page.get_by_test_id("history")).to_contain_text(
        "открыто сотрудником, написавшим первым"
    )

    # The person sees it live in their chat, and who answers them.
    await expect(message(chat, "Я ваш персональный менеджер.")).to_be_visible()
    await expect(chat.get_by_test_id("chat-state")).to_have_text("Вам отвечает Анна Смирнова")
    await ui.shot(chat, "person-sees-first-message")

    # Back in «Мои клиенты»: a person who never opened the chat gets one made for them.
    await page.go_back()
    await page.wait_for_url("**/my-clients?q=*")
    await page.get_by_role("button", name=f"Написать первым: {SECOND}").click()
    await page.wait_for_url("**/dialogs/*")
    await expect(page.locator("#dialog-person")).to_have_text(SECOND)
    await expect(page.get_by_test_id("composer")).to_be_focused()
    await expect(page.get_by_test_id("appeal-state")).to_have_text("Нет открытого обращения")

    # In English too.
    await page.go_back()
    await page.wait_for_url("**/my-clients?q=*")
    await expect(page.get_by_role("button", name=f"Открыть чат с {SECOND}")).to_be_visible()
    await page.get_by_role("button", name="EN").click()
    await expect(page.get_by_role("heading", name="My clients", level=1)).to_be_visible()
    await expect(page.get_by_role("button", name=f"Open the chat with {PERSON}")).to_be_visible()
    await page.get_by_label("Search by client").fill("нет такого")
    await expect(page.locator("#mc-status")).to_have_text("Nothing found")
    await page.get_by_role("button", name="RU").click()
    await expect(page.get_by_role("heading", name="Мои клиенты", level=1)).to_be_visible()
