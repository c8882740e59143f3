"""Deduplicate within a run: one item per (source, key); the store's unique key catches the rest.

The key is the site's id, else ``url#hash`` (crawlers.items.document_key), written back as ``external_id`` so the
stored row and the JSON-lines export carry the same key.
"""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawlers.items import ReviewItem, document_key


class DuplicateItem(DropItem):
    """An item already seen in this run (the same review on two pages, a page fetched twice)."""


class DedupePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.seen: set[tuple[str, str]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        return cls(crawler)

    def process_item(self, item: ReviewItem) -> ReviewItem:
        key = document_key(item.get("external_id"), item["url"], item["raw_text"])
        item["external_id"] = key
        if (item["source"], key) in self.seen:
            raise DuplicateItem(f"duplicate of {key} in this run ({item['url']})")
        self.seen.add((item["source"], key))
        return item
