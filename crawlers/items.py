"""The one item every spider yields: a review or post, in the fields the store keeps (docs/CONTRACTS.md).

Spiders fill what the page says (``raw_text``, native ``rating``, the page's time string); the pipelines derive
the rest (``text``, ``rating_0_10``, UTC ``published_at``, ``content_hash``), so parsing and cleaning stay apart.
"""

from __future__ import annotations

import hashlib
from typing import Any

import scrapy

KEY_MAX = 500  # documents.external_id is String(500)

FIELDS: tuple[str, ...] = (
    "source",  # configured source name (crawl_url: the site's host)
    "url",  # where the review or post can be read
    "external_id",  # the site's own id; None where it gives none (the key is then url#hash)
    "entity",  # entity name the text is about
    "author_id",  # author id at the source
    "author_name",
    "author_facts",  # review_count, verified, country, ... as the source shows them
    "title",
    "text",  # cleaned text (HTML stripped, encoding repaired)
    "raw_text",  # the text as the page gave it
    "rating",  # native rating value
    "rating_scale",  # native maximum
    "rating_0_10",  # nps.ratings.rating_0_10: 1-5 stars onto 0-10, other scales rating / max * 10
    "language",  # language the page states, if any
    "published_at",  # ISO 8601 UTC
    "crawled_at",  # ISO 8601 UTC
    "run_id",  # runs.id of the crawl, when run against the store
    "region",
    "touchpoint",
    "content_hash",  # nps.record.content_hash of the cleaned text
    "company_reply",  # the company's own public reply to it: {"text", "time"} (ISO 8601 UTC), or None
    "app_version",  # the app version the review was written on (app stores), a segment key like region
    "invited",  # True: invited or rewarded by the company; False: organic as the source says; None: unknown
    "audience",  # "employee" for an employer review (nps.record.audience); None: a customer's
    "sub_ratings",  # employer reviews: {work_life_balance, career_opportunities, comp_and_benefits, ...} as shown
    "recommends",  # employer reviews: would recommend the employer to a friend (True / False), where shown
    "extra",  # facts a spider saw that have no column (mentions, aggregate rating, app version ...)
)


class ReviewItem(scrapy.Item):
    """A review or post; see FIELDS for the meaning of each field."""

    fields = {name: scrapy.Field() for name in FIELDS}


def as_record(item: dict[str, Any]) -> dict[str, Any]:
    """An exported item (a line of `onps crawl -o`) with the document record's names beside the item's own
    (docs/CONTRACTS.md): ``id`` (the external id), ``lang``, ``author`` (the author id) and ``channel``, so the
    file is valid input for `onps score` and `onps estimate` as it stands."""
    extra = item.get("extra") or {}
    return {"id": item.get("external_id"), "lang": item.get("language"), "author": item.get("author_id"),
            **({"channel": extra["channel"]} if extra.get("channel") else {}), **item}


def document_key(external_id: str | None, url: str, raw_text: str) -> str:
    """The per-source unique key: the site's id, else ``url#hash`` of the raw text.

    The raw text (not the cleaned one) is hashed so that a spider can compute the key cheaply while paging
    (incremental stop) and get the same answer as the dedupe pipeline.
    """
    if external_id:
        return str(external_id)[:KEY_MAX]
    digest = hashlib.sha1(raw_text.encode("utf-8", "replace")).hexdigest()[:16]
    where = url if len(url) < KEY_MAX - 20 else hashlib.sha1(url.encode()).hexdigest()
    return f"{where}#{digest}"
