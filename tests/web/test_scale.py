"""The UI at scale: a 5,000-message dialog and an Inbox of 2,000 dialogs.

The volumes are written straight into the database (tests/web/bulk.py). The tests check
behaviour — a page at a time in the DOM, order, no duplicates, the reader's place kept, live
updates — never timings; what they observe is saved beside their screenshots (timings.json)
and summarised in docs/performance.md.
"""

from __future__ import annotations

import json
import time

from playwright.async_api import Page, expect

from tests.support import World, ok
from tests.web import bulk
from tests.web.ui import UI, row

PAGE = 50
MAX_SHOWN = 300  # messages.js
MESSAGES = 5_000
DIALOGS = 2_000

# Scrolls the history to the top again and again until the older-messages button is gone. Each
# step records the first message wholly in view just after the scroll, waits (on DOM mutations,
# never a clock) for the next page to be in, and reports the ids that came, how many messages
# the DOM holds, and how far that first message moved within the scroller.
SCROLL_TO_FIRST = """async (el) => {
    const items = el.querySelector('.message-items');
    const older = el.querySelector('.older-btn');
    const firstInView = () => {
        const top = el.getBoundingClientRect().top;
        return [...items.children].find((li) => li.getBoundingClientRect().top >= top);
    };
    const arrived = (first) => new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`stuck below ${first.dataset.id}`)), 15000);
        const check = () => {
            if (items.firstElementChild !== first) {
                observer.disconnect();
                clearTimeout(timer);
                resolve();
            }
        };
        const observer = new MutationObserver(check);
        observer.observe(items, { childList: true });
        check();
    });
    const steps = [];
    while (!older.hidden) {
        const first = items.firstElementChild;
        el.scrollTop = 0;
        const anchor = firstInView();
        const offset = () => anchor.getBoundingClientRect().top - el.getBoundingClientRect().top;
        const before = offset();
        await arrived(first);
        const ids = [];
        for (let li = items.firstElementChild; li !== first; li = li.nextElementSibling) {
            ids.push(Number(li.dataset.id));
        }
        steps.push({
            ids,
            shown: items.children.length,
            drift: anchor.isConnected ? offset() - before : null,
        });
    }
    return steps;
}"""

SHOWN_IDS = "els => els.map((el) => Number(el.dataset.id))"


class Timings:
    def __init__(self, ui: UI) -> None:
        self.path = ui.folder / "timings.json"
        self.figures: dict[str, float] = {}
        self.started = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.figures[name] = round((now - self.started) * 1000)
        self.started = now

    def save(self) -> None:
        self.path.write_text(json.dumps(self.figures, indent=2, ensure_ascii=False) + "\n")
        print(f"\n{self.path.name}: {self.figures}")


async def test_a_5000_message_dialog_opens_on_its_last_page_and_pages_upward(
    world: World, ui: UI, database_url: str
) -> None:
    manager = await world.employee([], name="Анна Смирнова", status="active")
    client = await world.client(name="Иван Сидоров", manager=manager)
    person = client.persons[0]
    dialog = await world.dialog(person, "personal_manager")
    first = await world.write(person, dialog["id"], "Сообщение 0001")
    ids = bulk.history(
        database_url,
        dialog_id=dialog["id"],
        appeal_id=first["appeal_id"],
        person_id=person.id,
        employee_id=manager.id,
        first_message_id=first["id"],
        total=MESSAGES,
    )
    page = await ui.employee(manager.login)
    timings = Timings(ui)

    # It opens on the newest messages, with one page of them in the DOM.
    await page.goto(f"{ui.url}/dialogs/{dialog['id']}")
    items = page.locator(".message-items > li")
    await expect(items.last).to_contain_text(f"Сообщение {MESSAGES:04d}")
    await expect(items.last).to_be_in_viewport()
    timings.lap("dialog_open_to_last_message_ms")
    await expect(items).to_have_count(PAGE)
    assert await page.locator("li.msg").count() == PAGE
    await expect(page.get_by_test_id("appeal-state")).to_have_text("Назначено: Анна Смирнова")
    await ui.shot(page, "dialog-5000-opened")

    # Up to the very first message, a page per scroll to the top; the message the reader saw
    # first stays where it was on the screen each time, and the DOM never holds more than a few
    # pages. The browser drives the loop itself (each step waits for its page to arrive).
    scroller = page.get_by_test_id("messages")
    opened_ids = await items.evaluate_all(SHOWN_IDS)
    assert opened_ids == ids[-PAGE:]
    steps = await scroller.evaluate(SCROLL_TO_FIRST)
    timings.lap(f"scroll_up_through_{MESSAGES // PAGE - 1}_pages_ms")
    assert len(steps) == MESSAGES // PAGE - 1
    assert [step["drift"] for step in steps if abs(step["drift"]) >= 2] == []
    shown = [step["shown"] for step in steps]
    timings.figures["dialog_most_messages_in_dom"] = max(shown)
    assert max(shown) <= MAX_SHOWN, shown
    arrived = [message_id for step in reversed(steps) for message_id in step["ids"]]
    assert arrived + opened_ids == ids  # every message once, in order
    await expect(items.first).to_contain_text("Сообщение 0001")
    await expect(page.get_by_role("button", name="Показать более ранние")).to_be_hidden()
    top_ids = await items.evaluate_all(SHOWN_IDS)
    assert top_ids == ids[: len(top_ids)]

    # Back down: the next page follows the last one shown, the oldest ones make room.
    await scroller.evaluate("el => { el.scrollTop = el.scrollHeight; }")
    await expect(items.last).to_contain_text(f"Сообщение {len(top_ids) + PAGE:04d}")
    down_ids = await items.evaluate_all(SHOWN_IDS)
    assert down_ids == ids[PAGE : len(top_ids) + PAGE]

    # A live message while the reader is deep in the history: it waits for them, the view stays;
    # «Новые сообщения ↓» brings the latest page with it.
    await scroller.evaluate("el => { el.scrollTop = 0; }")
    await expect(items.first).to_contain_text("Сообщение 0001")
    before = await scroller.evaluate("el => el.scrollTop")
    await world.write(person, dialog["id"], "Новое сообщение")
    new_messages = page.get_by_role("button", name="Новые сообщения ↓")
    await expect(new_messages).to_be_visible()
    assert await scroller.evaluate("el => el.scrollTop") == before
    await ui.shot(page, "dialog-5000-top")
    await new_messages.click()
    await expect(items.last).to_contain_text("Новое сообщение")
    await expect(items.last).to_be_in_viewport()
    await expect(items).to_have_count(PAGE)
    await expect(new_messages).to_be_hidden()
    timings.save()


async def test_an_inbox_of_2000_dialogs_loads_as_it_scrolls_and_stays_live(
    world: World, ui: UI, database_url: str
) -> None:
    manager = await world.employee([], name="Анна Смирнова", status="active")
    seeded = bulk.portfolio(database_url, manager.id, DIALOGS)
    newest_first = seeded.client_names[::-1]
    page = await ui.page()
    timings = Timings(ui)
    await sign_in(page, ui.url, manager.login)
    rows = page.locator(".inbox-row")

    # The first page, newest activity first.
    await expect(rows.first).to_contain_text(newest_first[0])
    timings.lap("inbox_login_to_first_row_ms")
    await expect(rows).to_have_count(PAGE)
    assert await client_names(page) == newest_first[:PAGE]
    await expect(rows.first.get_by_test_id("dialog-label")).to_have_text(
        "Чат с персональным менеджером"
    )
    await expect(rows.first.get_by_test_id("unread")).to_have_text("1")

    # Scrolling down brings the next page each time the end of the list comes near.
    for loaded in range(PAGE, DIALOGS, PAGE):
        await page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        await expect(rows).to_have_count(loaded + PAGE)
    timings.lap(f"inbox_scroll_through_{DIALOGS // PAGE - 1}_pages_ms")
    await expect(page.locator("#inbox-more")).to_be_hidden()
    assert await client_names(page) == newest_first
    shown_ids = await dialog_ids(page)
    assert len(set(shown_ids)) == DIALOGS
    assert shown_ids == seeded.dialog_ids[::-1]
    timings.figures["inbox_dom_elements_2000_rows"] = await page.evaluate(
        "document.getElementsByTagName('*').length"
    )
    timings.lap("inbox_checks_ms")
    for px in (100, 600):
        mean, worst = await page.evaluate(SCROLL_FRAMES, [60, px])
        timings.figures[f"inbox_scroll_{px}px_frame_mean_ms"] = mean
        timings.figures[f"inbox_scroll_{px}px_frame_max_ms"] = worst
    timings.lap("inbox_scroll_frames_ms")
    await ui.shot(page, "inbox-2000-bottom")

    # Live, with every row loaded: a message moves a row from far down to the top...
    deep = 500  # «Клиент 0500», 1,501st from the top
    person_token = ok(
        await world.api.post(
            f"/api/v1/persons/{seeded.person_ids[deep - 1]}/token", headers=world.admin.headers
        )
    )["access_token"]
    started = time.perf_counter()
    sent = await world.api.post(
        f"/api/v1/dialogs/{seeded.dialog_ids[deep - 1]}/messages",
        json={"text": "Срочный вопрос по счёту"},
        headers={"Authorization": f"Bearer {person_token}"},
    )
    ok(sent, 201)
    await expect(rows.first).to_contain_text("Срочный вопрос по счёту")
    timings.figures["inbox_live_message_to_top_ms"] = round((time.perf_counter() - started) * 1000)
    timings.lap("inbox_live_ms")
    await expect(rows.first).to_contain_text(f"Клиент {deep:04d}")
    await expect(rows.first.get_by_test_id("unread")).to_have_text("2")

    # ...and a dialog new to the Inbox appears above it, with nothing lost or listed twice.
    newcomer = await world.client(kind="legal_entity", name="АО «Новый клиент»", manager=manager)
    newcomer_dialog = await world.dialog(newcomer.persons[0], "personal_manager")
    await world.write(newcomer.persons[0], newcomer_dialog["id"], "Здравствуйте")
    await expect(rows).to_have_count(DIALOGS + 1)
    await expect(rows.first).to_contain_text("АО «Новый клиент»")
    await expect(rows.nth(1)).to_contain_text(f"Клиент {deep:04d}")
    moved = f"Клиент {deep:04d}"
    expected = ["АО «Новый клиент»", moved, *(n for n in newest_first if n != moved)]
    assert await client_names(page) == expected
    assert len(set(await dialog_ids(page))) == DIALOGS + 1
    await expect(row(page, "АО «Новый клиент»").get_by_test_id("row-state")).to_have_text(
        "Назначено: Анна Смирнова"
    )
    timings.lap("inbox_newcomer_ms")
    timings.save()
    await page.evaluate("window.scrollTo(0, 0)")
    await ui.shot(page, "inbox-2000-live")


# Scrolls the loaded list by `px` a frame, `frames` times from the top, and reports the mean
# and the longest frame in ms: an observation for docs/performance.md (headless, software
# rendering, a shared machine: indicative only), never an assertion.
SCROLL_FRAMES = """([frames, px]) => new Promise((resolve) => {
    window.scrollTo(0, 0);
    const times = [];
    let last = 0;
    const step = (now) => {
        if (last) times.push(now - last);
        last = now;
        if (times.length >= frames) {
            const mean = times.reduce((a, b) => a + b, 0) / times.length;
            resolve([Math.round(mean), Math.round(Math.max(...times))]);
            return;
        }
        window.scrollBy(0, px);
        requestAnimationFrame(step);
    };
    requestAnimationFrame(() => requestAnimationFrame(step));
})"""


async def sign_in(page: Page, url: str, login: str) -> None:
    await page.goto(f"{url}/login")
    await page.fill("#login", login)
    await page.fill("#password", "correct-horse-battery")
    await page.click("#login-form button[type=submit]")
    await page.wait_for_url("**/inbox")


async def client_names(page: Page) -> list[str]:
    return await page.locator(".inbox-row .row-client").all_text_contents()


async def dialog_ids(page: Page) -> list[int]:
    ids: list[int] = await page.locator(".inbox-row").evaluate_all(
        "els => els.map((el) => Number(el.dataset.dialogId))"
    )
    return ids
