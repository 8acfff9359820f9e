"""The seed's story in five browsers: a person, their manager, a second manager, a colleague and
an administrator, each in a context of their own, everything arriving live."""

from __future__ import annotations

from playwright.async_api import expect

from tests.support import World
from tests.web.ui import UI, message, row, send, set_status

PM_LABEL = "Чат с персональным менеджером"
CLIENT = "ООО «Северный ветер»"
PERSON = "Анатолий Крылов"


async def test_personal_manager_story(world: World, ui: UI) -> None:
    volkov = await world.employee([], name="Игорь Волков")  # offline
    smirnova = await world.employee([], name="Анна Смирнова", status="active")
    popova = await world.employee(["general_chat"], name="Елена Попова", general_limit=0)
    client = await world.client(kind="legal_entity", name=CLIENT, persons=0)
    await world.person(client.id, name=PERSON)
    await world.set_manager(client, volkov)

    manager = await ui.employee(volkov.login)
    await expect(manager.locator(".status-btn[aria-pressed=true]")).to_have_text("Не в сети")
    await expect(row(manager, CLIENT)).to_have_count(0)
    second = await ui.employee(smirnova.login)
    colleague = await ui.employee(popova.login)
    admin = await ui.page()

    # The person writes while the manager is offline, and sees that the appeal waits for him.
    person = await ui.person_by_picker(CLIENT, PERSON)
    await expect(person.get_by_role("tab", name=PM_LABEL)).to_have_attribute(
        "aria-selected", "true"
    )
    await expect(person.get_by_test_id("chat-manager")).to_contain_text("Игорь Волков")
    await expect(person.get_by_test_id("chat-manager")).to_contain_text("Не в сети")
    await send(person, "Добрый день! Хочу открыть вклад.")
    await expect(message(person, "Добрый день! Хочу открыть вклад.")).to_be_visible()
    await expect(person.get_by_test_id("chat-state")).to_have_text(
        "Ваш менеджер сейчас не в сети — обращение ждёт его"
    )
    await ui.shot(person, "person-waits")

    # The manager goes «Активен»: the dialog is in his Inbox, labelled, and now his.
    pm_row = row(manager, CLIENT)
    await set_status(manager, "Активен")
    await expect(pm_row).to_be_visible()
    await expect(pm_row.get_by_test_id("dialog-label")).to_have_text(PM_LABEL)
    await expect(pm_row.get_by_test_id("row-state")).to_have_text("Назначено: Игорь Волков")
    await expect(pm_row).to_contain_text("ЮЛ")
    await expect(pm_row).to_contain_text(PERSON)
    await expect(pm_row).to_contain_text("Добрый день! Хочу открыть вклад.")
    await expect(pm_row.get_by_test_id("unread")).to_have_text("1")
    await expect(person.get_by_test_id("chat-state")).to_have_text("Вам отвечает Игорь Волков")
    await ui.shot(manager, "manager-inbox")

    # He opens it: no transfer control exists in a personal-manager dialog.
    await pm_row.click()
    await manager.wait_for_url("**/dialogs/*")
    await expect(message(manager, "Добрый день! Хочу открыть вклад.")).to_be_visible()
    await expect(manager.get_by_test_id("pm-card")).to_be_visible()
    await expect(manager.get_by_test_id("history")).to_contain_text(
        "ожидает персонального менеджера"
    )
    await expect(manager.get_by_test_id("history")).to_contain_text(
        "назначено персональному менеджеру"
    )
    await assert_no_transfer_control(manager)

    # He invites the colleague, who sees the dialog appear in her Inbox and answers.
    await manager.locator("#invite-select").select_option(label="Елена Попова (Не в сети)")
    await manager.get_by_role("button", name="Пригласить").click()
    await expect(manager.get_by_test_id("participants")).to_contain_text("Елена Попова")
    await send(manager, "Здравствуйте! Подключаю коллегу по вкладам.")
    await expect(message(person, "Подключаю коллегу по вкладам.")).to_be_visible()
    colleague_row = row(colleague, CLIENT)
    await expect(colleague_row).to_be_visible()
    await colleague_row.click()
    await colleague.wait_for_url("**/dialogs/*")
    await send(colleague, "Добрый день, я Елена. Ставка на полгода — 14,5%.")
    await expect(message(person, "Ставка на полгода — 14,5%.")).to_be_visible()
    await expect(message(manager, "Ставка на полгода — 14,5%.")).to_be_visible()
    await assert_no_transfer_control(colleague)
    await ui.shot(person, "person-hears-colleague")

    # The administrator changes the client's manager; the history records it.
    await admin.goto(f"{ui.url}/login")
    await admin.fill("#login", "root")
    await admin.fill("#password", "root-password-1")
    await admin.click("#login-form button[type=submit]")
    await admin.wait_for_url("**/inbox")
    await admin.get_by_role("link", name="Персональные менеджеры").click()
    await admin.wait_for_url("**/managers")
    await admin.fill("#client-q", "северный")
    await admin.get_by_role("button", name="Найти").click()
    await admin.locator("#client-results .pick", has_text=CLIENT).click()
    await expect(admin.get_by_test_id("client-manager")).to_contain_text("Игорь Волков")
    await admin.locator("#manager-select").select_option(label="Анна Смирнова (Активен)")
    await admin.get_by_role("button", name="Назначить").click()
    await expect(admin.get_by_test_id("client-manager")).to_contain_text("Анна Смирнова")
    history = admin.locator("#manager-history tr").first
    await expect(history).to_contain_text("Игорь Волков")
    await expect(history).to_contain_text("Анна Смирнова")
    await ui.shot(admin, "admin-changes-manager")

    # The new manager sees the dialog at once; the appeal stays with Волков while he is active.
    new_row = row(second, CLIENT)
    await expect(new_row).to_be_visible()
    await expect(new_row.get_by_test_id("row-state")).to_have_text("Назначено: Игорь Волков")

    # Волков takes a break: the appeal moves to Анна Смирнова live, and he loses the dialog.
    await set_status(manager, "Перерыв")
    await expect(new_row.get_by_test_id("row-state")).to_have_text("Назначено: Анна Смирнова")
    await expect(manager.locator("#dialog-gone")).to_be_visible()
    await expect(person.get_by_test_id("chat-state")).to_have_text("Вам отвечает Анна Смирнова")
    await expect(person.get_by_test_id("chat-manager")).to_contain_text("Анна Смирнова")
    await ui.shot(second, "new-manager-inbox")
    await ui.shot(person, "person-after-handover")

    # Same dialog, whole history, the handover explained; still no transfer control.
    await new_row.click()
    await second.wait_for_url("**/dialogs/*")
    await expect(message(second, "Добрый день! Хочу открыть вклад.")).to_be_visible()
    await expect(message(second, "Ставка на полгода — 14,5%.")).to_be_visible()
    await expect(second.get_by_test_id("history")).to_contain_text(
        "передано новому персональному менеджеру"
    )
    await expect(second.get_by_test_id("responsible")).to_contain_text("Анна Смирнова")
    await assert_no_transfer_control(second)
    await send(second, "Здравствуйте! Теперь я ваш менеджер.")
    await expect(message(person, "Теперь я ваш менеджер.")).to_be_visible()
    await ui.shot(second, "new-manager-dialog")


async def assert_no_transfer_control(page) -> None:  # type: ignore[no-untyped-def]
    await expect(page.get_by_test_id("appeal-state")).not_to_have_text("Загрузка…")
    for test_id in ("transfer-form", "transfer", "transfer-select", "transfer-queue"):
        await expect(page.get_by_test_id(test_id)).to_have_count(0)
    await expect(page.get_by_role("button", name="Передать")).to_have_count(0)
    await expect(page.get_by_role("button", name="Вернуть в очередь")).to_have_count(0)
    await expect(page.get_by_text("Передать обращение")).to_have_count(0)
