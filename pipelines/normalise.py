"""Normalise an item: clean text, rating on 0-10, times in UTC, content hash.

The parsing helpers are pure functions (times, ratings and the content hash are nps rules, text cleaning is
``crawlers.text``), the pipeline is the thin Scrapy wrapper around them. The raw text is kept beside the cleaned one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from config.schema import OnpsConfig
from crawlers.items import ReviewItem
from crawlers.text import clean_text
from nlp.disclosure import collection_channel
from nps.authors import AuthorRules
from nps.ratings import native_scale, rating_0_10
from nps.record import MAX_TEXT_CHARS, company_reply, content_hash, iso_time, typed_facts


def as_number(value: Any) -> float | None:
    """A rating as a float (sites send "4", 4, "4,5"); None when it is not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(str(value).replace(",", ".").strip())
    except ValueError:
        return None


class NormalisePipeline:
    """Fill ``text``, ``title``, ``rating_0_10``, UTC times and ``content_hash``; drop items left empty."""

    def __init__(self, crawler: Crawler | None, authors: AuthorRules | None = None) -> None:
        self.crawler = crawler
        self.authors = authors or OnpsConfig().author_rules()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalisePipeline:
        names = crawler.settings.getlist("ONPS_AUTHOR_PLACEHOLDERS")
        return cls(crawler, AuthorRules.from_names(names) if names else None)

    def process_item(self, item: ReviewItem) -> ReviewItem:
        text = clean_text(item["raw_text"])
        if not text:
            raise DropItem(f"no text left after cleaning the markup ({item['url']})")
        if len(text) > MAX_TEXT_CHARS:  # no review is this long; a scraped page dump would stall every stage
            item["extra"] = {**(item.get("extra") or {}), "text_cut": {"from_chars": len(text),
                                                                       "to_chars": MAX_TEXT_CHARS}}
            text = text[:MAX_TEXT_CHARS]
        item["text"] = text
        item["title"] = clean_text(item["title"]) or None if item.get("title") else None
        item["author_name"] = clean_text(item["author_name"]) if item.get("author_name") else None
        rating = as_number(item.get("rating"))
        scale = None if rating is None else native_scale(rating, as_number(item.get("rating_scale")))
        item["rating"], item["rating_scale"] = rating, scale
        item["rating_0_10"] = rating_0_10(rating, scale)
        given = item.get("published_at")
        item["published_at"] = iso_time(given)
        item["extra"] = item.get("extra") or {}
        if given not in (None, "") and item["published_at"] is None:
            # "9999-01-01" or "yesterday-ish": kept without a date (out of every window), counted and shown
            item["extra"]["date_unreadable"] = str(given)[:100]
            if self.crawler is not None and self.crawler.stats is not None:
                self.crawler.stats.inc_value("onps/bad_dates")
        item["crawled_at"] = iso_time(item.get("crawled_at")) or datetime.now(UTC).isoformat()
        item["content_hash"] = content_hash(text)
        reply = item.get("company_reply")
        item["company_reply"] = company_reply(clean_text(reply.get("text") or ""), reply.get("time")) \
            if isinstance(reply, dict) else None
        item["app_version"] = str(item["app_version"]) if item.get("app_version") else None
        item["author_facts"], dropped = typed_facts(item.get("author_facts"))
        if dropped:  # "numberOfReviews": "many" is no count: kept out of every stage, and said so
            item["extra"]["facts_dropped"] = dropped
        channel = collection_channel({"title": item["title"], "text": text, "invited": item.get("invited"),
                                      "channel": item["extra"].get("channel")})
        item["invited"] = channel.invited
        if channel.evidence and channel.invited:
            item["extra"]["channel"] = channel.evidence
        if self.authors.is_placeholder(item.get("author_id")):
            # a shared name ("A Google user") is no author: each review its own voice (nps.authors)
            item["author_name"] = item.get("author_name") or str(item["author_id"])
            item["author_id"] = None
        return item
