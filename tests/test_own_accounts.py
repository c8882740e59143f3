"""The company's own voice (issue #20): an entity's own accounts at a service (``[[entities]] own_accounts``) are
never customer voice; their replies ride on what they answer as ``company_reply``. Crawled from the real captures
served on 127.0.0.1 as tests/test_api_sources.py serves them: no capture holds a reply by the owner of what it
lists, so a real author of each capture is configured as the entity's own account."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from pytest_httpserver import HTTPServer

from config.schema import OnpsConfig
from crawlers.report import CrawlReport
from crawlers.run import crawl_url, spider_arguments
from crawlers.text import clean_text
from nps.authors import is_own_account
from nps.record import parse_iso
from tests import api_services as services
from tests.test_api_sources import (
    HANDLE,
    HASHTAG,
    PLAY_PAGE,
    SECRET,
    VIDEO_PAGE,
    bluesky_paths,
    crawl,
    play_reviews,
    youtube_paths,
)
from tests.test_crawl import fast_crawl

HANNA = "https://mastodon.social/tags/ichbinhanna"


def crawl_own(tmp_path: Path, url: str, kind: str, base: str, own: list[str],
              **options: Any) -> tuple[CrawlReport, list[dict[str, Any]]]:
    """`crawl_url` for entity Acme whose own accounts at KIND are OWN: (the report, the lines written)."""
    cfg = OnpsConfig.model_validate({"crawl": fast_crawl(tmp_path),
                                     "entities": [{"name": "Acme", "own_accounts": {kind: own}}]})
    out = tmp_path / f"{kind}.jsonl"
    report = crawl_url(url, kind, entity="Acme", out_path=out, cfg=cfg, api_base=base, **options)
    return report, [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_own_account_rule_matches_a_handle_or_id_case_insensitively() -> None:
    assert is_own_account(["nfdi4culture@nfdi.social"], ["@NFDI4Culture@nfdi.social"])
    did, handle = "did:plc:i5vtkept3kmcox6lvvdn2oas", "jenrichmondphd.bsky.social"
    assert is_own_account([did, handle], [handle]) and is_own_account([did, handle], [did.upper()])
    assert not is_own_account(["other@nfdi.social"], ["nfdi4culture@nfdi.social"])
    assert not is_own_account([None, ""], [""]) and not is_own_account(["x"], [])


def test_own_accounts_are_configured_per_kind_with_accounts() -> None:
    cfg = OnpsConfig.model_validate({
        "entities": [{"name": "Acme", "own_accounts": {"mastodon": ["acme@mastodon.social"]}},
                     {"name": "Rival", "own_accounts": {"mastodon": ["rival@mastodon.social"],
                                                        "youtube": ["UCrival"]}}],
        "sources": [{"name": "acme", "kind": "mastodon", "url": HANNA, "entity": "Acme"},
                    {"name": "tag", "kind": "mastodon", "url": HANNA}]})
    assert spider_arguments(cfg, cfg.sources[0])["own_accounts"] == ["acme@mastodon.social"]
    # a source about no one entity: no configured company's post is customer voice there
    assert spider_arguments(cfg, cfg.sources[1])["own_accounts"] == ["acme@mastodon.social", "rival@mastodon.social"]
    with pytest.raises(ValidationError, match="trustpilot has no accounts of its own.*mastodon = \\[user@instance\\]"):
        OnpsConfig.model_validate({"entities": [{"name": "Acme", "own_accounts": {"trustpilot": ["Acme"]}}]})


def test_a_mastodon_reply_from_an_own_account_rides_on_the_status_it_answers(
        httpserver: HTTPServer, tmp_path: Path) -> None:
    """#ichbinhanna: nfdi4culture@nfdi.social's one status answers dpl@muenchen.social's, listed after it on the
    same page (newest first). Configured in onps.toml as the entity's own account, through `onps crawl`."""
    services.serve(httpserver, "/api/v1/timelines/tag/ichbinhanna", services.mastodon_tag(httpserver, []))
    statuses = {s["id"]: s for s in services.hanna_statuses()}
    reply, answered = statuses["114263620448690770"], statuses["114252113192392999"]
    assert reply["in_reply_to_id"] == answered["id"] and reply["account"]["acct"] == "nfdi4culture@nfdi.social"
    code, output, lines = crawl(
        tmp_path, HANNA, "mastodon", httpserver.url_for("/"), "--entity", "Acme",
        config='[[entities]]\nname = "Acme"\nown_accounts = {mastodon = ["@NFDI4Culture@nfdi.social"]}\n')
    assert code == 0, output
    assert len(lines) == 119 and reply["uri"] not in {line["id"] for line in lines}
    assert all(line["author"] != "nfdi4culture@nfdi.social" for line in lines)
    [replied] = [line for line in lines if line["company_reply"]]
    assert replied["id"] == answered["uri"] and replied["author"] == "dpl@muenchen.social"
    assert replied["company_reply"] == {"text": clean_text(reply["content"]),
                                        "time": replied["company_reply"]["time"]}
    assert parse_iso(replied["company_reply"]["time"]) == parse_iso(reply["created_at"])


def test_a_bluesky_reply_from_an_own_handle_rides_on_the_post_it_answers(
        httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """#rstats: jenrichmondphd.bsky.social's one post answers drbixby.bsky.social's (reply.parent), which the same
    page lists after it; configured by handle, matched on the author's DID's handle."""
    bluesky_paths(httpserver, services.BlueskyService(HANDLE, SECRET))
    monkeypatch.setenv("BLUESKY_HANDLE", HANDLE)
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", SECRET)
    posts = {p["uri"]: p for p in json.loads(services.capture(
        services.BLUESKY / "atrrr_searchPosts_hashtag-rstats_limit100.json"))["posts"]}
    [reply] = [p for p in posts.values() if p["author"]["handle"] == "jenrichmondphd.bsky.social"]
    answered = posts[reply["record"]["reply"]["parent"]["uri"]]
    report, lines = crawl_own(tmp_path, HASHTAG, "bluesky", httpserver.url_for("/"), ["jenrichmondphd.bsky.social"])
    assert len(lines) == 100 and reply["uri"] not in {line["id"] for line in lines}
    [replied] = [line for line in lines if line["company_reply"]]
    assert replied["id"] == answered["uri"] and replied["author_facts"]["handle"] == "drbixby.bsky.social"
    assert replied["company_reply"]["text"] == clean_text(reply["record"]["text"])  # as every text is cleaned
    assert parse_iso(replied["company_reply"]["time"]) == parse_iso(reply["record"]["createdAt"])
    [counts] = report.sources.values()
    assert counts.own_posts == 0  # the one own post became a reply


def test_a_youtube_reply_from_an_own_channel_rides_on_the_comment_it_answers(
        httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Video F1UP7wRCPH8: the three replies that comments.list gives for the thread with more replies than it
    includes come from UCNvMBmCASzTNNX8lW3JRMbw. As the entity's channel, its first reply rides on the thread's
    top comment (made once its replies are in) and the later two are counted; as the channel of that top comment,
    the comment is no item and its customers' replies stay."""
    youtube_paths(httpserver, services.youtube(SECRET, []))
    monkeypatch.setenv("YOUTUBE_API_KEY", SECRET)
    report, lines = crawl_own(tmp_path, VIDEO_PAGE, "youtube", httpserver.url_for("/"), ["UCNvMBmCASzTNNX8lW3JRMbw"])
    replies = [c for name in ("paged_1", "paged_2") for c in json.loads(services.capture(
        services.YOUTUBE / f"pyyoutube_comments_comments_by_parent_{name}.json"))["items"]]
    assert {r["snippet"]["authorChannelId"]["value"] for r in replies} == {"UCNvMBmCASzTNNX8lW3JRMbw"}
    assert {line["id"] for line in lines} == services.youtube_comment_ids() - {r["id"] for r in replies}
    first = min(replies, key=lambda r: parse_iso(r["snippet"]["publishedAt"]))
    [replied] = [line for line in lines if line["company_reply"]]
    assert replied["id"] == services.MORE_REPLIES
    assert replied["company_reply"]["text"] == clean_text(first["snippet"]["textOriginal"])
    assert parse_iso(replied["company_reply"]["time"]) == parse_iso(first["snippet"]["publishedAt"])
    [counts] = report.sources.values()
    assert counts.own_posts == 2 and counts.finish_reason == "finished"
    report, lines = crawl_own(tmp_path, VIDEO_PAGE, "youtube", httpserver.url_for("/"), ["ucachw4qvhoe4zqhhxcve3kw"])
    assert {line["id"] for line in lines} == services.youtube_comment_ids() - {services.MORE_REPLIES}
    assert report.sources[next(iter(report.sources))].own_posts == 1


def test_a_youtube_comment_waiting_for_its_replies_is_kept_when_the_quota_stops_them(
        httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The quota runs out on the replies call: the top comment that waited for them is still written."""
    youtube_paths(httpserver, services.youtube(SECRET, [], quota=1))
    monkeypatch.setenv("YOUTUBE_API_KEY", SECRET)
    report, lines = crawl_own(tmp_path, VIDEO_PAGE, "youtube", httpserver.url_for("/"), ["UCNvMBmCASzTNNX8lW3JRMbw"])
    assert len(lines) == 5 and services.MORE_REPLIES in {line["id"] for line in lines}
    assert report.sources[next(iter(report.sources))].finish_reason == "quota_spent"


def test_a_google_play_review_under_an_own_name_is_no_item_and_developer_replies_stay(
        httpserver: HTTPServer, tmp_path: Path) -> None:
    services.serve(httpserver, "/_/PlayStoreUi/data/batchexecute", services.google_play([]))
    report, lines = crawl_own(tmp_path, PLAY_PAGE, "googleplay", httpserver.url_for("/"), ["formann ali"],
                              max_pages=2)
    captured = play_reviews("mradex77_translate-initial.txt", "mradex77_translate-page2.txt")
    [own] = [r for r in captured if r[1][0] == "Formann Ali"]
    assert len(lines) == 299 and own[0] not in {line["id"] for line in lines}
    assert sum(1 for line in lines if line["company_reply"]) == sum(1 for r in captured if r[7] and r is not own)
    [counts] = report.sources.values()
    assert counts.own_posts == 1
