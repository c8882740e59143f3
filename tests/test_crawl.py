"""Real crawls over HTTP on 127.0.0.1 (pytest-httpserver): every format, broken pages, robots.txt, dedupe across
two runs into a real database, resume after a stopped crawl, and the `onps crawl` command."""

from __future__ import annotations

import json
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from typer.testing import CliRunner
from werkzeug import Request, Response

from config.schema import OnpsConfig
from crawlers.run import CrawlFailed, crawl_sources
from flows.cli import app
from store.engine import session_scope
from store.schema import Author, CrawlRun, Document, Source

PAGES = Path(__file__).parent / "crawl_pages"
ROBOTS = "User-agent: *\nDisallow: /private/\n"
TYPES = {".html": "text/html", ".json": "application/json", ".xml": "application/atom+xml"}
FORUM_SELECTORS = {"post": "div.post", "author": "a.username", "text": "div.content", "date": "time::attr(datetime)"}


def page(server: HTTPServer, path: str, fixture: str, query: str | None = None) -> None:
    file = PAGES / fixture
    server.expect_request(path, query_string=query).respond_with_data(
        file.read_bytes(), content_type=TYPES[file.suffix])


def requested(server: HTTPServer) -> list[str]:
    return [req.full_path.rstrip("?") for req, _ in server.log]


def fast_crawl(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """Politeness off for loopback tests (the defaults are tested in the settings test)."""
    return {"autothrottle": False, "download_delay": 0, "retry_times": 1, "concurrency_per_domain": 8,
            "jobdir": str(tmp_path / "jobs"), **overrides}


def next_data(fixture: str) -> dict[str, Any]:
    """The __NEXT_DATA__ JSON of one of our Trustpilot-style fixture pages."""
    html = (PAGES / fixture).read_text(encoding="utf-8")
    return json.loads(html.split('<script id="__NEXT_DATA__" type="application/json">')[1].split("</script>")[0])


def endless(request: Request) -> Response:
    """A site that ignores ?page=N: every page says it is page N of 10,000 and shows page 1's reviews."""
    data = next_data("trustpilot/page1.html")
    data["props"]["pageProps"]["filters"]["pagination"].update(
        currentPage=int(request.args.get("page", 1)), totalPages=10_000)
    return Response(f'<script id="__NEXT_DATA__" type="application/json">{json.dumps(data)}</script>',
                    content_type="text/html")


def serve_all(server: HTTPServer) -> None:
    """Every format, plus the broken pages: two kinds of endless pagination, truncated JSON, a 10 MB page, a
    robots.txt-forbidden page."""
    server.expect_request("/robots.txt").respond_with_data(ROBOTS, content_type="text/plain")
    page(server, "/review/acme", "trustpilot/page2.html", query="page=2")
    page(server, "/review/acme", "trustpilot/page1.html")
    page(server, "/shop/acme-account/reviews-1.html", "schemaorg/reviews-1.html")
    page(server, "/shop/acme-account/reviews-2.html", "schemaorg/reviews-2.html")
    page(server, "/loop/loop-a.html", "schemaorg/loop-a.html")
    page(server, "/loop/loop-b.html", "schemaorg/loop-b.html")
    for n in (1, 2, 3):
        page(server, f"/rss/page={n}/id=1/json", f"appstore/page={n}.json")
    page(server, "/rss/truncated.json", "appstore/truncated.json")
    server.expect_oneshot_request("/forum/viewtopic.php", query_string="t=42").respond_with_data("busy", status=503)
    page(server, "/forum/viewtopic.php", "forum/thread-2.html", query="t=42&start=2")
    page(server, "/forum/viewtopic.php", "forum/thread-1.html", query="t=42")
    page(server, "/latest.json", "discourse/latest-page1.json", query="page=1")
    page(server, "/latest.json", "discourse/latest.json")
    page(server, "/t/11.json", "discourse/t-11.json")
    page(server, "/t/12.json", "discourse/t-12.json")
    page(server, "/r/personalfinance/search.json", "reddit/search.json")
    page(server, "/comments/abc1.json", "reddit/comments-abc1.json")
    page(server, "/feed/atom.xml", "feed/atom.xml")
    server.expect_request("/huge.json").respond_with_data(b"[" + b" " * (10 * 1024 * 1024 + 10) + b"]",
                                                          content_type="application/json")
    page(server, "/private/reviews.html", "schemaorg/reviews-1.html")
    server.expect_request("/review/endless").respond_with_handler(endless)


def all_sources_config(server: HTTPServer, tmp_path: Path) -> OnpsConfig:
    url = server.url_for
    return OnpsConfig.model_validate({
        "crawl": fast_crawl(tmp_path),
        "entities": [{"name": "Acme Bank", "aliases": {"*": ["Acme"]}}, {"name": "Other Bank"}],
        "sources": [
            {"name": "tp", "kind": "trustpilot", "url": url("/review/acme"), "entity": "Acme Bank", "region": "BE"},
            {"name": "shop", "kind": "schemaorg", "url": url("/shop/acme-account/reviews-1.html"),
             "entity": "Acme Bank"},
            {"name": "loop", "kind": "schemaorg", "url": url("/loop/loop-a.html"), "entity": "Acme Bank"},
            {"name": "endless", "kind": "trustpilot", "url": url("/review/endless"), "entity": "Acme Bank"},
            {"name": "app", "kind": "appstore", "url": url("/rss/page=1/id=1/json"), "entity": "Acme Bank"},
            {"name": "badjson", "kind": "appstore", "url": url("/rss/truncated.json"), "entity": "Acme Bank"},
            {"name": "huge", "kind": "appstore", "url": url("/huge.json"), "entity": "Acme Bank"},
            {"name": "private", "kind": "schemaorg", "url": url("/private/reviews.html"), "entity": "Acme Bank"},
            {"name": "forum", "kind": "forum", "url": url("/forum/viewtopic.php?t=42"), "selectors": FORUM_SELECTORS},
            {"name": "disc", "kind": "discourse", "url": url("/")},
            {"name": "reddit", "kind": "reddit", "url": url("/r/personalfinance/search.json?q=acme")},
            {"name": "blog", "kind": "feed", "url": url("/feed/atom.xml")},
            {"name": "off", "kind": "feed", "url": url("/feed/atom.xml"), "enabled": False},
        ],
    })


EXPECTED = {
    "tp": {"tp0001", "tp0002", "tp0004"},  # tp0003 has no text (dropped), tp0005 is from 2019 (too old)
    "shop": {"https://shop.example/reviews/r-101", "https://shop.example/reviews/r-102",
             "https://shop.example/reviews/r-103"},
    "loop": {"https://loop.example/reviews/a", "https://loop.example/reviews/b"},
    "endless": {"tp0001", "tp0002"},
    "app": {"880001", "880002", "880003"},
    "forum": {"http://HOST/forum/viewtopic.php#p501", "http://HOST/forum/viewtopic.php#p503"},
    "disc": {"101", "103", "120"},
    "reddit": {"t3_abc1", "t1_c1", "t1_c2"},
    "blog": {"urn:money-blog:post-1"},
}


def stored(db_url: str) -> dict[str, set[str]]:
    with session_scope(db_url) as session:
        rows = session.execute(select(Source.name, Document.external_id).join(Source, Document.source_id == Source.id))
        found: dict[str, set[str]] = {}
        for name, key in rows:
            found.setdefault(name, set()).add(key)
        return found


def test_crawl_sources_all_formats_twice_into_the_store(httpserver: HTTPServer, db_url: str, tmp_path: Path):
    serve_all(httpserver)
    cfg = all_sources_config(httpserver, tmp_path)
    host = f"{httpserver.host}:{httpserver.port}"
    expected = {name: {key.replace("HOST", host) for key in keys} for name, keys in EXPECTED.items()}

    first = crawl_sources(cfg, db_url, progress=False)

    assert stored(db_url) == expected
    assert {name: c.new for name, c in first.sources.items()} == {
        **{name: len(keys) for name, keys in expected.items()}, "badjson": 0, "huge": 0, "private": 0}
    assert first.sources["tp"].dropped == 1 and first.sources["tp"].too_old == 1
    problems = {(e.source, e.url.replace(host, "HOST"), e.reason.split(":")[0]) for e in first.errors}
    assert problems == {
        ("tp", "http://HOST/reviews/tp0003", "item dropped"),
        ("loop", "http://HOST/loop/loop-a.html", "pagination loop"),
        ("endless", "http://HOST/review/endless?page=2", "pagination loop"),
        ("endless", "http://HOST/reviews/tp0003", "item dropped"),
        ("badjson", "http://HOST/rss/truncated.json", "malformed JSON"),
        ("huge", "http://HOST/huge.json", "DownloadCancelledError"),
        ("private", "http://HOST/private/reviews.html", "disallowed by robots.txt"),
    }
    assert "larger than download max size" in next(e.reason for e in first.errors if e.source == "huge")
    log = requested(httpserver)
    assert log.count("/forum/viewtopic.php?t=42") == 2  # a 503, then the retry after a pause
    assert "/private/reviews.html" not in log and "/feed/atom.xml" in log

    with session_scope(db_url) as session:
        doc = session.scalars(select(Document).join(Source, Document.source_id == Source.id)
                              .where(Source.name == "tp", Document.external_id == "tp0002")).one()
        assert doc.text == "Le service client était très lent, trois semaines pour une réponse."
        assert "Ã©" in doc.raw_text and doc.language == "fr" and doc.region == "BE"
        assert doc.rating == 2 and doc.rating_scale == 5 and doc.rating_0_10 == 2.5
        assert doc.published_at.isoformat() == "2026-11-18T17:40:00+00:00" and doc.run_id == first.run_id
        author = session.get(Author, doc.author_id)
        assert (author.external_id, author.facts) == ("c002", {"review_count": 1, "country": "FR", "verified": False,
                                                               "review_verified": False, "review_source": "Organic"})
        r101 = session.scalars(select(Document).where(Document.external_id.like("%r-101"))).one()
        assert r101.rating_0_10 == 9.0 and r101.published_at.isoformat() == "2026-11-10T07:30:00+00:00"
        assert r101.text == "The app does everything.\n\nTransfers are instant."
        p503 = session.scalars(select(Document).where(Document.external_id.like("%#p503"))).one()
        assert p503.text == "Acme fixed it for me within a day. Très bien." and p503.extra["mentions"] == ["Acme Bank"]
        run = session.get(CrawlRun, first.run_id)
        assert run.status == "completed" and run.counts["crawl"]["new"] == sum(map(len, expected.values()))
    assert not (tmp_path / "jobs" / "tp").exists()  # finished sources leave no JOBDIR behind

    httpserver.clear_log()
    second = crawl_sources(cfg, db_url, progress=False)
    assert stored(db_url) == expected
    assert sum(c.new for c in second.sources.values()) == 0
    with session_scope(db_url) as session:
        assert session.scalar(select(func.count(Document.id))) == sum(map(len, expected.values()))
    log = requested(httpserver)
    assert "/review/acme?page=2" not in log  # page 1 holds only stored reviews: incremental stop
    assert not any(path.startswith("/t/") for path in log)  # no topic bumped since the newest stored post


def slow_pages(server: HTTPServer, pages: int, delay: float, on_request: Callable[[int], None]) -> None:
    """A trustpilot-style source of PAGES pages, 2 reviews each, each page taking DELAY seconds."""
    template = next_data("trustpilot/page1.html")

    def handler(request: Request) -> Response:
        number = int(request.args.get("page", 1))
        on_request(number)
        time.sleep(delay)
        data = json.loads(json.dumps(template))
        props = data["props"]["pageProps"]
        props["reviews"] = [{**props["reviews"][0], "id": f"p{number}r{k}", "text": f"Acme review {k} on page {number}"}
                            for k in (1, 2)]
        props["filters"]["pagination"].update(currentPage=number, totalPages=pages)
        html = f'<script id="__NEXT_DATA__" type="application/json">{json.dumps(data)}</script>'
        return Response(html, content_type="text/html")

    server.expect_request("/robots.txt").respond_with_data("", content_type="text/plain")
    server.expect_request("/review/slow").respond_with_handler(handler)


def crawl_children() -> list[int]:
    """Child processes of this test process (the crawler runner), from /proc."""
    pid = os.getpid()
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


def slow_source_config(httpserver: HTTPServer, tmp_path: Path) -> OnpsConfig:
    """One Trustpilot-style source on the slow pages, crawled one request at a time with its JOBDIR in tmp."""
    return OnpsConfig.model_validate({
        "crawl": fast_crawl(tmp_path, concurrency_per_domain=1),
        "entities": [{"name": "Acme Bank"}],
        "sources": [{"name": "slow", "kind": "trustpilot", "url": httpserver.url_for("/review/slow"),
                     "entity": "Acme Bank"}],
    })


def test_stopped_crawl_resumes_from_its_jobdir_without_loss(httpserver: HTTPServer, sqlite_url: str, tmp_path: Path):
    stopped = threading.Event()

    def stop_at_page_3(number: int) -> None:
        if number == 3 and not stopped.is_set():
            for child in crawl_children():
                os.kill(child, signal.SIGTERM)  # the first SIGTERM: Scrapy stops gracefully, saving its JOBDIR
            stopped.set()

    slow_pages(httpserver, pages=5, delay=0.3, on_request=stop_at_page_3)
    cfg = slow_source_config(httpserver, tmp_path)
    first = crawl_sources(cfg, sqlite_url, progress=False)
    assert stopped.is_set() and first.sources["slow"].finish_reason == "shutdown"
    assert (tmp_path / "jobs" / "slow").is_dir()
    before = stored(sqlite_url)["slow"]
    assert {"p1r1", "p1r2", "p2r1", "p2r2"} <= before and len(before) < 10

    httpserver.clear_log()
    second = crawl_sources(cfg, sqlite_url, progress=False)
    assert second.sources["slow"].finish_reason == "finished" and second.errors == []
    assert stored(sqlite_url)["slow"] == {f"p{n}r{k}" for n in range(1, 6) for k in (1, 2)}
    again = requested(httpserver)
    assert "/review/slow" not in again and "/review/slow?page=2" not in again  # resumed, not restarted
    assert not (tmp_path / "jobs" / "slow").exists()


def test_killed_crawl_resumes_after_its_last_checkpoint_without_loss_or_duplicates(
    httpserver: HTTPServer, sqlite_url: str, tmp_path: Path
):
    state = tmp_path / "jobs" / "slow" / "spider.state"
    killed = threading.Event()

    def kill_at_page_5(number: int) -> None:
        if number == 5 and not killed.is_set():
            deadline = time.monotonic() + 30
            while not state.exists() and time.monotonic() < deadline:  # a timed flush commits and checkpoints
                time.sleep(0.05)
            for child in crawl_children():
                os.kill(child, signal.SIGKILL)  # no graceful stop: only the checkpoint survives
            killed.set()

    slow_pages(httpserver, pages=7, delay=0.2, on_request=kill_at_page_5)
    cfg = slow_source_config(httpserver, tmp_path)
    with pytest.raises(CrawlFailed):
        crawl_sources(cfg, sqlite_url, progress=False)
    assert killed.is_set()
    done = pickle.loads(state.read_bytes())["done"]
    assert done, "the checkpoint recorded no finished page"
    before = stored(sqlite_url)["slow"]
    pages_done = {int(url.partition("page=")[2] or 1) for url in done}
    assert {f"p{n}r{k}" for n in pages_done for k in (1, 2)} <= before  # a finished page's items are stored

    httpserver.clear_log()
    second = crawl_sources(cfg, sqlite_url, progress=False)
    assert second.sources["slow"].finish_reason == "finished" and second.errors == []
    assert stored(sqlite_url)["slow"] == {f"p{n}r{k}" for n in range(1, 8) for k in (1, 2)}
    assert second.sources["slow"].new == 14 - len(before)
    again = {int(path.partition("page=")[2] or 1) for path in requested(httpserver) if path.startswith("/review/")}
    assert again == set(range(1, 8)) - pages_done  # resumed where the checkpoint left it, not restarted
    assert not (tmp_path / "jobs" / "slow").exists()


def test_a_crawl_whose_parent_is_killed_stops_writing(httpserver: HTTPServer, sqlite_url: str, tmp_path: Path):
    """kill -9 of the process that started a crawl (the OOM killer, a killed nightly) used to leave the crawler
    child writing documents after the next run took the lease; now the child dies with it (PR_SET_PDEATHSIG)."""
    import psutil

    slow_pages(httpserver, pages=200, delay=0.3, on_request=lambda number: None)
    cfg = slow_source_config(httpserver, tmp_path)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(cfg.model_dump(mode="json")), encoding="utf-8")
    script = ("import json, sys; from config.schema import OnpsConfig; from crawlers.run import crawl_sources; "
              "crawl_sources(OnpsConfig.model_validate(json.loads(open(sys.argv[1]).read())), sys.argv[2], "
              "progress=False)")
    parent = psutil.Popen([sys.executable, "-c", script, str(config), sqlite_url], cwd=Path(__file__).parents[1])
    deadline = time.monotonic() + 60
    children: list[psutil.Process] = []
    while time.monotonic() < deadline and not (children and len(httpserver.log) >= 2):
        children = [c for c in parent.children() if "crawlers.runner" in " ".join(c.cmdline())]
        time.sleep(0.1)
    assert children and len(httpserver.log) >= 2, "the crawl did not start"
    parent.kill()  # SIGKILL to the parent alone, not its process group
    parent.wait(timeout=10)
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, "the crawler child outlived its parent"
    seen = len(httpserver.log)
    time.sleep(1.0)
    assert len(httpserver.log) == seen  # no request after the kill


def test_a_forum_post_naming_two_brands_becomes_one_item_each_on_its_sentences(httpserver: HTTPServer,
                                                                                sqlite_url: str, tmp_path: Path):
    """"Left Acme for Globex" used to be one document of the first brand named, with the praise of Globex in it."""
    from store.schema import Entity

    post = ('<div id="p9" class="post"><a class="username">ines</a> <time datetime="2026-11-12T18:04:00+00:00">'
            'x</time><div class="content">Switched from Acme Bank to Globex in May. Acme Bank lost two transfers.'
            '<br/>Globex support fixed everything in a day.</div></div>')
    httpserver.expect_request("/board").respond_with_data(f"<html><body>{post}</body></html>", content_type="text/html")
    cfg = OnpsConfig.model_validate({
        "crawl": fast_crawl(tmp_path, max_age_days=36500),
        "entities": [{"name": "Acme Bank", "competitors": ["Globex"]}, {"name": "Globex"}],
        "sources": [{"name": "board", "kind": "forum", "url": httpserver.url_for("/board"),
                     "selectors": FORUM_SELECTORS}]})
    report = crawl_sources(cfg, sqlite_url, progress=False)
    assert not report.errors and report.sources["board"].new == 2
    with session_scope(sqlite_url) as session:
        rows = session.execute(select(Entity.name, Document.external_id, Document.text, Document.extra)
                               .join(Entity, Entity.id == Document.entity_id)).all()
    items = {name: (ext, text, extra) for name, ext, text, extra in rows}
    assert set(items) == {"Acme Bank", "Globex"}
    assert items["Acme Bank"][1] == "Switched from Acme Bank to Globex in May. Acme Bank lost two transfers."
    assert items["Globex"][1] == "Switched from Acme Bank to Globex in May. Globex support fixed everything in a day."
    assert items["Globex"][0] == f"{items['Globex'][2]['post_id']}@Globex"
    assert items["Acme Bank"][2]["mentions"] == ["Acme Bank", "Globex"]


def test_onps_crawl_url_writes_json_lines(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request("/robots.txt").respond_with_data(ROBOTS, content_type="text/plain")
    page(httpserver, "/review/acme", "trustpilot/page2.html", query="page=2")
    page(httpserver, "/review/acme", "trustpilot/page1.html")
    config = tmp_path / "onps.toml"
    config.write_text("[crawl]\nautothrottle = false\ndownload_delay = 0\nretry_times = 0\n", encoding="utf-8")
    out = tmp_path / "out" / "acme.jsonl"
    result = CliRunner().invoke(app, ["--config", str(config), "crawl", httpserver.url_for("/review/acme"),
                                      "--kind", "trustpilot", "--entity", "Acme Bank", "--max-pages", "5",
                                      "-o", str(out)])
    assert result.exit_code == 1, result.output  # finished, but one review had no text: reported
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["external_id"] for line in lines] == ["tp0001", "tp0002", "tp0004", "tp0005"]
    from nps.record import EMPLOYEE_FIELDS  # a customer's review has none of them (absent audience = customer)

    fields = [f for f in __import__("crawlers.items", fromlist=["FIELDS"]).FIELDS if f not in EMPLOYEE_FIELDS]
    head = ["id", "lang", "author", *(["channel"] if "channel" in lines[0] else [])]
    assert list(lines[0]) == [*head, *fields]  # the record's names first: valid `onps score` input
    assert lines[0].get("channel") == lines[0]["extra"].get("channel")
    assert lines[0]["id"] == "tp0001" and lines[0]["author"] == lines[0]["author_id"]
    assert lines[0]["entity"] == "Acme Bank" and lines[0]["author_facts"]["review_count"] == 12
    assert lines[2]["text"] == "Fees went up twice this year without notice.\nI am moving my savings elsewhere."
    assert lines[2]["published_at"] == "2026-11-02T12:00:00+00:00" and lines[2]["rating_0_10"] == 0.0
    said = "".join(result.output.split())  # rich wraps long lines
    assert "missingreviewtext" in said and "/reviews/tp0003" in said


def test_onps_crawl_usage_errors(tmp_path: Path):
    runner = CliRunner()
    config = tmp_path / "onps.toml"
    config.write_text("", encoding="utf-8")
    assert runner.invoke(app, ["--config", str(config), "crawl", "http://x.test/", "-o", "o.jsonl"]).exit_code == 2
    assert runner.invoke(app, ["--config", str(config), "crawl", "--kind", "feed"]).exit_code == 2
    result = runner.invoke(app, ["--config", str(config), "crawl"])
    assert result.exit_code == 2 and "no enabled [[sources]]" in result.output
