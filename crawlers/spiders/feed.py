"""Generic RSS/Atom feeds through feedparser, following RFC 5005 ``rel=next`` links; only entries naming a
configured entity are kept (mention filter)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import feedparser
from scrapy.http import Response

from crawlers.spiders.base import SourceSpider


def entry_fields(entry: Any, page_url: str, feed_language: str | None) -> dict[str, Any]:
    """Item fields of one feedparser entry (pure)."""
    content = entry.get("content") or []
    text = content[0].get("value") if content else entry.get("summary") or entry.get("description")
    return {
        "url": entry.get("link") or page_url,
        "external_id": entry.get("id") or entry.get("guid") or entry.get("link"),
        "author_id": entry.get("author"),
        "author_name": entry.get("author"),
        "title": entry.get("title"),
        "raw_text": text,
        "published_at": entry.get("published_parsed") or entry.get("updated_parsed")
        or entry.get("published") or entry.get("updated"),
        "language": (content[0].get("language") if content else None) or feed_language,
    }


class FeedSpider(SourceSpider):
    name = "feed"
    kind = "feed"
    mention_filter = True

    def parse(self, response: Response) -> Iterator[Any]:
        if not self.begin_page(response):
            return
        parsed = feedparser.parse(response.body, response_headers={"content-location": response.url})
        if not parsed.entries:
            reason = f"not a readable RSS/Atom feed: {parsed.get('bozo_exception')}" if parsed.bozo else \
                "feed has no entries"
            if parsed.bozo:
                self.page_error(response.url, reason)
            return
        if parsed.bozo:
            self.stat("feeds_not_well_formed")
        language = parsed.feed.get("language")
        items = []
        for entry in parsed.entries:
            fields = entry_fields(entry, response.url, language)
            if not fields["raw_text"] and not fields["title"]:
                items.append(self.make_item(**fields))  # validate drops it with its URL
                continue
            items += self.on_topic(f"{fields['title'] or ''}\n{fields['raw_text'] or ''}", **fields)
        yield from items
        following = [link.get("href") for link in parsed.feed.get("links", []) if link.get("rel") == "next"]
        if following and following[0] and self.keep_paging(response, items):
            request = self.request(response.urljoin(following[0]))
            if request is not None:
                yield request
