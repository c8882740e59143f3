"""Validate an item before any work is spent on it: a link, a source and some text, and not too old.

A dropped item is a counted, logged reason naming its URL (the run report lists them); it never stops the crawl.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawlers.items import ReviewItem
from nps.record import parse_time, web_url


class InvalidItem(DropItem):
    """An item that cannot become a document (a missing field, no text)."""


class TooOld(DropItem):
    """An item older than the source's age budget: not an error, just outside the window."""


class ValidatePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        return cls(crawler)

    def process_item(self, item: ReviewItem) -> ReviewItem:
        url = item.get("url")
        if not url or not item.get("source"):
            raise InvalidItem(f"item without url or source from {url or 'an unknown page'}")
        if web_url(url) is None:
            raise InvalidItem(f"not an http(s) URL: {str(url)[:80]!r} (the store keeps only links a browser may "
                              "follow safely)")
        raw = item.get("raw_text")
        if not isinstance(raw, str) or not raw.strip():
            raise InvalidItem(f"missing review text at {url} (id {item.get('external_id')})")
        max_age_days = getattr(self.crawler.spider, "max_age_days", None)
        published = parse_time(item.get("published_at"))
        if max_age_days and published and published < datetime.now(UTC) - timedelta(days=max_age_days):
            raise TooOld(f"published {published.date()}, older than {max_age_days} days ({url})")
        return item
