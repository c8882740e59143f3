"""Persist items into ``documents`` and ``authors`` by idempotent upsert, in batches.

Only active when the crawl has a database (setting ``ONPS_DB_URL``); ``crawl_url`` exports JSON lines instead.
A document already stored under (source, external id) is left as it is and counted as a duplicate, so a nightly
re-crawl never writes anything twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from sqlalchemy import select
from sqlalchemy.orm import Session
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure

from crawlers.checkpoint import batch_stored
from crawlers.items import ReviewItem
from crawlers.spiders.base import SourceSpider
from nps.record import EMPLOYEE_FIELDS, parse_iso
from store.engine import session_scope
from store.registry import registered
from store.schema import Author, Document
from store.upsert import upsert

BATCH = 500  # items per transaction: one round trip per table; a kill loses at most this (asked again on resume)
FLUSH_SECONDS = 5.0  # a slow source's items are stored (and its crawl checkpointed) at least this often


def _when(value: str | None) -> datetime | None:
    return parse_iso(value)


def store_items(
    session: Session, source_id: int, entity_ids: dict[str, int], items: Sequence[ReviewItem]
) -> tuple[int, int]:
    """Write ITEMS of one source; returns (new documents, documents already stored)."""
    keys = [item["external_id"] for item in items]
    stored = set(
        session.scalars(
            select(Document.external_id).where(Document.source_id == source_id, Document.external_id.in_(keys))
        )
    )
    authors = {
        str(item["author_id"]): {
            "source_id": source_id,
            "external_id": str(item["author_id"])[:300],
            "display_name": (item.get("author_name") or None) and item["author_name"][:300],
            "facts": item.get("author_facts") or {},
        }
        for item in items
        if item.get("author_id")
    }
    upsert(session, Author.__table__, list(authors.values()), ("source_id", "external_id"),
           update=("display_name", "facts"))
    author_ids = {
        external_id: id_
        for external_id, id_ in session.execute(
            select(Author.external_id, Author.id).where(
                Author.source_id == source_id, Author.external_id.in_([a["external_id"] for a in authors.values()])
            )
        )
    } if authors else {}
    rows: list[dict[str, Any]] = []
    for item in items:
        if item["external_id"] in stored:
            continue
        rows.append({
            "source_id": source_id,
            "external_id": item["external_id"],
            "url": item["url"][:2000],
            "entity_id": entity_ids.get(item.get("entity") or ""),
            "author_id": author_ids.get(str(item["author_id"])[:300]) if item.get("author_id") else None,
            "title": item.get("title"),
            "text": item["text"],
            "raw_text": item.get("raw_text"),
            "rating": item.get("rating"),
            "rating_scale": item.get("rating_scale"),
            "rating_0_10": item.get("rating_0_10"),
            "language": (item.get("language") or None) and str(item["language"])[:10],
            "region": item.get("region"),
            "touchpoint": item.get("touchpoint"),
            "published_at": _when(item.get("published_at")),
            "crawled_at": _when(item["crawled_at"]),
            "content_hash": item["content_hash"],
            "invited": item.get("invited"),
            "run_id": item.get("run_id"),
            "extra": {**(item.get("extra") or {}), **employee_facts(item)},
            "company_reply": item.get("company_reply"),
            "company_replied_at": _when((item.get("company_reply") or {}).get("time")),
            "app_version": (item.get("app_version") or None) and str(item["app_version"])[:100],
        })
    upsert(session, Document.__table__, rows, ("source_id", "external_id"))
    return len(rows), len(items) - len(rows)


def employee_facts(item: Any) -> dict[str, Any]:
    """What an employer review says beyond a customer review (who speaks, the sub-ratings, the recommend
    answer): stored in ``documents.extra``, read back into the record by store.streams.as_record."""
    return {key: item[key] for key in EMPLOYEE_FIELDS if item.get(key) is not None}


class PersistPipeline:
    """Buffers items and writes them a batch at a time: when BATCH items wait, every FLUSH_SECONDS, and when the
    spider closes. After each committed batch it sends ``crawlers.checkpoint.batch_stored``, on which the crawl's
    JOBDIR state is checkpointed, so a killed crawl loses only the uncommitted batch."""

    def __init__(self, crawler: Crawler, db_url: str) -> None:
        self.crawler = crawler
        self.db_url = db_url
        self.buffer: list[ReviewItem] = []
        self.timer = LoopingCall(self.flush)
        self.source_id, self.entity_ids = 0, dict[str, int]()  # read from the store in open_spider

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PersistPipeline:
        db_url = crawler.settings.get("ONPS_DB_URL")
        if not db_url:
            raise NotConfigured("no ONPS_DB_URL: items go to the JSON-lines feed only")
        return cls(crawler, db_url)

    def open_spider(self) -> None:
        """The ids the rows refer to, by the spider's source name (``crawl_sources`` registered it)."""
        spider = self.crawler.spider
        assert isinstance(spider, SourceSpider)
        with session_scope(self.db_url) as session:
            ids = registered(session)
        if spider.source not in ids.sources:
            raise ValueError(f"source {spider.source!r} is not in the store: crawl_sources registers it")
        self.source_id, self.entity_ids = ids.sources[spider.source], ids.entities
        self.timer.start(FLUSH_SECONDS, now=False).addErrback(self.timer_failed)

    def timer_failed(self, failure: Failure) -> None:
        """A timed flush that raised (the database went away): reported, and batches are still written by size and
        at close, where a failure fails the items themselves."""
        spider = self.crawler.spider
        assert isinstance(spider, SourceSpider)
        spider.page_error(spider.start_url, f"storing a batch failed: {type(failure.value).__name__}: {failure.value}")

    def process_item(self, item: ReviewItem) -> ReviewItem:
        self.buffer.append(item)
        if len(self.buffer) >= BATCH:
            self.flush()
        return item

    def close_spider(self) -> None:
        if self.timer.running:
            self.timer.stop()
        self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        items, self.buffer = self.buffer, []
        with session_scope(self.db_url) as session:
            new, stored = store_items(session, self.source_id, self.entity_ids, items)
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("onps/new", new)
        self.crawler.stats.inc_value("onps/duplicates", stored)
        self.crawler.signals.send_catch_log(signal=batch_stored)
