"""The dashboard end to end in headless Debian chromium (Playwright) against uvicorn on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import select

from store.engine import session_scope
from store.schema import Entity, NpsEstimate
from tests.test_api import FIRST_WEEK, WEEK, Seeded, seed
from web.app import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
# every page a test visits is saved here (var/ is not committed); ONPS_SCREENSHOT_DIR puts them elsewhere
SCREENSHOT_DIR = Path(os.environ.get("ONPS_SCREENSHOT_DIR") or Path(__file__).parents[1] / "var" / "screenshots")

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
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def _login(page: object, base: str, key: str, then: str = "/") -> None:
    page.goto(f"{base}/login?next={then}")  # type: ignore[attr-defined]
    page.fill("input[name=key]", key)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]


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
    # the customers' lines, their survey line and the campaign's marker: no eNPS line among them
    assert sorted(legend) == ["Brixo", "Velora", "Velora survey", "smear campaign"]
    expect(page.locator("#latest-nps")).to_have_text(f"{seeded.velora_nps[-1]:+.0f}")


def _add_estimate(url: str, entity: str, kind: str, start: datetime, end: datetime, n: float, nps: float,
                  half: float) -> None:
    with session_scope(url) as s:
        entity_id = s.scalar(select(Entity.id).where(Entity.name == entity))
        s.add(NpsEstimate(entity_id=entity_id, segment={}, segment_key="", window_kind=kind, window_start=start,
                          window_end=end, n=n, nps=nps, low=max(-100, nps - half), high=min(100, nps + half),
                          promoters=n / 2, passives=0, detractors=n / 2, excluded={}, method="dirichlet"))


def test_headline_on_a_week_of_one_review_says_not_enough_data(live: tuple[str, Seeded], page: object,
                                                               sqlite_url: str) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    base, seeded = live
    week = FIRST_WEEK + 6 * WEEK  # after the seeded weeks: the newest week holds a single review
    _add_estimate(sqlite_url, "Velora", "week", week, week + WEEK, n=1, nps=-100, half=99)
    _add_estimate(sqlite_url, "Brixo", "week", week, week + WEEK, n=1, nps=100, half=99)
    _login(page, base, seeded.keys["read"], "/%3Fentity%3DVelora%26window%3Dweek")
    expect(page.locator("#latest-nps")).to_have_text("not enough data")
    expect(page.locator("#headline-basis")).to_contain_text("n=1 < 30")
    expect(page.locator("#benchmark")).to_contain_text("not enough data")
    expect(page.locator("#benchmark")).not_to_contain_text("significant")
    _shot(page, "overview-not-enough-data")

    # a longer window that reaches the minimum takes over, and the page says which one it is
    _add_estimate(sqlite_url, "Velora", "rolling28", week + WEEK - 4 * WEEK, week + WEEK, n=361, nps=12, half=9)
    page.reload()
    expect(page.locator("#latest-nps")).to_have_text("+12")
    expect(page.locator("#headline-basis")).to_contain_text(f"showing 28 days to {week + WEEK:%Y-%m-%d}")
    _shot(page, "overview-rolling-fallback")


def test_a_worklist_item_moves_through_its_states(live: tuple[str, Seeded], page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    base, seeded = live
    _login(page, base, seeded.keys["write"], "/worklist%3Fentity%3DVelora")
    late = page.locator(f"#item-{seeded.docs['late']}")
    expect(late.locator(".state")).to_have_text("open")
    _shot(page, "worklist")
    for status, owner, note in (("contacted", "ana", "called, refund offered"), ("resolved", "", ""),
                                ("not_actionable", "li", "no contact details")):
        late.locator("select[name=status]").select_option(status)
        late.locator("input[name=owner]").fill(owner)
        late.locator("input[name=note]").fill(note)
        late.locator("button[type=submit]").click()
        expect(late.locator(".state")).to_have_text(status)
        expect(late.locator(".owner")).to_have_count(1 if owner else 0)
        if note:
            expect(late.locator(".note")).to_have_text(note)
        expect(late).to_contain_text("write-user")
    _shot(page, "worklist-after")

    page.select_option("form.filters select[name=status]", "open")
    page.locator("form.filters button[type=submit]").click()
    expect(page.locator(f"#item-{seeded.docs['late']}")).to_have_count(0)
    expect(page.locator(f"#item-{seeded.docs['broken']}")).to_have_count(1)
    with page.expect_download() as download:
        page.click("#worklist-csv")
    rows = Path(download.value.path()).read_text().splitlines()
    assert rows[0].startswith("id,") and len(rows) == 2 and rows[1].startswith(f"{seeded.docs['broken']},")


def test_a_reason_bar_opens_its_reviews_with_the_evidence_marked(live: tuple[str, Seeded], page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    base, seeded = live
    _login(page, base, seeded.keys["read"], "/%3Fentity%3DVelora%26window%3Dweek")
    latest = FIRST_WEEK + 5 * WEEK  # the seeded reviews all fall in the newest week
    expect(page.locator("#why h2")).to_have_text(f"Why: reasons in the week of {latest:%Y-%m-%d}")
    expect(page.locator("#drivers")).to_contain_text("delivery")
    detractor_bars = page.locator("#reasons g.trace.bars").nth(1).locator("g.point path")
    expect(detractor_bars.first).to_be_visible(timeout=15000)
    detractor_bars.first.scroll_into_view_if_needed()
    box = detractor_bars.first.bounding_box()  # the lowest bar: delivery, the least cited reason
    assert box is not None
    # a real mouse click where the bar is drawn (plotly's drag layer above it turns the click into plotly_click)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page).to_have_url(f"{base}/reviews?entity=Velora&class=detractor&reason=delivery&organic=true"
                             f"&from={latest:%Y-%m-%d}&to={latest + WEEK:%Y-%m-%d}")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr mark.negative")).to_have_text("arrived two weeks late")
    expect(page.locator("tbody td.stars")).to_have_text("4/5")
    _shot(page, "reviews-from-a-bar")

    page.select_option("select[name=entity]", "")  # the filters the page offers: date, source, stars
    page.fill("input[name=reason]", "")
    page.select_option("select[name=class]", "")
    page.select_option("select[name=source]", "brixo-forum")
    page.click("form.filters button[type=submit]")
    expect(page.locator("tbody tr")).to_have_count(2)
    page.fill("input[name=to]", f"{latest:%Y-%m-%d}")
    page.click("form.filters button[type=submit]")
    expect(page.locator(".empty")).to_have_text("No reviews match.")
    page.fill("input[name=to]", "")
    page.select_option("select[name=source]", "")
    page.select_option("select[name=rating]", "5")
    page.click("form.filters button[type=submit]")
    expect(page.locator(".empty")).to_have_text("No reviews match.")  # every seeded review has 4 stars
    _shot(page, "reviews")


def test_overview_shows_nps_per_source_family_and_the_loop_closed(live: tuple[str, Seeded], page: object,
                                                                  sqlite_url: str) -> None:
    from playwright.sync_api import Page, expect

    from tests.test_loop_closed import REPLY, add_families_and_replies

    assert isinstance(page, Page)
    base, seeded = live
    add_families_and_replies(sqlite_url, seeded)  # reviews n=100 NPS +12, social n=4; "late" answered after 36 h
    _login(page, base, seeded.keys["read"], "/%3Fentity%3DVelora%26window%3Dweek")
    expect(page.locator("#latest-nps")).to_have_text(f"{seeded.velora_nps[-1]:+.0f}")  # the combined figure
    families = page.locator("#families tr.family")
    expect(families).to_have_count(2)
    expect(page.locator("#families tr[data-family=reviews] .family-nps")).to_have_text("+12")
    expect(page.locator("#families tr[data-family=reviews]")).to_contain_text("-2 to 26")
    expect(page.locator("#families tr[data-family=social] .family-nps")).to_have_text("not enough data")
    expect(page.locator("#reply-rate")).to_contain_text("50% of 2 organic detractors")
    expect(page.locator("#reply-rate")).to_contain_text("1.5 days to the reply (n=1)")
    _shot(page, "overview-families-replies")

    page.goto(f"{base}/worklist?entity=Velora")
    late = page.locator(f"#item-{seeded.docs['late']}")
    mark = late.locator(".pill.replied")
    expect(mark).to_have_text("answered publicly")
    expect(mark).to_have_attribute("title", REPLY)
    expect(late.locator(".company-reply")).to_contain_text("2026-10-13 12:00")
    expect(page.locator(f"#item-{seeded.docs['broken']} .pill.replied")).to_have_count(0)
    _shot(page, "worklist-answered")


def test_segments_market_and_the_events_on_the_trend(live: tuple[str, Seeded], page: object, sqlite_url: str) -> None:
    from playwright.sync_api import Page, expect

    from tests.test_segments import add_market

    assert isinstance(page, Page)
    base, seeded = live
    add_market(sqlite_url)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _login(page, base, seeded.keys["read"], "/%3Fentity%3DVelora%26window%3Dweek")
    trend = page.locator("#nps-trend")
    expect(trend.locator("svg.main-svg").first).to_be_visible(timeout=15000)
    legend = trend.locator(".legendtext").evaluate_all("els => els.map(e => e.textContent)")
    assert {"Velora", "Brixo", "smear campaign", "Velora survey"} <= set(legend)
    assert trend.locator(".shapelayer path").count() >= 1  # the campaign's band over its window
    _shot(page, "overview-events")

    page.click("#segments-link")
    page.select_option("select[name=by]", "region")
    expect(page).to_have_url(f"{base}/segments?entity=Velora&window=week&by=region")
    expect(page.locator("tr.segment")).to_have_count(3)
    expect(page.locator("tr.segment.thin")).to_have_count(1)
    expect(page.locator("tr[data-segment=asia] .seg-nps")).to_have_text("not enough data")
    expect(page.locator("tr[data-segment=eu] .seg-diff")).to_contain_text("higher")
    _shot(page, "segments")

    page.click("nav >> text=Market")
    expect(page.locator("tr.market-row")).to_have_count(4)
    expect(page.locator("tr.market-row").first).to_have_attribute("data-entity", "Brixo")
    expect(page.locator("tr[data-entity=Brixo] .market-lead")).to_contain_text("-15")
    expect(page.locator("tr[data-entity=Brixo] .lower")).to_contain_text("app +40 pts")
    expect(page.locator("tr[data-entity=Corvo] .market-nps")).to_have_text("not enough data")
    _shot(page, "market")
    assert errors == []
