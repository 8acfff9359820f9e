#!/usr/bin/env python3
"""Regenerate docs/img/*.png — the web UI on the demo bank — for the README.

Loads the demo data into a fresh SQLite file, serves it, and photographs the Inbox, a dialog,
«Мои клиенты», the client's chat, the queue and the personal-managers page in Debian's Chromium
(`/usr/bin/chromium`; Playwright never downloads a browser here).

    python scripts/screenshots.py [--out docs/img] [--width 1280] [--height 800]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "demo-password"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def serve_demo(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {
        **os.environ,
        "SWITCHBOARD_DATABASE_URL": f"sqlite:///{workdir / 'demo.db'}",
        "SWITCHBOARD_SECRET_KEY": "screenshots-secret",
    }
    env.pop("SWITCHBOARD_REDIS_URL", None)
    cli = [sys.executable, "-m", "switchboard.cli"]
    subprocess.run([*cli, "demo", "--load-only"], env=env, cwd=workdir, check=True)
    port = free_port()
    log = open(workdir / "server.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [*cli, "serve", "--port", str(port)], env=env, cwd=workdir, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the demo server did not start")


def login(page: Page, url: str, who: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#login", who)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/inbox")


def person_token(url: str, client_external_id: str) -> str:
    with httpx.Client(base_url=url, timeout=10) as api:
        token = api.post("/api/v1/auth/token", json={"login": "admin", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        client = api.get(f"/api/v1/clients?external_id={client_external_id}", headers=headers)
        client_id = client.json()["items"][0]["id"]
        persons = api.get(f"/api/v1/clients/{client_id}/persons", headers=headers)
        person_id = persons.json()["items"][0]["id"]
        issued = api.post(f"/api/v1/persons/{person_id}/token", headers=headers)
        result: str = issued.json()["access_token"]
        return result


def settle(page: Page) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)


def shoot(url: str, out: Path, width: int, height: int) -> list[Path]:
    saved: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        def context_page() -> Page:
            context = browser.new_context(viewport={"width": width, "height": height})
            return context.new_page()

        def save(page: Page, name: str) -> None:
            path = out / f"{name}.png"
            page.screenshot(path=str(path))
            saved.append(path)

        # The Inbox of Анна Смирнова, an active personal manager.
        page = context_page()
        login(page, url, "pm.smirnova")
        page.wait_for_selector(".inbox-row")
        settle(page)
        save(page, "inbox")

        # The dialog her client kept through a change of manager: the handover in its history.
        page.locator(".inbox-row", has_text="Павел Олегович Новиков").first.click()
        page.wait_for_selector(".history-item")
        settle(page)
        save(page, "dialog")

        # «Мои клиенты»: her clients, each person's chat one click (or Enter) away.
        page.goto(f"{url}/my-clients")
        page.wait_for_selector(".client-card")
        settle(page)
        save(page, "my-clients")

        # The client's chat: a client of Игорь Волков (offline) whose appeal waits for him.
        page = context_page()
        page.goto(f"{url}/chat#token={person_token(url, 'FL-1002')}")
        page.wait_for_selector(".msg")
        settle(page)
        save(page, "client-chat")

        # The queue, as the supervisor sees it.
        page = context_page()
        login(page, url, "supervisor")
        page.goto(f"{url}/queue")
        page.wait_for_selector("#queue-body tr")
        settle(page)
        save(page, "queue")

        # Personal managers: a client with its change history, and a portfolio move previewed.
        page = context_page()
        login(page, url, "pm.admin")
        page.goto(f"{url}/managers")
        page.fill("#client-q", "Новиков")
        page.click("#client-search button[type=submit]")
        page.locator("#client-results button", has_text="Новиков").first.click()
        page.wait_for_selector("#manager-history tr")
        page.select_option("#move-from", label=_option(page, "#move-from", "Игорь Волков"))
        page.select_option("#move-to", label=_option(page, "#move-to", "Мария Кузнецова"))
        page.click("#move-preview")
        page.wait_for_selector("#move-result li")
        settle(page)
        save(page, "managers")
        browser.close()
    return saved


def _option(page: Page, select: str, name: str) -> str:
    label: str = page.locator(f"{select} option", has_text=name).first.inner_text()
    return label


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=800)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="switchboard-shots-") as folder:
        process, url = serve_demo(Path(folder))
        try:
            for path in shoot(url, args.out, args.width, args.height):
                print(path)
        finally:
            process.terminate()
            process.wait(10)


if __name__ == "__main__":
    main()
