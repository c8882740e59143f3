"""Item pipelines and their pure helpers: cleaning, times, ratings, keys, and the idempotent store writes."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from scrapy.utils.test import get_crawler
from sqlalchemy import func, select

from config.schema import CrawlConfig, OnpsConfig
from crawlers.items import FIELDS, ReviewItem, document_key
from crawlers.middlewares import backoff_seconds
from crawlers.settings import scrapy_settings
from crawlers.spiders import spider_class
from crawlers.text import clean_text
from nps.record import content_hash
from nps.record import parse_time as to_utc
from pipelines.dedupe import DedupePipeline, DuplicateItem
from pipelines.normalise import NormalisePipeline
from pipelines.persist import store_items
from pipelines.validate import InvalidItem, TooOld, ValidatePipeline
from store.engine import session_scope
from store.registry import sync_config
from store.schema import Author, Document, Entity, Source


def test_clean_text_repairs_mojibake_strips_markup_and_keeps_paragraphs():
    assert clean_text("Le service Ã©tait trÃ¨s lent") == "Le service était très lent"
    assert clean_text("<p>One &amp; two</p>\n<p>Three<br/>four</p><script>x()</script>") == "One & two\n\nThree\nfour"
    assert clean_text("  plain   text\twith  spaces ") == "plain text with spaces"
    assert clean_text("<p> </p>") == ""


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-11-10T08:30:00+01:00", "2026-11-10T07:30:00+00:00"),
    ("2025-02-25T12:32:24.000Z", "2025-02-25T12:32:24+00:00"),
    ("2006-05-04", "2006-05-04T00:00:00+00:00"),
    ("Tue, 22 Nov 2026 09:30:00 +0200", "2026-11-22T07:30:00+00:00"),
    ("Thu Nov 12, 2026 6:04 pm", "2026-11-12T18:04:00+00:00"),
    (1366059088.0, "2013-04-15T20:51:28+00:00"),
    (time.struct_time((2026, 11, 22, 7, 30, 0, 6, 326, 0)), "2026-11-22T07:30:00+00:00"),
])
def test_to_utc_reads_the_time_formats_sites_use(value, expected):
    assert to_utc(value).isoformat() == expected


def test_to_utc_gives_none_rather_than_a_guess():
    assert to_utc("yesterday-ish, maybe") is None and to_utc(None) is None and to_utc("") is None


def test_document_key_falls_back_to_url_and_text_hash():
    assert document_key("tp1", "http://x/", "text") == "tp1"
    key = document_key(None, "http://x/a", "some text")
    assert key.startswith("http://x/a#") and key == document_key("", "http://x/a", "some text")
    assert key != document_key(None, "http://x/a", "other text")
    assert len(document_key(None, "http://x/" + "p" * 3000, "t")) <= 500
    assert content_hash("Same  TEXT\n") == content_hash("same text")


def run_pipelines(items: list[ReviewItem], max_age_days: int | None = 730) -> tuple[list, list[Exception]]:
    spider_cls = spider_class("schemaorg")
    crawler = get_crawler(spider_cls)
    crawler.spider = spider_cls.from_crawler(crawler, source="s", url="http://x/", max_age_days=max_age_days)
    stages = [ValidatePipeline(crawler), NormalisePipeline(crawler), DedupePipeline(crawler)]
    kept, dropped = [], []
    for item in items:
        try:
            for stage in stages:
                item = stage.process_item(item)
            kept.append(item)
        except Exception as exc:  # DropItem subclasses: the reason is what is asserted
            dropped.append(exc)
    return kept, dropped


def test_pipelines_validate_normalise_dedupe():
    now = datetime.now(UTC).isoformat()
    base = {"source": "s", "url": "http://x/r", "crawled_at": now, "published_at": "2026-11-01T10:00:00+01:00"}
    items = [
        ReviewItem(**base, external_id="a", raw_text="<p>Great</p>", title="T&amp;C", rating="4,5", rating_scale=None),
        ReviewItem(**base, external_id="a", raw_text="Great again"),  # same key: duplicate
        ReviewItem(**base, external_id="b", raw_text="   "),  # no text: invalid
        ReviewItem(**{**base, "published_at": "2001-01-01"}, external_id="c", raw_text="old"),
        ReviewItem(**base, external_id=None, raw_text="no id", rating="n/a"),
    ]
    kept, dropped = run_pipelines(items)
    assert [type(e) for e in dropped] == [DuplicateItem, InvalidItem, TooOld]
    first, no_id = kept
    assert (first["text"], first["title"], first["rating"], first["rating_scale"], first["rating_0_10"]) == (
        "Great", "T&C", 4.5, 5.0, 8.75)
    assert first["published_at"] == "2026-11-01T09:00:00+00:00" and first["content_hash"] == content_hash("Great")
    assert no_id["external_id"] == document_key(None, "http://x/r", "no id") and no_id["rating"] is None
    assert set(first) <= set(FIELDS)


def item(key: str, author: str | None, text: str, **extra) -> ReviewItem:
    kept, _ = run_pipelines([ReviewItem(source="src", url=f"http://x/{key}", external_id=key, author_id=author,
                                        author_name=author and author.title(), raw_text=text,
                                        author_facts={"review_count": 3} if author else None,
                                        crawled_at="2026-11-24T00:00:00+00:00", entity="Acme", **extra)])
    return kept[0]


def cfg() -> OnpsConfig:
    return OnpsConfig.model_validate({
        "entities": [{"name": "Acme", "aliases": {"*": ["ACME"]}, "competitors": ["Rival"]},
                     {"name": "Acme App", "kind": "product", "parent": "Acme"}, {"name": "Rival"}],
        "sources": [{"name": "src", "kind": "trustpilot", "url": "http://x/", "entity": "Acme", "region": "BE"}],
    })


def test_sync_config_is_idempotent_and_links_parents(db_url):
    with session_scope(db_url) as session:
        first = sync_config(session, cfg())
    with session_scope(db_url) as session:
        again = sync_config(session, cfg())
        assert again == first and set(first.entities) == {"Acme", "Acme App", "Rival"}
        app = session.get(Entity, first.entities["Acme App"])
        assert app.parent_id == first.entities["Acme"] and app.kind == "product"
        source = session.get(Source, first.sources["src"])
        assert (source.kind, source.category, source.entity_id, source.region) == (
            "trustpilot", "aggregator", first.entities["Acme"], "BE")
        assert session.scalar(select(func.count(Entity.id))) == 3


def test_store_items_writes_once_and_counts_what_was_already_there(db_url):
    with session_scope(db_url) as session:
        registry = sync_config(session, cfg())
    source_id = registry.sources["src"]
    batch = [item("r1", "u1", "Fine bank"), item("r2", "u1", "Slow app"), item("r3", None, "Anonymous")]
    with session_scope(db_url) as session:
        assert store_items(session, source_id, registry.entities, batch) == (3, 0)
    with session_scope(db_url) as session:
        assert store_items(session, source_id, registry.entities, [*batch, item("r4", "u2", "New")]) == (1, 3)
    with session_scope(db_url) as session:
        assert session.scalar(select(func.count(Document.id))) == 4
        assert session.scalar(select(func.count(Author.id))) == 2
        doc = session.scalars(select(Document).where(Document.external_id == "r2")).one()
        author = session.get(Author, doc.author_id)
        assert (author.external_id, author.display_name, author.facts) == ("u1", "U1", {"review_count": 3})
        assert doc.entity_id == registry.entities["Acme"] and doc.text == "Slow app"


def test_settings_carry_the_politeness_of_the_config():
    settings = scrapy_settings(CrawlConfig(), db_url="sqlite:///x.db")
    assert settings["ROBOTSTXT_OBEY"] is True and settings["AUTOTHROTTLE_ENABLED"] is True
    assert settings["USER_AGENT"].startswith("organic-nps/") and settings["CONCURRENT_REQUESTS_PER_DOMAIN"] == 2
    assert 429 in settings["RETRY_HTTP_CODES"] and settings["DOWNLOAD_MAXSIZE"] == 10 * 1024 * 1024
    assert settings["ONPS_DB_URL"] == "sqlite:///x.db"
    assert "pipelines.persist.PersistPipeline" in settings["ITEM_PIPELINES"]
    assert not settings["TELNETCONSOLE_ENABLED"] and not settings["REMOTE_CONTROL_ENABLED"]


def test_backoff_honours_retry_after_then_doubles():
    assert backoff_seconds("7", 0, 1.0) == 7.0
    assert [backoff_seconds(None, n, 0.5) for n in range(4)] == [0.5, 1.0, 2.0, 4.0]
    assert backoff_seconds("3600", 0, 1.0) == 60.0 and backoff_seconds(None, 20, 1.0) == 60.0


def test_only_http_links_are_kept() -> None:
    from nps.record import web_url

    assert web_url("https://www.trustpilot.com/review/x") == "https://www.trustpilot.com/review/x"
    for bad in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "//evil.example/x", "/relative",
                "http://", "https://a.example/\nx", None, 42):
        assert web_url(bad) is None, bad


def test_an_endless_text_is_cut_and_the_cut_is_stated() -> None:
    from nps.record import MAX_TEXT_CHARS

    kept = item("long", "ann", "Slow app. " * 110_000)
    assert len(kept["text"]) == MAX_TEXT_CHARS
    assert kept["extra"]["text_cut"] == {"from_chars": 1_099_999, "to_chars": MAX_TEXT_CHARS}
    assert "text_cut" not in item("short", "ann", "Slow app.")["extra"]
