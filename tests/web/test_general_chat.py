"""The general chat in the browser: the queue, an operator taking work by going «Активен»,
transfer to another operator, return to the queue, close — each step live on every screen."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.support import World
from tests.web.ui import UI, message, row, send, set_status

GENERAL = "Общий чат"
CLIENT = "Иван Петрович Сидоров"


async def test_general_chat_queue_take_transfer_close(world: World, ui: UI) -> None:
    ivanov = await world.employee(["general_chat"], name="Сергей Иванов", general_limit=3)
    popova = await world.employee(["general_chat"], name="Елена Попова", general_limit=3)
    sokolov = await world.employee(["supervise"], name="Дмитрий Соколов")
    client = await world.client(name=CLIENT, persons=0)
    person_ref = await world.person(client.id, name=CLIENT)

    supervisor = await ui.employee(sokolov.login)
    await supervisor.get_by_role("link", name="Очередь").click()
    await supervisor.wait_for_url("**/queue")
    await expect(supervisor.locator("#queue-status")).to_have_text("Очередь пуста")
    first = await ui.employee(ivanov.login)
    second = await ui.employee(popova.login)

    # A client without a manager: only the general chat; the question waits in the queue.
    person = await ui.person_by_token(person_ref.token)
    await expect(person.get_by_role("tab", name=GENERAL)).to_have_attribute("aria-selected", "true")
    await expect(person.get_by_role("tab", name="Чат с персональным менеджером")).to_be_disabled()
    await send(person, "Как заблокировать карту?\nКажется, я её потерял.")
    await expect(person.get_by_test_id("chat-state")).to_have_text(
        "Обращение в очереди — ответит первый свободный специалист"
    )

    queued = supervisor.locator("#queue-body tr", has_text=CLIENT)
    await expect(queued).to_be_visible()
    await expect(queued).to_contain_text("нет свободного оператора")
    await expect(queued).to_contain_text("любого свободного оператора")
    await expect(queued).to_contain_text(GENERAL)
    await expect(queued.locator("td.waiting")).to_have_text(re.compile(r"^\d+ (с|мин)"))
    await ui.shot(supervisor, "queue")

    # Сергей Иванов goes «Активен» and gets it; the queue empties live.
    await set_status(first, "Активен")
    first_row = row(first, CLIENT)
    await expect(first_row).to_be_visible()
    await expect(first_row.get_by_test_id("dialog-label")).to_have_text(GENERAL)
    await expect(first_row.get_by_test_id("row-state")).to_have_text("Назначено: Сергей Иванов")
    await expect(supervisor.locator("#queue-status")).to_have_text("Очередь пуста")
    await expect(person.get_by_test_id("chat-state")).to_have_text("Вам отвечает Сергей Иванов")

    await first_row.click()
    await first.wait_for_url("**/dialogs/*")
    text = first.locator(".msg-text", has_text="Как заблокировать карту?")
    await expect(text).to_have_text("Как заблокировать карту?\nКажется, я её потерял.")
    await expect(first.get_by_test_id("history")).to_contain_text("назначено свободному оператору")
    await send(first, "Сейчас помогу.")
    await expect(message(person, "Сейчас помогу.")).to_be_visible()

    # Елена Попова becomes active; Сергей transfers the appeal to her.
    await set_status(second, "Активен")
    await expect(first.get_by_test_id("transfer-select").locator("option")).to_contain_text(
        ["Елена Попова"]
    )
    await ui.shot(first, "dialog-before-transfer")
    await first.get_by_test_id("transfer-select").select_option(label="Елена Попова")
    await first.get_by_test_id("transfer").click()
    await first.wait_for_url("**/inbox")
    await expect(row(first, CLIENT)).to_have_count(0)
    second_row = row(second, CLIENT)
    await expect(second_row).to_be_visible()
    await expect(second_row.get_by_test_id("row-state")).to_have_text("Назначено: Елена Попова")
    await expect(person.get_by_test_id("chat-state")).to_have_text("Вам отвечает Елена Попова")

    await second_row.click()
    await second.wait_for_url("**/dialogs/*")
    await expect(second.get_by_test_id("history")).to_contain_text("передано другому сотруднику")
    await expect(message(second, "Сейчас помогу.")).to_be_visible()

    # Back to the queue: routing gives it straight to the operator who waited longest.
    await second.get_by_test_id("transfer-queue").click()
    await second.wait_for_url("**/inbox")
    await expect(row(first, CLIENT)).to_be_visible()
    await expect(row(first, CLIENT).get_by_test_id("row-state")).to_have_text(
        "Назначено: Сергей Иванов"
    )

    # Сергей answers and closes: the person sees the question settled.
    await row(first, CLIENT).click()
    await first.wait_for_url("**/dialogs/*")
    await expect(first.get_by_test_id("history")).to_contain_text(
        "возвращено в очередь сотрудником"
    )
    await send(first, "Карта заблокирована, перевыпуск бесплатный.")
    await expect(message(person, "Карта заблокирована")).to_be_visible()
    await ui.shot(person, "person-answered")
    await first.get_by_test_id("close-appeal").click()
    await first.wait_for_url("**/inbox")
    await expect(row(first, CLIENT)).to_have_count(0)
    await expect(person.get_by_test_id("chat-state")).to_have_text("Напишите нам — ответим здесь")
    await expect(person.get_by_role("button", name="Вопрос решён")).to_be_hidden()
    appeals = await world.queue()
    assert appeals == []
    await ui.shot(first, "inbox-after-close")
