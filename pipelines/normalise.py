"""Normalise an item: clean text, rating on 0-10, times in UTC, content hash.

The parsing helpers are pure functions (the spiders use ``to_utc`` too, for the age budget), the pipeline is the
thin Scrapy wrapper around them. The raw text is kept beside the cleaned one.
"""

from __future__ import annotations

import hashlib
import re
import time
import unicodedata
from datetime import UTC, datetime
from typing import Any

import ftfy
from dateutil import parser as dateparser
from ftfy import badness
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from w3lib.html import remove_tags, remove_tags_with_content, replace_entities

from crawlers.items import ReviewItem

_BLOCK_END = re.compile(r"(?i)<br\s*/?>|</(?:p|div|li|h[1-6]|blockquote|tr|pre)>")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def repair_encoding(text: str) -> str:
    """ftfy's repair where ftfy's own detector sees mojibake; NFC otherwise.

    Most reviews are clean: ASCII skips ftfy entirely and clean non-ASCII text pays only the detector, which
    halves the per-item cost of cleaning (bench/crawl.py) without missing what ftfy would repair.
    """
    if text.isascii():
        return text
    if badness.is_bad(text):
        return ftfy.fix_text(text, unescape_html=False)
    return unicodedata.normalize("NFC", text)


def clean_text(raw: str) -> str:
    """Repair mojibake (ftfy), drop markup keeping paragraph breaks, decode entities, fold spaces."""
    text = repair_encoding(raw)
    if "<" in text and ">" in text:
        text = remove_tags_with_content(text, which_ones=("script", "style"))
        text = remove_tags(_BLOCK_END.sub("\n", text))
    if "&" in text:
        text = replace_entities(text)
    text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n\n", "\n".join(line.strip() for line in text.split("\n"))).strip()


def to_utc(value: Any) -> datetime | None:
    """Read the times sites give (ISO 8601, RFC 2822, epoch seconds, feedparser's UTC struct_time, free text).

    A time without a zone is read as UTC; an unreadable one gives None rather than a guess.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float):
        moment = datetime.fromtimestamp(value, UTC)
    elif isinstance(value, time.struct_time):
        moment = datetime(*value[:6], tzinfo=UTC)
    else:
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            try:  # RFC 2822 and free text; not email.utils, which reads "6:04 pm" as 06:04
                moment = dateparser.parse(text)
            except (ValueError, OverflowError):
                return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def as_number(value: Any) -> float | None:
    """A rating as a float (sites send "4", 4, "4,5"); None when it is not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(str(value).replace(",", ".").strip())
    except ValueError:
        return None


def rating_scale(rating: float | None, declared: float | None) -> float | None:
    """The declared maximum, else the contract's guess: 5 up to 5, 10 up to 10, else 100."""
    if declared:
        return declared
    if rating is None:
        return None
    return 5.0 if rating <= 5 else 10.0 if rating <= 10 else 100.0


def rating_0_10(rating: float | None, scale: float | None) -> float | None:
    """The native rating rescaled to 0-10 (rating / scale * 10), clipped to the range."""
    if rating is None or not scale:
        return None
    return round(min(max(rating / scale * 10.0, 0.0), 10.0), 4)


def content_hash(text: str) -> str:
    """sha256 of the case- and space-folded text: equal for copies that differ only in layout."""
    return hashlib.sha256(" ".join(text.lower().split()).encode("utf-8")).hexdigest()


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


class NormalisePipeline:
    """Fill ``text``, ``title``, ``rating_0_10``, UTC times and ``content_hash``; drop items left empty."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalisePipeline:
        return cls(crawler)

    def process_item(self, item: ReviewItem) -> ReviewItem:
        text = clean_text(item["raw_text"])
        if not text:
            raise DropItem(f"no text left after cleaning the markup ({item['url']})")
        item["text"] = text
        item["title"] = clean_text(item["title"]) or None if item.get("title") else None
        item["author_name"] = clean_text(item["author_name"]) if item.get("author_name") else None
        rating = as_number(item.get("rating"))
        scale = rating_scale(rating, as_number(item.get("rating_scale")))
        item["rating"], item["rating_scale"] = rating, scale
        item["rating_0_10"] = rating_0_10(rating, scale)
        item["published_at"] = iso(to_utc(item.get("published_at")))
        item["crawled_at"] = iso(to_utc(item.get("crawled_at")) or datetime.now(UTC))
        item["content_hash"] = content_hash(text)
        for name in ("author_facts", "extra"):
            item[name] = item.get(name) or {}
        return item
