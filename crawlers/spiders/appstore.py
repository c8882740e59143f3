"""App-store customer reviews as the iTunes RSS JSON feed: ``feed.entry[]`` with ``im:rating``, author, title,
content, updated; paged by ``page=N`` in the path (``.../page=2/id=.../json``) or the query.

Apple serves at most 10 pages (~500 reviews) per app and country: the spider never asks for page 11, so a wider
history needs one source per country.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from scrapy.http import Response
from w3lib.url import add_or_replace_parameter, url_query_parameter

from crawlers.spiders.base import SourceSpider

APPLE_MAX_PAGES = 10
_PATH_PAGE = re.compile(r"/page=(\d+)")


def label(node: Any, *path: str) -> Any:
    """``entry["author"]["name"]["label"]`` without a KeyError on a missing level."""
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node.get("label") if isinstance(node, dict) else None


def page_number(url: str) -> int:
    found = _PATH_PAGE.search(url)
    return int(found.group(1)) if found else int(url_query_parameter(url, "page", "1") or 1)


def with_page(url: str, page: int) -> str:
    if _PATH_PAGE.search(url):
        return _PATH_PAGE.sub(f"/page={page}", url, count=1)
    return add_or_replace_parameter(url, "page", str(page))


def entry_fields(entry: dict[str, Any], page_url: str) -> dict[str, Any] | None:
    """Item fields of one feed entry; None for the app's own entry (no ``im:rating``) that older feeds put first."""
    rating = label(entry, "im:rating")
    if rating is None:
        return None
    entry_id = label(entry, "id")
    author_uri = label(entry, "author", "uri") or ""
    link = (entry.get("link") or {}).get("attributes", {}).get("href") if isinstance(entry.get("link"), dict) else None
    return {
        "url": f"{page_url.split('?')[0]}#review-{entry_id}" if entry_id else link or page_url,
        "external_id": str(entry_id) if entry_id else None,
        "author_id": author_uri.rstrip("/").rsplit("/", 1)[-1] or label(entry, "author", "name"),
        "author_name": label(entry, "author", "name"),
        "title": label(entry, "title"),
        "raw_text": label(entry, "content"),
        "rating": rating,
        "rating_scale": 5,
        "published_at": label(entry, "updated"),
        "extra": {"app_version": label(entry, "im:version"), "votes": label(entry, "im:voteCount")},
    }


class AppStoreSpider(SourceSpider):
    name = "appstore"
    kind = "appstore"

    def parse(self, response: Response) -> Iterator[Any]:
        data = self.json_page(response)
        if data is None:
            return
        feed = data.get("feed") if isinstance(data, dict) else None
        if not isinstance(feed, dict):
            self.page_error(response.url, "no 'feed' object: not an iTunes customer-reviews JSON feed")
            return
        entries = feed.get("entry") or []
        entries = [entries] if isinstance(entries, dict) else entries  # one review comes as an object
        items = []
        for entry in entries:
            fields = entry_fields(entry, response.url) if isinstance(entry, dict) else None
            if fields is not None:
                items.append(self.make_item(**fields))
        yield from items
        page = page_number(response.url)
        if page < APPLE_MAX_PAGES and self.keep_paging(response, items):
            request = self.request(with_page(response.url, page + 1))
            if request is not None:
                yield request
