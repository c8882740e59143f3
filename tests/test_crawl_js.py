"""JavaScript rendering (crawl.render_js): a page whose reviews exist only after its script runs, crawled over
HTTP on 127.0.0.1 without and with headless Debian chromium (scrapy-playwright)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from config.schema import OnpsConfig
from crawlers.run import crawl_url
from crawlers.settings import RenderUnavailable, chromium
from tests.test_crawl import ROBOTS, fast_crawl

PAGES = Path(__file__).parent / "crawl_pages" / "js"
CHROMIUM = "/usr/bin/chromium"


def need_browser() -> None:
    """Skip without chromium or scrapy-playwright, unless ONPS_REQUIRE_BROWSER says this machine must have them."""
    missing = []
    try:
        import scrapy_playwright  # noqa: F401
    except ImportError:
        missing.append("scrapy-playwright (pip install -e '.[js]')")
    try:
        chromium(CHROMIUM)
    except RenderUnavailable:
        missing.append(f"chromium ({CHROMIUM}; apt-get install chromium)")
    if missing:
        if os.environ.get("ONPS_REQUIRE_BROWSER"):
            pytest.fail(f"ONPS_REQUIRE_BROWSER is set but {' and '.join(missing)} is missing")
        pytest.skip(f"{' and '.join(missing)} not installed")


def crawl(server: HTTPServer, tmp_path: Path, render_js: bool) -> list[dict]:
    cfg = OnpsConfig.model_validate({"crawl": fast_crawl(tmp_path, render_js=render_js, chromium_path=CHROMIUM)})
    out = tmp_path / f"render-{render_js}.jsonl"
    report = crawl_url(server.url_for("/js/reviews-1.html"), "schemaorg", entity="Acme Bank", max_pages=5,
                       out_path=out, cfg=cfg)
    assert report.errors == []
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


@pytest.mark.browser
def test_reviews_written_by_javascript_need_render_js(httpserver: HTTPServer, tmp_path: Path):
    need_browser()
    httpserver.expect_request("/robots.txt").respond_with_data(ROBOTS, content_type="text/plain")
    for name in ("reviews-1.html", "reviews-2.html"):
        httpserver.expect_request(f"/js/{name}").respond_with_data((PAGES / name).read_bytes(),
                                                                   content_type="text/html")

    assert crawl(httpserver, tmp_path, render_js=False) == []  # the HTML as served holds no review
    assert [path for path in (r.full_path.rstrip("?") for r, _ in httpserver.log) if path.startswith("/js/")] == [
        "/js/reviews-1.html"]  # and no link to page 2

    items = crawl(httpserver, tmp_path, render_js=True)
    assert [(i["external_id"], i["author_name"], i["rating"], i["published_at"], i["language"], i["text"])
            for i in items] == [
        ("https://shop.example/reviews/r-201", "Dana", 5, "2026-11-12T09:15:00+00:00", "en",
         "Opened an account in ten minutes, all from the app."),
        ("https://shop.example/reviews/r-202", "Emil", 2, "2026-11-08T18:40:00+00:00", "en",
         "The card arrived after three weeks."),
        ("https://shop.example/reviews/r-203", "Fien", 4, "2026-10-28T12:00:00+00:00", "nl",
         "Prima bank, snelle service."),
    ]
    assert {i["entity"] for i in items} == {"Acme Bank"} and {i["rating_0_10"] for i in items} == {10.0, 2.5, 7.5}


def test_render_js_names_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no chromium on PATH either
    with pytest.raises(RenderUnavailable, match="chromium_path"):
        chromium(str(tmp_path / "no-such-browser"))
