"""Text is text, the pages carry a strict CSP, the keyboard is enough, English is one switch."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from tests.support import World
from tests.web.ui import UI, message, row, send

ATTACK = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
CLIENT = "<b>ООО «Тег»</b>"


async def test_message_text_is_rendered_as_text(world: World, ui: UI) -> None:
    operator = await world.employee(["general_chat"], name="<i>Оператор</i>", status="active")
    client = await world.client(name=CLIENT, persons=0)
    person_ref = await world.person(client.id, name="<svg onload=alert(3)>")

    person = await ui.person_by_token(person_ref.token)
    await send(person, ATTACK)
    await send(person, SCRIPT)
    await expect(message(person, ATTACK)).to_have_text(ATTACK)

    page = await ui.employee(operator.login)
    inbox_row = row(page, "ООО «Тег»")
    await expect(inbox_row).to_contain_text(CLIENT)
    await expect(inbox_row).to_contain_text(SCRIPT)
    await inbox_row.click()
    await page.wait_for_url("**/dialogs/*")
    await expect(message(page, ATTACK)).to_have_text(ATTACK)
    await expect(message(page, SCRIPT)).to_have_text(SCRIPT)
    await expect(page.locator("#dialog-client")).to_contain_text(CLIENT)
    await expect(page.locator("#dialog-person")).to_have_text("<svg onload=alert(3)>")
    await expect(page.locator("#me-name")).to_have_text("<i>Оператор</i>")
    # Nothing the data said became markup.
    for selector in ("main img", "main script", "main svg", "main b", "main i"):
        await expect(page.locator(selector)).to_have_count(0)
        await expect(person.locator(selector)).to_have_count(0)
    await send(page, "<a href='javascript:alert(4)'>ссылка</a>")
    await expect(message(person, "javascript:alert(4)")).to_be_visible()
    await expect(person.locator("main a")).to_have_count(0)
    await page.wait_for_timeout(300)
    await ui.shot(page, "xss-literal")
    await ui.shot(person, "xss-literal-person")
    assert ui.dialogs == []  # the `ui` fixture checks every page again at the end


async def test_ui_security_headers(server_url: str, ui: UI) -> None:
    # In the browser: an inline script, however it gets in, does not run.
    page = await ui.page()
    await page.goto(f"{server_url}/login")
    ran = await page.evaluate(
        """() => {
            const script = document.createElement('script');
            script.textContent = 'window.injected = true';
            document.body.append(script);
            return window.injected === true;
        }"""
    )
    assert ran is False
    await ui.shot(page, "login")
    async with httpx.AsyncClient(base_url=server_url) as api:
        for path in (
            "/login",
            "/inbox",
            "/dialogs/1",
            "/queue",
            "/managers",
            "/my-clients",
            "/chat",
        ):
            response = await api.get(path)
            assert response.status_code == 200, path
            assert response.headers["content-type"].startswith("text/html")
            csp = response.headers["content-security-policy"]
            directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
            assert directives["script-src"] == "'self'", csp
            assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
            assert directives["frame-ancestors"] == "'none'"
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["referrer-policy"] == "no-referrer"
            assert "<script>" not in response.text  # no inline script, only modules and data
        root = await api.get("/")
        assert root.status_code == 307 and root.headers["location"] == "/inbox"
        script = await api.get("/static/inbox.js")
        assert script.headers["content-type"].startswith("text/javascript")
        assert (await api.get("/static/../pages.py")).status_code == 404
        assert (await api.get("/static/nope.js")).status_code == 404
        # The API's own responses get a policy that allows nothing at all.
        health = (await api.get("/healthz")).headers["content-security-policy"]
        assert health.startswith("default-src 'none'") and "frame-ancestors 'none'" in health


async def test_keyboard_login_and_english(world: World, ui: UI) -> None:
    operator = await world.employee(["general_chat"], name="Наталья Морозова")
    page = await ui.page(width=390, height=844)
    await page.goto(f"{ui.url}/inbox")
    await page.wait_for_url("**/login?next=%2Finbox")
    await expect(page.locator("#login")).to_be_focused()
    await page.keyboard.type(operator.login)
    await page.keyboard.press("Tab")
    await expect(page.locator("#password")).to_be_focused()
    await page.keyboard.type("correct-horse-battery")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/inbox")
    await expect(page.locator("#inbox-status")).to_have_text("Диалогов нет")

    # The status switch is reachable by Tab and works with Enter; focus is visible.
    active = page.locator(".status-btn", has_text="Активен")
    for _ in range(12):
        await page.keyboard.press("Tab")
        if await active.evaluate("el => el === document.activeElement"):
            break
    await expect(active).to_be_focused()
    outline = await active.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none"
    await page.keyboard.press("Enter")
    await expect(active).to_have_attribute("aria-pressed", "true")
    await ui.shot(page, "inbox-390")

    await page.get_by_role("button", name="EN").click()
    await expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    await expect(page.locator(".status-btn", has_text="Active")).to_have_attribute(
        "aria-pressed", "true"
    )
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await page.get_by_role("button", name="RU").click()
    await expect(page.get_by_role("heading", name="Входящие")).to_be_visible()
