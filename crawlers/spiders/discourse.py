"""Discourse forums through their JSON API: ``/latest.json`` (or ``/search.json?q=`` when the source has a
query) lists topics, ``/t/{id}.json`` holds a topic's posts (``post_stream.posts[]``, HTML in ``cooked``).

Only posts naming a configured entity are kept (mention filter). A topic not bumped since the newest stored post
is not fetched again (incremental).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from scrapy.http import Response
from w3lib.url import add_or_replace_parameter

from crawlers.spiders.base import SourceSpider
from crawlers.text import clean_text
from nps.record import parse_time

_API_PATH = re.compile(r"/(?:latest|search|t/(?:[\w-]+/)?\d+)\.json$")


def as_json_path(path: str) -> str:
    """Discourse's ``more_topics_url`` points at the HTML page (``/latest?page=1``); ask for its JSON twin."""
    base, _, query = path.partition("?")
    if not base.endswith(".json"):
        base = base.rstrip("/") + ".json"
    return f"{base}?{query}" if query else base


def post_fields(post: dict[str, Any], topic: dict[str, Any], root: str) -> dict[str, Any]:
    """Item fields of one post of a ``/t/{id}.json`` answer (pure)."""
    slug, topic_id = topic.get("slug") or "topic", post.get("topic_id") or topic.get("id")
    facts = {"trust_level": post.get("trust_level"), "moderator": post.get("moderator") or None}
    return {
        "url": f"{root}/t/{slug}/{topic_id}/{post.get('post_number', 1)}",
        "external_id": str(post["id"]) if post.get("id") is not None else None,
        "author_id": post.get("username"),
        "author_name": post.get("name") or post.get("username"),
        "author_facts": {k: v for k, v in facts.items() if v is not None},
        "title": topic.get("title") if post.get("post_number") == 1 else None,
        "raw_text": post.get("cooked"),
        "published_at": post.get("created_at"),
        "extra": {"topic_id": topic_id, "reply_to": post.get("reply_to_post_number")},
    }


class DiscourseSpider(SourceSpider):
    name = "discourse"
    kind = "discourse"
    mention_filter = True

    def forum_root(self) -> str:
        """The forum's base URL: the site root, or its subfolder (``https://host/forum``) when installed there."""
        return _API_PATH.sub("", self.start_url.split("?")[0].rstrip("/"))

    def first_url(self) -> str:
        if self.start_url.split("?")[0].endswith(".json"):
            return self.start_url
        if self.query:
            return add_or_replace_parameter(f"{self.forum_root()}/search.json", "q", self.query)
        return f"{self.forum_root()}/latest.json"

    def parse(self, response: Response) -> Iterator[Any]:
        """A topic listing (latest or search): request each topic not stale, then the next listing page."""
        data = self.json_page(response)
        if data is None:
            return
        if not isinstance(data, dict):
            self.page_error(response.url, "unexpected JSON: neither a topic list nor search results")
            return
        listing = data.get("topic_list") or {}
        topics = listing.get("topics") if listing else data.get("topics")
        if not isinstance(topics, list):
            self.page_error(response.url, "no topic_list.topics (or search topics) in the answer")
            return
        fresh = 0
        for topic in topics:
            if not isinstance(topic, dict) or topic.get("id") is None:
                continue
            bumped = parse_time(topic.get("last_posted_at") or topic.get("bumped_at"))
            if self.newest and bumped and bumped <= self.newest:
                self.stat("stale_topics")
                continue
            fresh += 1
            request = self.request(f"{self.forum_root()}/t/{topic['id']}.json", callback=self.parse_topic)
            if request is not None:
                yield request
        more = listing.get("more_topics_url")
        if more and fresh:
            request = self.request(response.urljoin(as_json_path(more)))
            if request is not None:
                yield request
        elif topics and not fresh:
            self.stat("incremental_stops")

    def parse_topic(self, response: Response) -> Iterator[Any]:
        topic = self.json_page(response)
        if topic is None:
            return
        posts = ((topic.get("post_stream") or {}).get("posts")) if isinstance(topic, dict) else None
        if not isinstance(posts, list):
            self.page_error(response.url, "no post_stream.posts: not a Discourse topic")
            return
        root = self.forum_root()
        for post in posts:
            if not isinstance(post, dict):
                continue
            fields = post_fields(post, topic, root)
            text = clean_text(f"{fields['title'] or ''}\n{fields['raw_text'] or ''}")
            yield from self.on_topic(text, **fields)
