"""The dashboard end to end in headless Debian chromium (Playwright) against uvicorn on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tests.test_api import Seeded, seed
from web.app import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
SCREENSHOT_DIR = os.environ.get("ONPS_SCREENSHOT_DIR")  # set it to keep the screenshots for a look

pytestmark = pytest.mark.browser


def _need_chromium() -> None:
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        if os.environ.get("ONPS_REQUIRE_BROWSER"):
            pytest.fail(f"ONPS_REQUIRE_BROWSER is set but {CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} not installed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live(sqlite_url: str) -> Iterator[tuple[str, Seeded]]:
    """The app under a real uvicorn in a thread, stopped after the test."""
    _need_chromium()
    seeded = seed(sqlite_url)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(sqlite_url), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", seeded
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def page(live: tuple[str, Seeded]) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        yield page
        browser.close()


def _shot(page: object, name: str) -> None:
    if SCREENSHOT_DIR:
        Path(SCREENSHOT_DIR).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOT_DIR) / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_dashboard_renders_charts_and_acknowledges_an_alert(live: tuple[str, Seeded], page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    base, seeded = live
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("requestfailed", lambda req: errors.append(f"request failed: {req.url}"))

    page.goto(f"{base}/")
    expect(page).to_have_url(f"{base}/login?next=%2F")
    page.fill("input[name=key]", seeded.keys["write"])
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base}/")
    page.select_option("select[name=entity]", "Velora")  # submits the filter form
    expect(page).to_have_url(f"{base}/?entity=Velora&window=week")
    expect(page.locator("#latest-nps")).to_have_text(f"{seeded.velora_nps[-1]:+.0f}")

    for chart in ("#nps-trend", "#survey-vs-organic", "#reasons"):
        expect(page.locator(f"{chart} svg.main-svg").first).to_be_visible(timeout=15000)
    legend = page.locator("#nps-trend .legendtext").evaluate_all("els => els.map(e => e.textContent)")
    assert {"Velora", "Brixo"} <= set(legend)
    _shot(page, "overview")

    alert = page.locator(f"#alert-{seeded.alerts['smear']}")
    expect(alert.locator("button.ack")).to_be_visible()
    alert.locator("button.ack").click()
    expect(page.locator(f"#alert-{seeded.alerts['smear']} .ack-state")).to_contain_text(
        "acknowledged by write-user")
    expect(page.locator(f"#alert-{seeded.alerts['smear']} button.ack")).to_have_count(0)
    expect(page.locator(f"#alert-{seeded.alerts['drop']} button.ack")).to_have_count(1)

    page.goto(f"{base}/campaigns")
    expect(page.locator("#campaign-timeline svg.main-svg").first).to_be_visible(timeout=15000)
    camp = page.locator(f"#campaign-{seeded.campaign_id}")
    member_link = camp.locator(f"a[href$='/reviews/{seeded.docs['smear1']}']")
    expect(camp).to_contain_text("2 reviews, 2 authors excluded")
    expect(member_link).to_be_visible()
    _shot(page, "campaigns")

    member_link.click()
    expect(page.locator("#review-text mark.negative")).to_have_text("Scam company")
    expect(page.locator("#bot-verdict")).to_contain_text("not a bot")
    _shot(page, "review")
    assert errors == []


def test_enps_view_in_the_browser_apart_from_the_customer_overview(live: tuple[str, Seeded], page: object,
                                                                   sqlite_url: str) -> None:
    from playwright.sync_api import Page, expect

    from tests.test_enps import add_enps

    assert isinstance(page, Page)
    add_enps(sqlite_url)  # Velora's employees: eNPS -21 this week, -21.5 all time
    base, seeded = live
    page.goto(f"{base}/login?next=%2Fenps")
    page.fill("input[name=key]", seeded.keys["read"])
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base}/enps")
    page.select_option("select[name=window]", "week")
    expect(page.locator("#enps-table")).to_contain_text("Velora")
    expect(page.locator("#enps-table .enps").first).to_have_text("-22")
    expect(page.locator("#enps-trend svg.main-svg").first).to_be_visible(timeout=15000)
    _shot(page, "enps")
    page.goto(f"{base}/?entity=Velora&window=week")
    legend = page.locator("#nps-trend .legendtext").evaluate_all("els => els.map(e => e.textContent)")
    assert {"Velora", "Brixo"} <= set(legend) and len(legend) == 2  # no eNPS line among the customers'
    expect(page.locator("#latest-nps")).to_have_text(f"{seeded.velora_nps[-1]:+.0f}")
