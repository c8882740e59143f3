"""The API sources (Google Play, Mastodon, Bluesky, YouTube) crawled with `onps crawl --api-base` against their
real captured replies served on 127.0.0.1 with the services' paging and errors (tests/api_services.py)."""

from __future__ import annotations

import json
import pickle
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from scrapy import Request as ScrapyRequest
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler
from sqlalchemy import func, select
from typer.testing import CliRunner
from werkzeug import Request, Response

from config.schema import OnpsConfig
from crawlers.checkpoint import save_state
from crawlers.run import crawl_url
from crawlers.spiders import spider_class
from crawlers.spiders.youtube import error_reasons
from flows.cli import app
from nps.record import parse_iso
from store.engine import session_scope
from store.schema import CrawlRun, Document, Source
from tests import api_services as services
from tests.test_crawl import fast_crawl

SECRET = "s3cr3t-Credential-0123456789"  # what a test puts in the environment; it must never come out


def assert_no_secret(secret: str, output: str, lines: list[dict[str, Any]], tmp_path: Path) -> None:
    """SECRET appears in no printed line, no item and no file the crawl left (logs, reports, the JSON lines)."""
    assert secret not in output and secret not in json.dumps(lines)
    for file in tmp_path.rglob("*"):
        assert not file.is_file() or secret.encode() not in file.read_bytes(), file


PLAY_PAGE = f"https://play.google.com/store/apps/details?id={services.TRANSLATE}&hl=en&gl=us"


def crawl(tmp_path: Path, url: str, kind: str, api_base: str, *options: str,
          env: dict[str, str] | None = None, config: str = "") -> tuple[int, str, list[dict[str, Any]]]:
    """`onps crawl URL --kind KIND --api-base BASE`: (exit code, everything it printed, the lines written); CONFIG:
    more of onps.toml (entities)."""
    path = tmp_path / "onps.toml"
    path.write_text("[crawl]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in fast_crawl(tmp_path).items())
                    + config, encoding="utf-8")
    out = tmp_path / f"{kind}.jsonl"
    result = CliRunner().invoke(app, ["--config", str(path), "crawl", url, "--kind", kind, "--api-base", api_base,
                                      *options, "-o", str(out)], env=env)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] if out.exists() else []
    return result.exit_code, result.output, lines


def play_reviews(*names: str) -> list[list[Any]]:
    """The review arrays of captured Google Play replies, read straight from the files."""
    reviews = []
    for name in names:
        text = (services.GOOGLE_PLAY / name).read_text(encoding="utf-8")
        reviews += json.loads(json.loads(text[text.index("\n"):])[0][2])[0]
    return reviews


def test_google_play_two_pages_by_token_with_developer_replies_versions_and_account_ids(
        httpserver: HTTPServer, tmp_path: Path) -> None:
    calls: list[dict[str, Any]] = []
    services.serve(httpserver, "/_/PlayStoreUi/data/batchexecute", services.google_play(calls))
    code, output, lines = crawl(tmp_path, PLAY_PAGE, "googleplay", httpserver.url_for("/"), "--max-pages", "2")
    assert code == 0, output
    captured = play_reviews("mradex77_translate-initial.txt", "mradex77_translate-page2.txt")
    assert [c["token"] is None for c in calls] == [True, False]  # the second call carries the first reply's token
    assert {(c["hl"], c["gl"], c["method"]) for c in calls} == {("en", "us", "POST")}
    assert len(lines) == 300 and len({line["id"] for line in lines}) == 300
    by_id = {line["id"]: line for line in lines}
    assert {r[0]: r[2] for r in captured} == {i: line["rating"] for i, line in by_id.items()}
    replied = [line for line in lines if line["company_reply"]]
    assert len(replied) == 72 == sum(1 for r in captured if r[7])
    for review in captured:
        line = by_id[review[0]]
        if review[7]:
            assert line["company_reply"]["text"] == review[7][1].strip()
            assert parse_iso(line["company_reply"]["time"]).timestamp() == pytest.approx(review[7][2][0], abs=1)
        assert line["app_version"] == review[10]
        assert line["extra"]["thumbs_up"] == review[6]
        assert line["author"] == (review[9][0] if review[9] and review[9][0] else None)
    timed = [line for line in lines if parse_iso(line["published_at"]) == parse_iso("2026-07-06T13:55:24.077Z")]
    assert len(timed) == 1 and timed[0]["published_at"].startswith("2026-07-06T13:55:24.077")
    anonymous = [line for line in lines if line["author_name"] == "A Google user"]
    assert Counter(line["author"] is None for line in anonymous) == {False: 2, True: 1}
    assert all(line["author"] != "A Google user" for line in lines)
    assert all(line["region"] == "US" for line in lines)


def test_google_play_rate_limit_is_waited_out_as_retry_after_says(httpserver: HTTPServer, tmp_path: Path) -> None:
    calls: list[dict[str, Any]] = []
    handler = services.first_refused(services.google_play(calls), 429, headers={"Retry-After": "2"})
    services.serve(httpserver, "/_/PlayStoreUi/data/batchexecute", handler)
    started = time.monotonic()
    code, output, lines = crawl(tmp_path, PLAY_PAGE, "googleplay", httpserver.url_for("/"), "--max-pages", "1")
    assert code == 0, output
    assert time.monotonic() - started >= 2  # the pause the service asked for, not the 0 s download delay
    assert len(lines) == 150 and len(calls) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_google_play_refusal_is_a_reported_failed_page(httpserver: HTTPServer, tmp_path: Path, status: int) -> None:
    handler = services.first_refused(services.google_play([]), status, times=5)
    services.serve(httpserver, "/_/PlayStoreUi/data/batchexecute", handler)
    code, output, lines = crawl(tmp_path, PLAY_PAGE, "googleplay", httpserver.url_for("/"))
    assert code == 1 and lines == []
    assert f"HTTP {status}" in output


def test_google_play_changed_shape_is_a_failed_source_not_an_empty_success(
        httpserver: HTTPServer, tmp_path: Path) -> None:
    """The second page answers an envelope without the review list its token promised."""
    real = services.google_play([])

    def changed(request: Request) -> Response:
        if "Ct" in request.get_data(as_text=True):  # the call with page 1's token
            return Response(")]}'\n\n[[\"wrb.fr\",\"UsvDTd\",\"[null,[null,null]]\",null,null,null,\"generic\"]]")
        return real(request)

    services.serve(httpserver, "/_/PlayStoreUi/data/batchexecute", changed)
    code, output, lines = crawl(tmp_path, PLAY_PAGE, "googleplay", httpserver.url_for("/"), "--max-pages", "3")
    assert code == 1 and len(lines) == 150
    said = " ".join(output.split())
    assert "changed shape" in said and "after a next-page token" in said


def test_mastodon_tag_timeline_pages_by_link_header_to_the_empty_page(httpserver: HTTPServer, tmp_path: Path) -> None:
    seen: list[dict[str, str | None]] = []
    services.serve(httpserver, "/api/v1/timelines/tag/ichbinhanna", services.mastodon_tag(httpserver, seen))
    code, output, lines = crawl(tmp_path, "https://mastodon.social/tags/ichbinhanna", "mastodon",
                                httpserver.url_for("/"))
    assert code == 0, output
    assert [s["max_id"] for s in seen] == [None, "114347272189573465", "113958523521356248", services.HANNA_END]
    statuses = {s["uri"]: s for s in services.hanna_statuses()}
    assert len(lines) == 120 and {line["id"] for line in lines} == set(statuses)
    for line in lines:
        status = statuses[line["id"]]
        assert not re.search(r"</?[a-z]+[ >]", line["text"]) and line["text"]  # HTML made plain text
        assert line["lang"] == status["language"]
        account = status["account"]
        assert line["author"] == (account["acct"] if "@" in account["acct"] else f"{account['acct']}@mastodon.social")
        age = (parse_iso(status["created_at"]) - parse_iso(account["created_at"])).days
        assert line["author_facts"].get("account_age_days") == (age if age >= 0 else None)  # moved: unknown
        assert line["author_facts"]["followers"] == account["followers_count"]
        assert line["author_facts"]["bot"] == account["bot"]
    first = next(line for line in lines if line["id"].endswith("/114626725755121763"))
    assert first["text"].startswith("@bmftr_bund super Sache das.") and "#IchBinHanna #IchBinReyhan" in first["text"]


def test_mastodon_instance_refusing_public_timelines_names_the_token_variable(
        httpserver: HTTPServer, tmp_path: Path) -> None:
    seen: list[dict[str, str | None]] = []
    services.serve(httpserver, "/api/v1/timelines/tag/ichbinhanna",
                   services.mastodon_tag(httpserver, seen, token=SECRET))
    code, output, lines = crawl(tmp_path, "https://mastodon.social/tags/ichbinhanna", "mastodon",
                                httpserver.url_for("/"), env={"MASTODON_ACCESS_TOKEN": ""})
    assert code == 1 and lines == [] and "MASTODON_ACCESS_TOKEN" in output and "HTTP 401" in output
    seen.clear()
    code, output, lines = crawl(tmp_path, "https://mastodon.social/tags/ichbinhanna", "mastodon",
                                httpserver.url_for("/"), env={"MASTODON_ACCESS_TOKEN": SECRET})
    assert code == 0 and len(lines) == 120 and {s["authorization"] for s in seen} == {f"Bearer {SECRET}"}
    assert_no_secret(SECRET, output, lines, tmp_path)


def test_mastodon_rate_limit_and_changed_shape(httpserver: HTTPServer, tmp_path: Path) -> None:
    seen: list[dict[str, str | None]] = []
    handler = services.first_refused(services.mastodon_tag(httpserver, seen), 429, headers={"Retry-After": "1"})
    services.serve(httpserver, "/api/v1/timelines/tag/ichbinhanna", handler)
    code, output, lines = crawl(tmp_path, "https://mastodon.social/tags/ichbinhanna", "mastodon",
                                httpserver.url_for("/"))
    assert code == 0 and len(lines) == 120, output
    httpserver.clear()
    httpserver.expect_request("/api/v1/timelines/tag/ichbinhanna").respond_with_json({"statuses": []})
    code, output, lines = crawl(tmp_path, "https://mastodon.social/tags/ichbinhanna", "mastodon",
                                httpserver.url_for("/"))
    assert code == 1 and lines == [] and "changed shape" in " ".join(output.split())


VIDEO_PAGE = f"https://www.youtube.com/watch?v={services.VIDEO}"


def youtube_paths(httpserver: HTTPServer, handler: services.Handler) -> None:
    for path in ("/youtube/v3/commentThreads", "/youtube/v3/comments"):
        services.serve(httpserver, path, handler)


def test_youtube_threads_and_replies_by_page_token_key_never_shown(httpserver: HTTPServer, tmp_path: Path) -> None:
    calls: list[dict[str, Any]] = []
    youtube_paths(httpserver, services.youtube(SECRET, calls))
    code, output, lines = crawl(tmp_path, VIDEO_PAGE, "youtube", httpserver.url_for("/"),
                                env={"YOUTUBE_API_KEY": SECRET})
    assert code == 0, output
    assert len(lines) == 10 and {line["id"] for line in lines} == services.youtube_comment_ids()
    # two pages of threads, two of the replies of the thread that includes fewer than it has: one call each
    assert sorted((c["path"].rsplit("/", 1)[1], "pageToken" in c) for c in calls) == [
        ("commentThreads", False), ("commentThreads", True), ("comments", False), ("comments", True)]
    assert all("key" not in c for c in calls)  # the key travels in a header, never in a URL
    first = next(line for line in lines if line["id"] == services.MORE_REPLIES)
    assert first["text"].startswith("Lot's of good light") and "<a" not in first["text"]  # textOriginal
    assert first["author"] == "UCACHW4qVHoE4zqhHxcVE3Kw"
    assert_no_secret(SECRET, output, lines, tmp_path)


def test_youtube_missing_key_is_named_before_any_request(httpserver: HTTPServer, tmp_path: Path) -> None:
    calls: list[dict[str, Any]] = []
    youtube_paths(httpserver, services.youtube(SECRET, calls))
    code, output, _ = crawl(tmp_path, VIDEO_PAGE, "youtube", httpserver.url_for("/"), env={"YOUTUBE_API_KEY": ""})
    assert code == 2 and "YOUTUBE_API_KEY" in output and calls == []


def test_youtube_refused_key_names_its_variable(httpserver: HTTPServer, tmp_path: Path) -> None:
    youtube_paths(httpserver, services.youtube("another-key", []))
    code, output, lines = crawl(tmp_path, VIDEO_PAGE, "youtube", httpserver.url_for("/"),
                                env={"YOUTUBE_API_KEY": SECRET})
    said = " ".join(output.split())
    assert code == 1 and lines == [] and "keyInvalid" in said and "YOUTUBE_API_KEY" in said
    assert_no_secret(SECRET, output, lines, tmp_path)


def test_youtube_quota_exceeded_stops_cleanly_keeping_what_was_fetched(
        httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    youtube_paths(httpserver, services.youtube(SECRET, [], quota=1))
    code, output, lines = crawl(tmp_path, VIDEO_PAGE, "youtube", httpserver.url_for("/"),
                                env={"YOUTUBE_API_KEY": SECRET})
    said = " ".join(output.split())
    assert code == 1 and len(lines) == 5 and "quotaExceeded" in said and "resumes on the next run" in said
    cfg = OnpsConfig.model_validate({"crawl": fast_crawl(tmp_path)})
    monkeypatch.setenv("YOUTUBE_API_KEY", SECRET)
    report = crawl_url(VIDEO_PAGE, "youtube", out_path=tmp_path / "again.jsonl", cfg=cfg,
                       api_base=httpserver.url_for("/"))
    [counts] = report.sources.values()
    assert counts.finish_reason == "quota_spent" and all(e.owed for e in report.errors)  # asked again next run


def test_youtube_rate_limit_and_changed_shape(httpserver: HTTPServer, tmp_path: Path) -> None:
    handler = services.first_refused(services.youtube(SECRET, []), 429, headers={"Retry-After": "1"})
    youtube_paths(httpserver, handler)
    code, output, lines = crawl(tmp_path, VIDEO_PAGE, "youtube", httpserver.url_for("/"),
                                env={"YOUTUBE_API_KEY": SECRET})
    assert code == 0 and len(lines) == 10, output
    httpserver.clear()
    changed = {"kind": "youtube#commentThreadListResponse", "threads": []}
    httpserver.expect_request("/youtube/v3/commentThreads").respond_with_json(changed)
    code, output, lines = crawl(tmp_path, VIDEO_PAGE, "youtube", httpserver.url_for("/"),
                                env={"YOUTUBE_API_KEY": SECRET})
    assert code == 1 and lines == [] and "changed shape" in " ".join(output.split())


HASHTAG = "https://bsky.app/hashtag/rstats"
HANDLE = "onps-test.bsky.social"


def bluesky_paths(httpserver: HTTPServer, service: services.BlueskyService) -> None:
    for name in ("com.atproto.server.createSession", "com.atproto.server.refreshSession",
                 "app.bsky.feed.searchPosts"):
        services.serve(httpserver, f"/xrpc/{name}", service)


def test_bluesky_search_behind_a_session_two_cursor_pages(httpserver: HTTPServer, tmp_path: Path) -> None:
    service = services.BlueskyService(HANDLE, SECRET)
    bluesky_paths(httpserver, service)
    code, output, lines = crawl(tmp_path, HASHTAG, "bluesky", httpserver.url_for("/"),
                                env={"BLUESKY_HANDLE": HANDLE, "BLUESKY_APP_PASSWORD": SECRET})
    assert code == 0, output
    assert [c["path"].rsplit("/", 1)[1] for c in service.calls] == [
        "com.atproto.server.createSession", "app.bsky.feed.searchPosts", "app.bsky.feed.searchPosts"]
    assert [c.get("cursor") for c in service.calls[1:]] == [None, "100"]
    assert len(lines) == 101 and {line["id"] for line in lines} == services.bluesky_uris()
    posts = {p["uri"]: p for p in json.loads((services.BLUESKY / "atrrr_searchPosts_hashtag-rstats_limit100.json")
                                            .read_text(encoding="utf-8"))["posts"]}
    for line in lines:
        if line["id"] in posts:
            post = posts[line["id"]]
            assert line["author"] == post["author"]["did"] and line["author"].startswith("did:")
            assert line["extra"]["langs"] == (post["record"].get("langs") or [])
            assert line["lang"] == ((post["record"].get("langs") or [None])[0])
    assert_no_secret(SECRET, output, lines, tmp_path)


def test_bluesky_expired_session_is_refreshed_and_the_page_asked_again(httpserver: HTTPServer, tmp_path: Path) -> None:
    service = services.BlueskyService(HANDLE, SECRET, expire_after=1)
    bluesky_paths(httpserver, service)
    code, output, lines = crawl(tmp_path, HASHTAG, "bluesky", httpserver.url_for("/"),
                                env={"BLUESKY_HANDLE": HANDLE, "BLUESKY_APP_PASSWORD": SECRET})
    assert code == 0 and len(lines) == 101, output
    assert service.sessions == 1 and service.refreshes == 1


def test_bluesky_wrong_password_missing_credential_rate_limit_and_changed_shape(
        httpserver: HTTPServer, tmp_path: Path) -> None:
    service = services.BlueskyService(HANDLE, "the-real-password")
    bluesky_paths(httpserver, service)
    code, output, lines = crawl(tmp_path, HASHTAG, "bluesky", httpserver.url_for("/"),
                                env={"BLUESKY_HANDLE": HANDLE, "BLUESKY_APP_PASSWORD": SECRET})
    said = " ".join(output.split())
    assert code == 1 and lines == [] and "BLUESKY_APP_PASSWORD" in said and "HTTP 401" in said
    assert_no_secret(SECRET, output, lines, tmp_path)
    code, output, _ = crawl(tmp_path, HASHTAG, "bluesky", httpserver.url_for("/"),
                            env={"BLUESKY_HANDLE": HANDLE, "BLUESKY_APP_PASSWORD": ""})
    assert code == 2 and "BLUESKY_APP_PASSWORD" in output and len(service.calls) == 1  # nothing asked this time
    httpserver.clear()
    service = services.BlueskyService(HANDLE, SECRET)
    bluesky_paths(httpserver, services.first_refused(service, 429, headers={"Retry-After": "1"}))
    code, output, lines = crawl(tmp_path, HASHTAG, "bluesky", httpserver.url_for("/"),
                                env={"BLUESKY_HANDLE": HANDLE, "BLUESKY_APP_PASSWORD": SECRET})
    assert code == 0 and len(lines) == 101, output
    httpserver.clear()
    httpserver.expect_request("/xrpc/com.atproto.server.createSession").respond_with_json({"session": "?"})
    code, output, lines = crawl(tmp_path, HASHTAG, "bluesky", httpserver.url_for("/"),
                                env={"BLUESKY_HANDLE": HANDLE, "BLUESKY_APP_PASSWORD": SECRET})
    assert code == 1 and lines == [] and "changed shape" in " ".join(output.split())


def test_the_nightly_crawls_the_api_sources_of_onps_toml_into_the_store_incrementally(
        httpserver: HTTPServer, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The four kinds configured in onps.toml (api_base, a renamed credential variable), crawled by the nightly
    flow into a real store twice: replies and app versions in their columns, the second night stops at the first
    Google Play page it already holds, and no credential is in any stored row."""
    from flows import report as run_report
    from flows.nightly import run_nightly

    play_calls: list[dict[str, Any]] = []
    services.serve(httpserver, "/_/PlayStoreUi/data/batchexecute", services.google_play(play_calls))
    services.serve(httpserver, "/api/v1/timelines/tag/ichbinhanna", services.mastodon_tag(httpserver, []))
    youtube_paths(httpserver, services.youtube(SECRET, []))
    bluesky_paths(httpserver, services.BlueskyService(HANDLE, SECRET))
    monkeypatch.setenv("ACME_YOUTUBE_KEY", SECRET)
    monkeypatch.setenv("BLUESKY_HANDLE", HANDLE)
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", SECRET)
    monkeypatch.delenv("YOUTUBE_API_KEY", raising=False)
    base = httpserver.url_for("/")
    crawl_settings = {**fast_crawl(tmp_path), "max_age_days": 4000}  # the YouTube captures are from 2019
    config = tmp_path / "onps.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[crawl]\n'
        + "".join(f"{k} = {json.dumps(v)}\n" for k, v in crawl_settings.items())
        + '[[entities]]\nname = "Translate"\n'
        + f'[[sources]]\nname = "play"\nkind = "googleplay"\nurl = "{PLAY_PAGE}"\napi_base = "{base}"\n'
          'entity = "Translate"\nmax_pages = 2\n'
        + f'[[sources]]\nname = "hanna"\nkind = "mastodon"\nurl = "https://mastodon.social/tags/ichbinhanna"\n'
          f'api_base = "{base}"\n'
        + f'[[sources]]\nname = "video"\nkind = "youtube"\nurl = "{VIDEO_PAGE}"\napi_base = "{base}"\n'
          'credentials = {api_key = "ACME_YOUTUBE_KEY"}\nquota = 50\n'
        + f'[[sources]]\nname = "rstats"\nkind = "bluesky"\nurl = "{HASHTAG}"\napi_base = "{base}"\n',
        encoding="utf-8")
    first = run_report.load_run(db_url, run_nightly(str(config), db_url))
    with session_scope(db_url) as session:
        counts = dict(session.execute(select(Source.name, func.count(Document.id))
                                      .join(Document, Document.source_id == Source.id).group_by(Source.name)).all())
        replies = session.execute(select(Document.company_reply, Document.company_replied_at)
                                  .where(Document.company_reply.is_not(None))).all()
        versions = session.scalar(select(func.count()).where(Document.app_version.is_not(None)))
        stored = json.dumps([[str(v) for v in row] for row in session.execute(select(Document)).all()]) + json.dumps(
            [row.settings for row in session.scalars(select(Source))])
        runs = json.dumps([[r.counts, r.errors, r.report] for r in session.scalars(select(CrawlRun))])
    assert counts == {"play": 300, "hanna": 120, "video": 10, "rstats": 101}, first
    assert len(replies) == 72 and all(at is not None for _, at in replies)
    expected_versions = sum(1 for r in play_reviews("mradex77_translate-initial.txt",
                                                    "mradex77_translate-page2.txt") if r[10])
    assert versions == expected_versions
    assert SECRET not in stored and SECRET not in runs and "ACME_YOUTUBE_KEY" in stored  # the name, not the value
    play_calls.clear()
    run_nightly(str(config), db_url)
    assert len(play_calls) == 1  # the first page holds only stored reviews: incremental stop
    with session_scope(db_url) as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 531


def test_a_failed_google_play_page_is_owed_and_fetched_by_its_token_next_time(
        httpserver: HTTPServer, sqlite_url: str, tmp_path: Path) -> None:
    """The page's token rides in its URL's fragment: the owed row alone is enough to ask the same page again."""
    from crawlers.run import crawl_sources
    from store.schema import OwedPage

    calls: list[dict[str, Any]] = []
    real, broken = services.google_play(calls), {"on": True}

    def flaky(request: Request) -> Response:
        if broken["on"] and "Ct" in request.get_data(as_text=True):
            return Response("busy", status=503)
        return real(request)

    services.serve(httpserver, "/_/PlayStoreUi/data/batchexecute", flaky)
    cfg = OnpsConfig.model_validate({"crawl": fast_crawl(tmp_path), "sources": [
        {"name": "play", "kind": "googleplay", "url": PLAY_PAGE, "api_base": httpserver.url_for("/"),
         "max_pages": 2}]})
    first = crawl_sources(cfg, sqlite_url, progress=False)
    assert first.sources["play"].owed == 1 and [e.reason for e in first.errors] == ["HTTP 503"]
    broken["on"] = False
    calls.clear()
    second = crawl_sources(cfg, sqlite_url, progress=False)
    assert second.sources["play"].recovered == 1 and second.errors == []
    assert any(c["token"] is not None for c in calls)  # the owed page, asked with its token
    with session_scope(sqlite_url) as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 300
        assert session.scalars(select(OwedPage)).all() == []


def test_credentials_are_masked_in_every_formatted_log_line() -> None:
    """RedactKeys with the secrets a crawler holds: a secret in the message, an argument or a traceback."""
    import logging

    from web.logs import RedactKeys

    redaction = RedactKeys([SECRET])
    try:
        raise RuntimeError(f"refused {SECRET}")
    except RuntimeError:
        record = logging.LogRecord("x", logging.WARNING, __file__, 1, "GET %s answered %d", (
            f"https://api.test/x?key={SECRET}", 403), __import__("sys").exc_info())
    assert redaction.filter(record)
    line = logging.Formatter().format(record)
    assert SECRET not in line and "answered 403" in line and "refused ***" in line


def test_accounts_that_declare_themselves_bots_are_bots_by_declaration(
        httpserver: HTTPServer, tmp_path: Path) -> None:
    """fosstodon's federated timeline (2 captured pages, Link paging): 4 of the 20 posts come from accounts with
    ``bot: true``; the bot filter calls exactly those bots, with the declaration as evidence, in any order."""
    from config.schema import ModelsConfig, ThresholdsConfig
    from models.bots import DECLARED, load_bot_filter

    pages = {None: ("page1", "114868870329206845"), "114868870329206845": ("page2", None)}

    def public(request: Request) -> Response:
        page, next_id = pages[request.args.get("max_id")]
        body = services.capture(services.MASTODON / f"fosstodon_timelines_public_limit10_{page}.json")
        if next_id is None:
            return Response(body, content_type="application/json")
        url = httpserver.url_for("/api/v1/timelines/public")
        link = f'<{url}?limit=10&local=FALSE&max_id={next_id}&only_media=FALSE&remote=FALSE>; rel="next"'
        return Response(body, content_type="application/json", headers={"Link": link})

    services.serve(httpserver, "/api/v1/timelines/public", public)
    code, output, lines = crawl(tmp_path, "https://fosstodon.org/public", "mastodon", httpserver.url_for("/"))
    statuses = [s for page in ("page1", "page2") for s in json.loads(services.capture(
        services.MASTODON / f"fosstodon_timelines_public_limit10_{page}.json"))]
    with_text = [s for s in statuses if s["content"].strip()]  # a picture alone is no voice to read
    assert code == 0 and len(lines) == len(with_text) >= 18, output
    declared = {s["uri"] for s in with_text if s["account"]["bot"]}
    assert len(declared) >= 3
    bots = load_bot_filter(ModelsConfig(), ThresholdsConfig())
    for order in (lines, lines[::-1]):
        verdicts = dict(zip([r["id"] for r in order], bots.judge(order), strict=True))
        assert {i for i, v in verdicts.items() if DECLARED in v.evidence} == declared
        assert all(verdicts[i].bot for i in declared)


def test_a_youtube_error_reason_that_is_not_text_is_no_reason() -> None:
    """The reasons are sorted into the error message: a null beside a real reason once made that a TypeError."""
    body = json.dumps({"error": {"errors": [{"reason": None}, {"reason": "keyInvalid"}, "odd"]}}).encode()
    assert error_reasons(body) == {"keyInvalid"}


def test_a_youtube_thread_page_whose_top_comment_waits_for_replies_stays_unfinished_in_the_checkpoint(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Page 1 of the threads holds a thread with more replies than it includes: its top comment waits for the
    comments.list call, so the checkpoint leaves the page undone and a resumed crawl reads it again."""
    monkeypatch.setenv("YOUTUBE_API_KEY", SECRET)
    page = services.YOUTUBE / "pyyoutube_comment_threads_comment_threads_by_video_paged_1.json"
    spider_cls = spider_class("youtube")
    spider = spider_cls.from_crawler(get_crawler(spider_cls), source="test", url=VIDEO_PAGE)
    spider.crawler.spider = spider
    url = spider.first_url()
    spider.state = {"requested": {url: "parse"}}
    output = list(spider.parse(TextResponse(url=url, body=services.capture(page), request=ScrapyRequest(url))))
    assert any(services.MORE_REPLIES in getattr(o, "url", "") for o in output)
    assert list(spider.unfinished_pages()) == [url] and url in spider.state["done"]
    save_state(str(tmp_path), spider.state, spider.unfinished_pages())
    assert url not in pickle.loads((tmp_path / "spider.state").read_bytes())["done"]
