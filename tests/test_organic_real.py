"""Organic on real streams, through the public contracts: Keytrade's Trustpilot reviews crawled over HTTP and
estimated (invited reviews out, reported apart), the Google Play bank apps with every reviewer anonymous (no
review lost as a "repeat author"), and bot verdicts that do not depend on input order."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from config.schema import OnpsConfig
from crawlers.run import crawl_url
from flows.cli import app
from nps.classes import CLASSES, nps_from_shares, star_class
from nps.record import parse_iso
from tests.real_streams import bank_records, keytrade_records, keytrade_reviews, serve_trustpilot, write_jsonl
from tests.test_crawl import fast_crawl

pytestmark = pytest.mark.slow


def estimate(path: Path, *args: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(app, ["estimate", str(path), *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def score(path: Path, out: Path) -> dict[str, dict[str, Any]]:
    result = CliRunner().invoke(app, ["score", str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return {line["id"]: line for line in map(json.loads, out.read_text().splitlines())}


def star_nps(records: list[dict[str, Any]]) -> float:
    counts = Counter(star_class(r["rating"], 5) for r in records)
    return nps_from_shares([counts[c] for c in CLASSES])


def test_keytrade_crawled_over_http_keeps_invited_reviews_out_of_the_organic_nps(
        httpserver: HTTPServer, tmp_path: Path) -> None:
    url = serve_trustpilot(httpserver, "/review/keytrade.be", keytrade_reviews())
    cfg = OnpsConfig.model_validate({"crawl": fast_crawl(tmp_path)})
    out = tmp_path / "keytrade.jsonl"
    report = crawl_url(url, "trustpilot", entity="Keytrade", max_pages=50, out_path=out, cfg=cfg)
    assert not report.errors
    crawled = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(crawled) == 1030  # the 19 repeated entries of the capture are stored once
    assert Counter(r["invited"] for r in crawled) == {False: 659, True: 371}
    # the company's replies ride on the reviews they answer, text and time, as the capture has them
    replies = {r["id"]: r["reply"] for r in keytrade_reviews() if (r.get("reply") or {}).get("message")}
    answered = {r["id"]: r["company_reply"] for r in crawled if r["company_reply"]}
    assert len(replies) > 300 and set(answered) == set(replies)
    assert all(parse_iso(answered[i]["time"]) == parse_iso(replies[i]["publishedDate"]) for i in replies)
    # the crawl's output is the estimate's input as it stands
    [line] = estimate(out, "--by", "entity")
    # every invited review is out: as invited, or before that as a bot or a campaign member
    assert line["excluded"]["invited"] + line["excluded"].get("bot", 0) + line["excluded"].get("campaign", 0) >= 371
    assert line["excluded"]["invited"] >= 0.9 * 371 and line["invited"]["n"] <= line["excluded"]["invited"]
    organic = [r for r in keytrade_records() if r["invited"] is False]
    invited = [r for r in keytrade_records() if r["invited"]]
    assert star_nps(organic) < -65 and star_nps(invited) > 35  # on their own initiative people complain
    assert line["low"] <= star_nps(organic) <= line["high"]
    assert line["invited"]["low"] <= star_nps(invited) <= line["invited"]["high"]
    assert line["n"] + sum(line["excluded"].values()) == 1030


def test_anonymous_google_play_reviewers_are_each_their_own_voice(tmp_path: Path) -> None:
    records = bank_records()
    lines = {e["group"]["entity"]: e for e in estimate(write_jsonl(tmp_path / "banks.jsonl", records),
                                                       "--by", "entity")}
    assert set(lines) == {"BOA", "CBE", "Dashen"}
    for bank, line in lines.items():
        own = [r for r in records if r["entity"] == bank]
        assert "repeat_author" not in line["excluded"]
        assert line["excluded"].get("syndicated", 0) <= 0.01 * len(own)  # "good app" twice is two people
        assert line["low"] <= star_nps(own) <= line["high"], (bank, line["nps"], star_nps(own))
        assert line["high"] - line["low"] < 40  # thousands of voices, not one


def test_keytrade_bot_verdicts_do_not_depend_on_input_order(tmp_path: Path) -> None:
    records = keytrade_records()
    shuffled = records[:]
    random.Random(5).shuffle(shuffled)
    runs = [score(write_jsonl(tmp_path / f"in{i}.jsonl", order), tmp_path / f"out{i}.jsonl")
            for i, order in enumerate((records, records[::-1], shuffled))]
    for run in runs[1:]:
        assert {k: (v["p_bot"], v["bot"], v["bot_evidence"]) for k, v in run.items()} == \
            {k: (v["p_bot"], v["bot"], v["bot_evidence"]) for k, v in runs[0].items()}


def _stored_verdicts(db_url: str) -> dict[str, tuple[float, bool]]:
    from sqlalchemy import select

    from store.engine import session_scope
    from store.schema import BotVerdict, Document

    with session_scope(db_url) as session:
        return {ext: (round(p, 4), bool(d)) for ext, p, d in session.execute(
            select(Document.external_id, BotVerdict.p_bot, BotVerdict.decision)
            .join(BotVerdict, BotVerdict.document_id == Document.id))}


def test_a_stored_review_and_its_json_line_get_the_same_verdict_even_when_older_reviews_arrive_later(
        httpserver: HTTPServer, tmp_path: Path, sqlite_url: str) -> None:
    """The nightly judges stored documents, `onps score` reads JSON lines: one rule, one verdict. The older half
    of the stream arrives a night after the newer half (another source of the same entity), and the verdicts of
    the newer reviews are judged again against it, so the store ends where one pass over everything ends."""
    from crawlers.run import crawl_sources
    from flows import stages

    reviews = keytrade_reviews()[:400]
    newer = serve_trustpilot(httpserver, "/review/newer", reviews[:200])
    older = serve_trustpilot(httpserver, "/review/older", reviews[200:])
    cfg = OnpsConfig.model_validate({
        "crawl": fast_crawl(tmp_path, max_age_days=36500), "entities": [{"name": "Keytrade"}],
        "sources": [{"name": "tp", "kind": "trustpilot", "url": newer, "entity": "Keytrade"},
                    {"name": "tp-late", "kind": "trustpilot", "url": older, "entity": "Keytrade",
                     "enabled": False}]})
    for night, config in enumerate((cfg, cfg.model_copy(update={"sources": [
            s.model_copy(update={"enabled": True}) for s in cfg.sources]}))):
        crawl_sources(config, sqlite_url, progress=False)
        assert stages.score_new_documents(sqlite_url, config, night).status == "done"
        assert stages.judge_bots(sqlite_url, config, night).status == "done"
    stored = _stored_verdicts(sqlite_url)
    assert len(stored) == 400
    lines = []
    for url, name in ((newer, "a.jsonl"), (older, "b.jsonl")):
        crawl_url(url, "trustpilot", entity="Keytrade", max_pages=50, out_path=tmp_path / name, cfg=cfg)
        lines += (tmp_path / name).read_text().splitlines()
    both = tmp_path / "both.jsonl"
    both.write_text("\n".join(lines) + "\n")
    scored = score(both, tmp_path / "scored.jsonl")
    assert {k: (v["p_bot"], v["bot"]) for k, v in scored.items()} == stored


def test_a_latin1_page_declared_utf8_keeps_its_accents_and_an_unreadable_date_is_counted(
        httpserver: HTTPServer, tmp_path: Path) -> None:
    """Keytrade's French reviews sent as latin-1 bytes under a UTF-8 header: decoded again in the charset the
    bytes are in (counted as recoded), never stored with U+FFFD. A review dated 9999 is kept without a date and
    counted, where it used to vanish from every window with the report saying nothing."""
    accented = [r for r in keytrade_reviews() if any(c in r["text"] for c in "éèàç")
                and r["text"].encode("latin-1", "ignore").decode("latin-1") == r["text"]
                and r["title"].encode("latin-1", "ignore").decode("latin-1") == r["title"]][:20]
    assert len(accented) == 20
    reviews = [dict(r) for r in accented]
    reviews[3] = {**reviews[3], "dates": {**reviews[3]["dates"], "publishedDate": "9999-01-01T00:00:00.000Z"}}
    url = serve_trustpilot(httpserver, "/review/keytrade.be", reviews, per_page=50, charset="latin-1")
    cfg = OnpsConfig.model_validate({"crawl": fast_crawl(tmp_path)})
    out = tmp_path / "keytrade.jsonl"
    report = crawl_url(url, "trustpilot", entity="Keytrade", max_pages=5, out_path=out, cfg=cfg)
    [counts] = report.sources.values()
    assert (counts.pages, counts.recoded, counts.bad_dates, counts.dropped) == (1, 1, 1, 0)
    crawled = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert len(crawled) == 20 and not any("\ufffd" in r["text"] for r in crawled.values())
    texts = {r["text"] for r in crawled.values()}
    assert [t for t in texts if not any(c in t for c in "éèàç")] == []
    undated = crawled[reviews[3]["id"]]
    assert undated["published_at"] is None and undated["extra"]["date_unreadable"].startswith("9999")
