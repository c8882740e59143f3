"""What the API sources (Google Play, Mastodon, Bluesky, YouTube) share, named once (docs/DESIGN.md): the host
their calls go to (``api_base``), their credentials (read from the environment, sent only in headers, never in a
URL the frontier, the report or the store keeps), a budget of calls (``quota``), ``Link``-header paging, and a
changed reply shape reported as a failed source instead of an empty success.

A subject source (an app, a hashtag, a video) keeps everything the service returns for it: no mention filter.

The company's own accounts there (``[[entities]] own_accounts``, ``nps.authors.is_own_account``) are not customer
voice: an own post is no item, and an own reply rides on the post or comment it answers as ``company_reply``
(its first reply) when that item is made later in this crawl or on the same page (timelines run newest first, so
a reply comes before what it answers; YouTube makes a top comment after its thread's replies); any other own post
is dropped and counted (``onps/own_posts``).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple, NoReturn
from urllib.parse import urlencode, urlsplit, urlunsplit

import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import Response

from crawlers import credentials
from crawlers.items import ReviewItem
from crawlers.spiders.base import SourceSpider
from nps.authors import is_own_account
from nps.record import company_reply

SHAPE_CHANGED = "shape_changed"  # the finish reason of a source whose replies no longer parse
QUOTA_SPENT = "quota_spent"  # the finish reason of a source the service (or its budget) stopped for the day
_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?([^";]+)"?')


def link_next(header: str | None) -> str | None:
    """The ``rel="next"`` URL of an HTTP ``Link`` header (RFC 8288), or None."""
    for url, rel in _LINK.findall(header or ""):
        if "next" in rel.split():
            return url
    return None


class Post(NamedTuple):
    """A post or comment as a service lists it, before it is an item: its item FIELDS, the KEY a reply names it
    by (a status id, a post URI, a comment id), whether an OWN account wrote it, and the key of what it ANSWERS."""

    key: str | None
    fields: dict[str, Any]
    own: bool
    answers: str | None = None


class ApiSpider(SourceSpider):
    """Base of the API spiders: a subclass sets ``default_api_base`` and builds its calls with ``api_url``."""

    default_api_base: str = ""  # a class attribute; mastodon sets its own per instance (the instance's host)
    # An API's calls are governed by its terms and rate limits, not by the robots.txt written for page crawlers
    # (which may disallow the API paths of a host whose pages it covers).
    custom_settings: dict[str, Any] | None = {"ROBOTSTXT_OBEY": False}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # raises MissingCredential naming the variable (crawl_url and crawl_sources check it before this process)
        self.creds = credentials.read(self.kind, self.credential_names)
        self.calls = 0
        self.held_replies: dict[str, list[dict[str, Any]]] = {}  # own replies by the key of what they answer

    def is_own(self, *identities: Any) -> bool:
        """Whether an author (by any of the identities the service gives) is one of the entity's own accounts."""
        return is_own_account(identities, self.own_accounts)

    def voices(self, posts: list[Post]) -> list[ReviewItem]:
        """The items of a page's POSTS: the customers' posts, each with the first own reply to it (this page's, or
        one held from an earlier page) as ``company_reply``; own posts are no items, the ones that ride on none
        are counted (``Post`` docs)."""
        for post in posts:
            if not post.own:
                continue
            reply = company_reply(post.fields.get("raw_text"), post.fields.get("published_at")) \
                if post.answers else None
            if reply:
                self.held_replies.setdefault(str(post.answers), []).append(reply)
            else:
                self.stat("own_posts")
        items = []
        for post in posts:
            if post.own:
                continue
            replies = self.held_replies.pop(post.key, []) if post.key else []
            fields = post.fields
            if replies and not fields.get("company_reply"):
                fields = {**fields, "company_reply": min(replies, key=lambda r: (r["time"] is None, r["time"] or ""))}
                replies = replies[1:]
            if replies:  # the company's later replies in the same thread: the first one is the loop closed
                self.stat("own_posts", len(replies))
            items.append(self.make_item(**fields))
        return items

    def closed(self, reason: str) -> None:
        """Own replies whose post this crawl did not make after them: dropped, and counted."""
        if left := sum(len(replies) for replies in self.held_replies.values()):
            self.stat("own_posts", left)

    def api_url(self, path: str, **params: Any) -> str:
        """The service's call PATH with PARAMS (None values left out) on ``api_base`` or the service's own host."""
        base = (self.api_base or self.default_api_base).rstrip("/")
        query = urlencode({k: v for k, v in params.items() if v is not None}, doseq=True)
        return f"{base}{path}" + (f"?{query}" if query else "")

    def auth_headers(self) -> dict[str, str]:
        """Headers carrying the source's credential (none by default)."""
        return {}

    def make_request(self, url: str, callback: Any, meta: dict[str, Any] | None = None,
                     dont_filter: bool = False) -> scrapy.Request:
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta=meta or {},
                              dont_filter=dont_filter, headers={"Accept": "application/json", **self.auth_headers()})

    def request(self, url: str, callback: Any = None, **meta: Any) -> scrapy.Request | None:
        """Within the page budget and the source's ``quota`` of calls (each call is one unit)."""
        if self.quota is not None and self.calls >= self.quota:
            self.stat("quota_stops")
            return None
        made = super().request(url, callback, **meta)
        if made is not None:
            self.calls += 1
        return made

    def shape_changed(self, response: Response, what: str) -> NoReturn:
        """End the source with an error: the service's reply no longer has the shape this parser reads (owed, so
        the page is asked again once the parser is fixed), never an empty success."""
        url = response.request.url if response.request else response.url  # the page's identity (a fragment too)
        self.page_error(url, f"the {self.kind} reply has changed shape: {what}; the {self.kind} spider "
                        "needs updating", owed=True)
        raise CloseSpider(SHAPE_CHANGED)

    def rebase(self, url: str) -> str:
        """URL (a next link the service wrote with its own host) on ``api_base``, when one is set: a proxy or a
        mirror answers under the same paths."""
        if not self.api_base:
            return url
        parts, base = urlsplit(url), urlsplit(self.api_base)
        return urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + parts.path, parts.query, ""))

    def next_link(self, response: Response) -> str | None:
        """The ``Link`` header's ``rel="next"`` page, on ``api_base``."""
        header = response.headers.get("Link")
        found = link_next(header.decode("latin-1") if header else None)
        return self.rebase(found) if found else None
