"""Driving the web UI as its users do: one browser context per person at the bank."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Browser, BrowserContext, Dialog, Locator, Page, expect

from tests.realtime.server import ADMIN_LOGIN, ADMIN_PASSWORD
from tests.support import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RESULTS = Path(__file__).resolve().parents[2] / "test-results"


class UI:
    def __init__(self, browser: Browser, url: str, test_name: str) -> None:
        self.browser = browser
        self.url = url
        self.folder = RESULTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.contexts: list[BrowserContext] = []
        self.page_errors: list[str] = []
        self.dialogs: list[str] = []
        self.shots = 0

    async def page(self, width: int = 1280, height: int = 800) -> Page:
        context = await self.browser.new_context(
            viewport={"width": width, "height": height}, locale="ru-RU"
        )
        self.contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

        async def on_dialog(dialog: Dialog) -> None:
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            await dialog.dismiss()

        page.on("dialog", on_dialog)
        return page

    async def employee(self, login: str, password: str = PASSWORD, **size: int) -> Page:
        """Signs in through the login page and lands in the Inbox."""
        page = await self.page(**size)
        await page.goto(f"{self.url}/login")
        await page.fill("#login", login)
        await page.fill("#password", password)
        await page.click("#login-form button[type=submit]")
        await page.wait_for_url("**/inbox")
        await expect(page.locator(".status-btn[aria-pressed=true]")).to_have_count(1)
        await expect(page.locator("#inbox-status")).not_to_have_text("Загрузка…")
        return page

    async def person_by_picker(self, client_name: str, person_name: str) -> Page:
        """The demo's person picker: an employee who may issue tokens picks the person."""
        page = await self.page()
        await page.goto(f"{self.url}/chat")
        await page.fill("#picker-user", ADMIN_LOGIN)
        await page.fill("#picker-password", ADMIN_PASSWORD)
        await page.click("#picker-login button[type=submit]")
        await page.fill("#picker-q", client_name)
        await page.click("#picker-search button[type=submit]")
        await page.locator("#picker-results .pick", has_text=client_name).click()
        await page.get_by_role("button", name=f"Писать от имени: {person_name}").click()
        await expect(page.locator("#client-chat")).to_be_visible()
        return page

    async def person_by_token(self, token: str) -> Page:
        """As a bank's app embeds the chat: the person's token in the fragment."""
        page = await self.page()
        await page.goto(f"{self.url}/chat#token={token}")
        await expect(page.locator("#client-chat")).to_be_visible()
        return page

    async def shot(self, page: Page, name: str) -> None:
        self.shots += 1
        await page.screenshot(path=str(self.folder / f"{self.shots:02d}-{name}.png"))

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()


def row(page: Page, client_name: str) -> Locator:
    return page.locator(".inbox-row", has_text=client_name)


async def send(page: Page, text: str) -> None:
    """Types into the composer and presses Enter (Shift+Enter for each line break)."""
    composer = page.get_by_test_id("composer")
    await composer.click()
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if index:
            await composer.press("Shift+Enter")
        await composer.press_sequentially(line)
    await composer.press("Enter")
    try:
        await expect(composer).to_have_value("")
    except AssertionError as exc:
        # Say what the page showed: the composer's error line, if the send was refused.
        shown = await page.locator(".composer .form-error").all_inner_texts()
        raise AssertionError(f"the message was not sent; the page said {shown!r}") from exc


def message(page: Page, text: str) -> Locator:
    return page.locator(".msg .msg-text", has_text=text)


async def set_status(page: Page, label: str) -> None:
    button = page.locator(".status-btn", has_text=label)
    await button.click()
    await expect(button).to_have_attribute("aria-pressed", "true")
