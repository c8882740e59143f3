"""schema.org reviews from any page: ``Review`` nodes (and the page's ``AggregateRating``) in JSON-LD, microdata
or RDFa, read by extruct, following ``rel=next`` pagination. An ``EmployerReview``, and every review of a page
whose rating is an ``EmployerAggregateRating``, is an employee's (``audience: "employee"``: an eNPS).

One format that covers many aggregators and shops: whatever the markup, the nodes are brought to one compact
JSON-LD-like shape and walked the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import extruct
from extruct.utils import parse_html
from scrapy.http import Response, TextResponse

from crawlers.spiders.base import SourceSpider
from nps.record import web_url

SCHEMA_PREFIXES = ("http://schema.org/", "https://schema.org/")
AGGREGATES = {"AggregateRating", "EmployerAggregateRating"}  # an employer's rating: its reviews are employees'


def _local(name: str) -> str:
    for prefix in SCHEMA_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def types_of(node: dict[str, Any]) -> set[str]:
    kind = node.get("@type") or node.get("type") or []
    return {_local(str(k)) for k in (kind if isinstance(kind, list) else [kind])}


def compact_rdfa(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """extruct's RDFa is flat expanded JSON-LD (full IRIs, ``@value`` lists, ``@id`` links); rebuild nested
    compact nodes so RDFa is walked like JSON-LD. Links resolve to the same dict, so a node is found once."""
    by_id: dict[str, dict[str, Any]] = {}
    for node in nodes:
        if "@id" in node:
            by_id[node["@id"]] = {"@id": node["@id"]}

    def value(v: Any) -> Any:
        if isinstance(v, dict) and "@value" in v:
            return v["@value"]
        if isinstance(v, dict) and set(v) == {"@id"}:
            return by_id.get(v["@id"], v["@id"])
        return v

    for node in nodes:
        target = by_id.get(node.get("@id", ""), {})
        for key, values in node.items():
            if key == "@id":
                continue
            if key == "@type":
                target["@type"] = [_local(t) for t in values]
                continue
            items = [value(v) for v in (values if isinstance(values, list) else [values])]
            target[_local(key)] = items[0] if len(items) == 1 else items
    return list(by_id.values())


def walk(node: Any, parent: dict[str, Any] | None = None) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Every dict in a nested structure with the nearest enclosing typed node; each dict once (cycles in RDFa)."""
    seen: set[int] = set()
    stack: list[tuple[Any, dict[str, Any] | None]] = [(node, parent)]
    while stack:
        current, owner = stack.pop()
        if isinstance(current, list):
            stack.extend((child, owner) for child in reversed(current))
        elif isinstance(current, dict) and id(current) not in seen:
            seen.add(id(current))
            yield current, owner
            typed = current if types_of(current) else owner
            stack.extend((child, typed) for child in reversed(list(current.values())))


def first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def name_of(value: Any) -> str | None:
    value = first(value)
    if isinstance(value, dict):
        value = value.get("name") or value.get("@id")
    return None if value is None else str(first(value))


def review_fields(review: dict[str, Any], owner: dict[str, Any] | None, page_url: str) -> dict[str, Any]:
    """The item fields of one schema.org Review node (pure: tested against extruct's own samples)."""
    rating = first(review.get("reviewRating"))
    scale = None
    if isinstance(rating, dict):
        scale = rating.get("bestRating")
        rating = rating.get("ratingValue")
    node_id = first(review.get("@id")) or review.get("id") or first(review.get("url"))  # microdata: itemid -> id
    external_id = str(node_id) if node_id and not str(node_id).startswith("_:") and node_id != page_url else None
    reviewed = review.get("itemReviewed") or owner
    author = first(review.get("author"))
    return {
        "url": web_url(urljoin(page_url, str(first(review.get("url")) or ""))) or page_url,  # never javascript:
        "external_id": external_id,
        "author_id": name_of(author),
        "author_name": name_of(author),
        "title": name_of(review.get("name") or review.get("headline")),
        "raw_text": first(review.get("reviewBody") or review.get("description") or review.get("text")),
        "rating": first(rating),
        "rating_scale": first(scale),
        "published_at": first(review.get("datePublished") or review.get("dateCreated")),
        "language": first(review.get("inLanguage")),
        "extra": {"item_reviewed": name_of(reviewed)} if reviewed else {},
    }


class SchemaOrgSpider(SourceSpider):
    name = "schemaorg"
    kind = "schemaorg"

    def structured_data(self, response: Response) -> list[Any]:
        """JSON-LD and microdata from one parse of the page; RDFa (a second, slower parse) only where the page
        uses RDFa attributes. A syntax that fails to parse is a recorded error; the others still count."""
        assert isinstance(response, TextResponse), "Scrapy gives an HTML page as a TextResponse"
        tree = parse_html(response.body, encoding=response.encoding)
        data = extruct.extract(
            tree, base_url=response.url, syntaxes=["json-ld", "microdata"], uniform=True, errors="log"
        )
        if "json-ld" not in data:
            self.page_error(response.url, "malformed JSON-LD: a ld+json script is not valid JSON")
        nodes = [*data.get("json-ld", []), *data.get("microdata", [])]
        if b"typeof=" in response.body:
            rdfa = extruct.extract(response.body, base_url=response.url, syntaxes=["rdfa"], errors="log")
            nodes.extend(compact_rdfa(rdfa.get("rdfa", [])))
        return nodes

    def parse(self, response: Response) -> Iterator[Any]:
        if not self.begin_page(response):
            return
        items, aggregate, employer_page = [], None, False
        for node, owner in walk(self.structured_data(response)):
            kinds = types_of(node)
            if kinds & AGGREGATES and aggregate is None:
                aggregate = {k: first(node.get(k)) for k in ("ratingValue", "bestRating", "reviewCount", "ratingCount")
                             if node.get(k) is not None}
                employer_page = "EmployerAggregateRating" in kinds
            if kinds & {"Review", "UserReview", "CriticReview", "EmployerReview"}:
                items.append(self.make_item(**review_fields(node, owner, response.url),
                                            audience="employee" if "EmployerReview" in kinds else None))
        for item in items:
            if employer_page:  # the page rates an employer: its reviews are employees' voices
                item["audience"] = "employee"
            if aggregate:
                item["extra"]["aggregate_rating"] = aggregate
            yield item
        if not items and aggregate:
            self.stat("aggregate_only_pages")
        next_url = response.css('link[rel~="next"]::attr(href), a[rel~="next"]::attr(href)').get()
        if next_url and self.keep_paging(response, items):
            request = self.request(response.urljoin(next_url))
            if request is not None:
                yield request
