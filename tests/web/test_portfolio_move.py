"""«Перенос портфеля»: every client of one manager to another, previewed first (SPEC 6)."""

from __future__ import annotations

from playwright.async_api import expect

from tests.realtime.server import ADMIN_LOGIN, ADMIN_PASSWORD
from tests.support import World, ok
from tests.web.ui import UI


async def test_a_portfolio_move_is_previewed_then_applied(world: World, ui: UI) -> None:
    old = await world.manager(status="active", name="Игорь Волков")
    new = await world.manager(status="offline", name="Анна Смирнова")
    clients = [await world.client(manager=old) for _ in range(3)]
    held = await world.ask(clients[0].persons[0], "personal_manager")  # assigned to Волков
    assert held["assignee"]["id"] == old.id

    page = await ui.employee(ADMIN_LOGIN, ADMIN_PASSWORD)
    await page.get_by_role("link", name="Персональные менеджеры").click()
    await page.wait_for_url("**/managers")
    apply = page.locator("#move-apply")
    await expect(apply).to_be_disabled()  # nothing moves without a preview

    await page.select_option("#move-from", str(old.id))
    await page.select_option("#move-to", str(new.id))
    await page.locator("#move-preview").click()
    result = page.get_by_test_id("move-result")
    await expect(result).to_contain_text("Клиентов перейдёт: 3")
    await expect(result).to_contain_text(
        "Открытых обращений останется у прежнего менеджера, пока он активен: 1"
    )
    await expect(apply).to_be_enabled()
    await ui.shot(page, "portfolio-preview")
    # The preview changed nothing.
    for client in clients:
        got = ok(await world.api.get(f"/api/v1/clients/{client.id}", headers=world.admin.headers))
        assert got["personal_manager"]["id"] == old.id

    # Another choice voids the preview; choosing back needs a preview again.
    await page.select_option("#move-to", str(old.id))
    await expect(apply).to_be_disabled()
    await page.select_option("#move-to", str(new.id))
    await expect(apply).to_be_disabled()
    await page.locator("#move-preview").click()
    await expect(apply).to_be_enabled()

    await apply.click()
    await expect(result).to_have_text("Перенесено клиентов: 3")
    await expect(apply).to_be_disabled()
    await ui.shot(page, "portfolio-moved")
    for client in clients:
        got = ok(await world.api.get(f"/api/v1/clients/{client.id}", headers=world.admin.headers))
        assert got["personal_manager"]["id"] == new.id
    # SPEC 6.1: the appeal Волков holds stays with him while he is active.
    after = await world.appeal(held["id"])
    assert after["status"] == "assigned" and after["assignee"]["id"] == old.id
