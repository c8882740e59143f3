"""Trustpilot-style review pages: the reviews travel as page JSON in ``<script id="__NEXT_DATA__">`` at
``props.pageProps.reviews[]``, paginated by ``?page=N`` up to ``filters.pagination.totalPages``.

The reviewer's profile facts (review count, country, verified) are kept for the bot filter. How the review was
collected is kept as ``invited``: Trustpilot labels each review with ``labels.verification.reviewSourceName``,
``Organic`` for one written on the reviewer's own initiative, anything else (``BusinessGeneratedLink``,
``BasicLink``, ...) for a link the company sent or shared; ``verificationSource`` says "invitation" on both and
does not tell them apart. The company's public reply is kept with its time as the item's ``company_reply``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

from scrapy.http import Response
from w3lib.url import add_or_replace_parameter

from crawlers.spiders.base import SourceSpider
from nps.record import company_reply

ORGANIC_SOURCE = "Organic"


def invited_by_company(verification: dict[str, Any]) -> bool | None:
    """True for a review the company invited (any collection channel but Trustpilot's ``Organic``), False for
    an organic one, None when the page does not say."""
    channel = verification.get("reviewSourceName")
    if isinstance(channel, str) and channel:
        return channel != ORGANIC_SOURCE
    if verification.get("verificationLevel") == "invited":
        return True
    return None


def reply_of(review: dict[str, Any]) -> dict[str, Any] | None:
    """The company's reply (``reply.message``, ``reply.publishedDate``) as a record's ``company_reply``."""
    reply = review.get("reply")
    return company_reply(reply.get("message"), reply.get("publishedDate")) if isinstance(reply, dict) else None


def review_fields(review: dict[str, Any], page_url: str) -> dict[str, Any]:
    """Item fields of one review object as Trustpilot's page JSON has it (pure)."""
    consumer = review.get("consumer") or {}
    verification = (review.get("labels") or {}).get("verification") or {}
    facts = {
        "review_count": consumer.get("numberOfReviews"),
        "country": consumer.get("countryCode"),
        "verified": consumer.get("isVerified"),
        "review_verified": verification.get("isVerified"),
        "review_source": verification.get("reviewSourceName"),
    }
    review_id = review.get("id")
    return {
        "url": urljoin(page_url, f"/reviews/{review_id}") if review_id else page_url,
        "external_id": str(review_id) if review_id else None,
        "author_id": consumer.get("id"),
        "author_name": consumer.get("displayName"),
        "author_facts": {k: v for k, v in facts.items() if v is not None},
        "title": review.get("title"),
        "raw_text": review.get("text"),
        "rating": review.get("rating"),
        "rating_scale": 5,
        "language": review.get("language"),
        "published_at": (review.get("dates") or {}).get("publishedDate"),
        "invited": invited_by_company(verification),
        "company_reply": reply_of(review),
        "extra": {
            **({"channel": f"trustpilot: {verification['reviewSourceName']}"}
               if verification.get("reviewSourceName") else {}),
        },
    }


class TrustpilotSpider(SourceSpider):
    name = "trustpilot"
    kind = "trustpilot"

    def page_props(self, response: Response) -> dict[str, Any] | None:
        script = response.css('script#__NEXT_DATA__::text').get()
        if script is None:
            self.page_error(response.url, "no __NEXT_DATA__ script: not a Trustpilot-style review page")
            return None
        try:
            props = json.loads(script)["props"]["pageProps"]
        except (ValueError, KeyError, TypeError) as exc:
            self.page_error(response.url, f"malformed __NEXT_DATA__ JSON: {type(exc).__name__}: {exc}")
            return None
        return props if isinstance(props, dict) else None

    def parse(self, response: Response) -> Iterator[Any]:
        if not self.begin_page(response):
            return
        props = self.page_props(response)
        if props is None:
            return
        reviews = props.get("reviews")
        if not isinstance(reviews, list):
            self.page_error(response.url, "pageProps.reviews is missing or not a list")
            return
        items = [self.make_item(**review_fields(r, response.url)) for r in reviews if isinstance(r, dict)]
        yield from items
        pagination = ((props.get("filters") or {}).get("pagination")) or {}
        current, total = pagination.get("currentPage"), pagination.get("totalPages")
        if isinstance(current, int) and isinstance(total, int) and current < total and self.keep_paging(
            response, items
        ):
            request = self.request(add_or_replace_parameter(response.url, "page", str(current + 1)))
            if request is not None:
                yield request
