"""A page that fails stays owed to its source (store.owed): the next crawls ask for it again, do not trust the
incremental stop while it is owed, and report it until it is fetched or given up. On Keytrade's real Trustpilot
reviews served over HTTP on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from config.schema import OnpsConfig
from crawlers.run import crawl_sources
from store.engine import session_scope
from store.schema import OwedPage
from tests.real_streams import keytrade_reviews, serve_trustpilot
from tests.test_crawl import fast_crawl, requested, stored

pytestmark = pytest.mark.slow
PATH = "/review/keytrade.be"


def config(server: HTTPServer, tmp_path: Path, **crawl: Any) -> OnpsConfig:
    server.expect_request("/robots.txt").respond_with_data("", content_type="text/plain")
    return OnpsConfig.model_validate({
        "crawl": fast_crawl(tmp_path, max_age_days=36500, **crawl),
        "entities": [{"name": "Keytrade"}],
        "sources": [{"name": "keytrade", "kind": "trustpilot", "url": server.url_for(PATH), "entity": "Keytrade"}],
    })


def owed(db_url: str) -> list[tuple[str, int, bool]]:
    with session_scope(db_url) as s:
        return [(row.url.split("?")[-1], row.attempts, row.given_up_at is not None)
                for row in s.scalars(select(OwedPage).order_by(OwedPage.url))]


def test_a_failed_page_is_fetched_again_and_nothing_behind_it_is_lost(
        httpserver: HTTPServer, sqlite_url: str, tmp_path: Path) -> None:
    everything = keytrade_reviews()  # 1,030 reviews, newest first: 21 pages of 50
    listing = everything[30:]  # the 30 newest arrive after the first crawl, pushing every page down
    broken = {"on": True}
    serve_trustpilot(httpserver, PATH, listing, failing=lambda page: broken["on"] and page == 5)
    cfg = config(httpserver, tmp_path)

    first = crawl_sources(cfg, sqlite_url, progress=False)
    assert len(stored(sqlite_url)["keytrade"]) == 4 * 50  # pages 1-4; page 5 failed, so 6-21 were never linked
    assert [e.reason for e in first.errors] == ["HTTP 503"] and first.errors[0].owed
    assert first.sources["keytrade"].owed == 1 and owed(sqlite_url) == [("page=5", 1, False)]

    broken["on"] = False
    listing[:0] = everything[:30]
    httpserver.clear_log()
    second = crawl_sources(cfg, sqlite_url, progress=False)
    assert second.errors == [] and second.sources["keytrade"].recovered == 1
    assert second.sources["keytrade"].owed == 0 and owed(sqlite_url) == []
    assert stored(sqlite_url)["keytrade"] == {r["id"] for r in everything}  # all 1,030: nothing lost
    assert f"{PATH}?page=5" in requested(httpserver)

    httpserver.clear_log()
    third = crawl_sources(cfg, sqlite_url, progress=False)
    assert third.sources["keytrade"].new == 0 and third.errors == []
    assert [p for p in requested(httpserver) if p != "/robots.txt"] == [PATH]  # paid: the stop is trusted again


def test_a_page_that_keeps_failing_is_given_up_by_the_stated_rule(
        httpserver: HTTPServer, sqlite_url: str, tmp_path: Path) -> None:
    serve_trustpilot(httpserver, PATH, keytrade_reviews()[:200], failing=lambda page: page == 2)
    cfg = config(httpserver, tmp_path, owed_max_runs=2)
    reports = [crawl_sources(cfg, sqlite_url, progress=False) for _ in range(2)]
    assert [r.sources["keytrade"].owed for r in reports] == [1, 0]
    assert [r.sources["keytrade"].given_up for r in reports] == [0, 1]
    assert owed(sqlite_url) == [("page=2", 2, True)]  # kept, dated, no longer asked for
    httpserver.clear_log()
    crawl_sources(cfg, sqlite_url, progress=False)
    assert f"{PATH}?page=2" not in requested(httpserver)


def test_a_source_that_fails_every_page_raises_an_operator_alert_once_a_day(
        httpserver: HTTPServer, sqlite_url: str, tmp_path: Path) -> None:
    """Keytrade's page answering 503 on every try, and a second source whose page is gone (404): the nightly
    used to end exit 0 with no alert. Now the alert stage raises one `source_failed` alert per broken source,
    naming the pages and the last error, into the same store (feeds, webhooks); the healthy run after is quiet."""
    from flows import report
    from flows.stages import Scope, crawl, raise_alerts
    from store.schema import Alert

    broken = {"on": True}
    serve_trustpilot(httpserver, PATH, keytrade_reviews()[:100], failing=lambda page: broken["on"])
    httpserver.expect_request("/review/gone.example").respond_with_data("not found", status=404)
    cfg = config(httpserver, tmp_path)
    cfg = cfg.model_copy(update={"sources": [*cfg.sources, cfg.sources[0].model_copy(
        update={"name": "gone", "url": httpserver.url_for("/review/gone.example")})]})

    run_id = report.start_run(sqlite_url, "nightly", {})
    report.record_stage(sqlite_url, run_id, crawl(sqlite_url, cfg, run_id))
    raised = raise_alerts(sqlite_url, cfg, run_id, Scope())
    with session_scope(sqlite_url) as s:
        alerts = {a.payload["source"]: (a.kind, a.title) for a in s.scalars(select(Alert))}
    assert set(alerts) == {"keytrade", "gone"} and raised.counts["source_failed"] == 2
    assert alerts["keytrade"][0] == "source_failed" and "HTTP 503" in alerts["keytrade"][1]
    assert "1 of 1 pages" in alerts["gone"][1] and "404" in alerts["gone"][1]

    again = report.start_run(sqlite_url, "nightly", {})  # still broken the same day: the same causes, not new
    report.record_stage(sqlite_url, again, crawl(sqlite_url, cfg, again))
    assert raise_alerts(sqlite_url, cfg, again, Scope()).counts["raised"] == 0

    broken["on"] = False
    healthy = report.start_run(sqlite_url, "nightly", {})
    result = crawl(sqlite_url, cfg.model_copy(update={"sources": cfg.sources[:1]}), healthy)
    report.record_stage(sqlite_url, healthy, result)
    assert result.detail["failed_sources"] == []
