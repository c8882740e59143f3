"""Reddit-style JSON listings: a listing (``/r/{sub}/search.json?q=``, ``/r/{sub}/new.json``) of ``t3`` posts
paged by ``after``, and each post's ``/comments/{id}.json`` ([post listing, comment tree]).

Only posts and comments naming a configured entity are kept (mention filter).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scrapy.http import Response
from w3lib.url import add_or_replace_parameter

from crawlers.spiders.base import SourceSpider


def thing_fields(thing: dict[str, Any], page_url: str) -> dict[str, Any] | None:
    """Item fields of one ``t3`` post or ``t1`` comment (pure); None for other kinds (``more``, ads)."""
    kind, data = thing.get("kind"), thing.get("data") or {}
    if kind not in ("t1", "t3") or not isinstance(data, dict):
        return None
    text = data.get("body") if kind == "t1" else data.get("selftext")
    permalink = data.get("permalink")
    author = data.get("author")
    return {
        "url": f"https://www.reddit.com{permalink}" if permalink and permalink.startswith("/") else
        f"{page_url.split('?')[0]}#{data.get('id')}",
        "external_id": data.get("name") or (f"{kind}_{data['id']}" if data.get("id") else None),
        "author_id": author if author and author != "[deleted]" else None,
        "author_name": author,
        "title": data.get("title") if kind == "t3" else None,
        "raw_text": (f"{data.get('title') or ''}\n\n{text or ''}".strip() if kind == "t3" else text),
        "published_at": data.get("created_utc"),
        "extra": {"subreddit": data.get("subreddit"), "score": data.get("score"), "kind": kind},
    }


def comment_things(listing: Any) -> Iterator[dict[str, Any]]:
    """Every ``t1`` comment of a comment tree, depth first (replies nest as listings, or "" when none)."""
    stack = [listing]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        children = (node.get("data") or {}).get("children") if node.get("kind") == "Listing" else None
        if children is not None:
            stack.extend(reversed(children))
            continue
        if node.get("kind") == "t1":
            yield node
            stack.append((node.get("data") or {}).get("replies"))


class RedditSpider(SourceSpider):
    name = "reddit"
    kind = "reddit"
    mention_filter = True

    def parse(self, response: Response) -> Iterator[Any]:
        """A listing page: request each post's comments page, then the next listing page (``after``)."""
        data = self.json_page(response)
        if data is None:
            return
        listing = data.get("data") if isinstance(data, dict) and data.get("kind") == "Listing" else None
        if not isinstance(listing, dict) or not isinstance(listing.get("children"), list):
            self.page_error(response.url, "not a Reddit listing (kind 'Listing' with data.children)")
            return
        posts = [c for c in listing["children"] if isinstance(c, dict) and c.get("kind") == "t3"]
        for post in posts:
            post_id = (post.get("data") or {}).get("id")
            if post_id:
                request = self.request(response.urljoin(f"/comments/{post_id}.json"), callback=self.parse_thread)
                if request is not None:
                    yield request
        after = listing.get("after")
        if after and posts:
            request = self.request(add_or_replace_parameter(response.url, "after", after))
            if request is not None:
                yield request

    def parse_thread(self, response: Response) -> Iterator[Any]:
        data = self.json_page(response)
        if data is None:
            return
        if not isinstance(data, list) or len(data) != 2:
            self.page_error(response.url, "not a Reddit thread ([post listing, comment listing])")
            return
        post_children = ((data[0] or {}).get("data") or {}).get("children") or []
        for thing in [*post_children, *comment_things(data[1])]:
            fields = thing_fields(thing, response.url)
            if fields is None or not fields["raw_text"]:
                continue
            yield from self.on_topic(fields["raw_text"], **fields)
