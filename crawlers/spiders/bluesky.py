"""Bluesky through its XRPC API, from the page a user copies: a hashtag (``bsky.app/hashtag/TAG``) or a search
(``bsky.app/search?q=QUERY``) -> ``app.bsky.feed.searchPosts``; a profile (``bsky.app/profile/HANDLE``) ->
``app.bsky.feed.getAuthorFeed``. Paged by the reply's ``cursor`` until a reply has none.

Search needs a session since 2025: the crawl opens one with ``com.atproto.server.createSession`` (the account's
handle and an app password, from BLUESKY_HANDLE and BLUESKY_APP_PASSWORD) before its first page, and renews it
with ``refreshSession`` when the service says the access token expired. The tokens live in this process only.

The author is the DID (the handle, which can change, is kept for display); ``langs`` as the post declares them.
A repost is not a new voice and is left out; a quote post is the quoting author's own words, kept as a post.
Bluesky asks that search not be used as a firehose: a source is one bounded query with a page budget; continuous
volume belongs on Jetstream (README, scaling).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import scrapy
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawlers.spiders.api import ApiSpider, Post
from nps.record import parse_time

PER_PAGE = 100  # searchPosts' maximum
SESSION = "/xrpc/com.atproto.server.createSession"
REFRESH = "/xrpc/com.atproto.server.refreshSession"
EXPIRED = {"ExpiredToken", "InvalidToken"}


def page_query(url: str) -> tuple[str, str]:
    """(``q`` | ``actor``, its value) of a bsky.app hashtag, search or profile page URL."""
    parts = urlsplit(url)
    path = [p for p in parts.path.split("/") if p]
    if len(path) >= 2 and path[0] == "hashtag":
        return "q", f"#{path[1]}"
    if path[:1] == ["search"] and (query := (parse_qs(parts.query).get("q") or [""])[0]):
        return "q", query
    if len(path) >= 2 and path[0] == "profile":
        return "actor", path[1]
    raise ValueError(f"{url} is not a Bluesky hashtag, search or profile page: expected https://bsky.app/hashtag/TAG, "
                     "https://bsky.app/search?q=QUERY or https://bsky.app/profile/HANDLE")


def xrpc_error(body: bytes) -> str | None:
    """The ``error`` name of an XRPC error reply."""
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return None
    return error if isinstance(error, str) else None


def post_fields(post: dict[str, Any]) -> dict[str, Any]:
    """Item fields of one ``postView`` (pure)."""
    author, record = post.get("author") or {}, post.get("record") or {}
    handle, rkey = author.get("handle"), str(post.get("uri") or "").rsplit("/", 1)[-1]
    created, posted = parse_time(author.get("createdAt")), parse_time(record.get("createdAt"))
    age = (posted - created).days if created and posted else None
    langs = [lang for lang in record.get("langs") or [] if isinstance(lang, str)]
    embed = record.get("embed") or {}
    return {
        "url": f"https://bsky.app/profile/{handle or author.get('did')}/post/{rkey}",
        "external_id": post.get("uri"),
        "author_id": author.get("did"),
        "author_name": author.get("displayName") or handle,
        "author_facts": {k: v for k, v in {"account_age_days": age if age is not None and age >= 0 else None,
                                           "handle": handle,
                                           "labels": [lb.get("val") for lb in author.get("labels") or []
                                                      if isinstance(lb, dict)] or None}.items() if v is not None},
        "raw_text": record.get("text"),
        "language": langs[0] if langs else None,
        "published_at": record.get("createdAt") or post.get("indexedAt"),
        "extra": {"langs": langs, "likes": post.get("likeCount"), "reposts": post.get("repostCount"),
                  "replies": post.get("replyCount"), "quotes": post.get("quoteCount"),
                  **({"reply_to": record["reply"].get("parent", {}).get("uri")} if record.get("reply") else {}),
                  **({"quotes_post": (embed.get("record") or {}).get("uri")}
                     if str(embed.get("$type", "")).startswith("app.bsky.embed.record") else {})},
    }


class BlueskySpider(ApiSpider):
    name = "bluesky"
    kind = "bluesky"
    default_api_base = "https://bsky.social"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.by, self.subject = page_query(self.start_url)
        self.access: str | None = None
        self.refresh: str | None = None

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"} if self.access else {}

    def feed_url(self, cursor: str | None = None) -> str:
        if self.by == "q":
            return self.api_url("/xrpc/app.bsky.feed.searchPosts", q=self.subject, limit=PER_PAGE, cursor=cursor)
        return self.api_url("/xrpc/app.bsky.feed.getAuthorFeed", actor=self.subject, limit=PER_PAGE, cursor=cursor)

    def first_url(self) -> str:
        return self.feed_url()

    # ---- the session --------------------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[Any]:
        """A session first (not a page: outside the frontier and the budget); its reply starts the pages."""
        body = {"identifier": self.creds.get("handle"), "password": self.creds.get("app_password")}
        yield scrapy.Request(self.api_url(SESSION), method="POST", body=json.dumps(body), callback=self.parse_session,
                             errback=self.session_failed, dont_filter=True,
                             headers={"Content-Type": "application/json", "Accept": "application/json"})

    async def parse_session(self, response: Response) -> AsyncIterator[Any]:
        if not self.keep_tokens(response):
            return
        async for request in super().start():  # the first page, or a resumed crawl's pages, and the owed ones
            yield request

    def keep_tokens(self, response: Response) -> bool:
        data = self.json_body(response)
        if not isinstance(data, dict) or not data.get("accessJwt"):
            self.shape_changed(response, "a session reply without accessJwt")
        self.access, self.refresh = data["accessJwt"], data.get("refreshJwt") or self.refresh
        return True

    def session_failed(self, failure: Failure) -> None:
        names = self.creds.variables
        status = failure.value.response.status if failure.check(HttpError) else None
        reason = (f"HTTP {status}: Bluesky refused the session for the handle in {names['handle']} and the app "
                  f"password in {names['app_password']} (create an app password under Settings > Privacy and "
                  "security > App passwords)") if status in (400, 401) else \
            f"opening a Bluesky session failed: {self.failure_reason(status, b'') if status else failure.value}"
        self.page_error(failure.request.url, reason, owed=False)  # type: ignore[attr-defined]  # Scrapy sets .request on an errback's Failure

    def on_error(self, failure: Failure) -> Any:
        """An expired access token is renewed once and the page asked again; anything else is a failed page."""
        request = failure.request  # type: ignore[attr-defined]  # Scrapy sets .request on an errback's Failure
        if (failure.check(HttpError) and failure.value.response.status in (400, 401) and self.refresh
                and xrpc_error(failure.value.response.body) in EXPIRED and not request.meta.get("renewed")):
            self.stat("session_refreshes")
            return [scrapy.Request(self.api_url(REFRESH), method="POST", callback=self.parse_refresh,
                                   errback=self.session_failed, dont_filter=True, meta={"again": request},
                                   headers={"Authorization": f"Bearer {self.refresh}", "Accept": "application/json"})]
        return super().on_error(failure)

    def parse_refresh(self, response: Response) -> Iterator[Any]:
        self.keep_tokens(response)
        again: scrapy.Request = response.meta["again"]
        headers: dict[Any, Any] = {**again.headers.to_unicode_dict(), **self.auth_headers()}
        yield again.replace(headers=headers, dont_filter=True,
                            meta={**again.meta, "renewed": True})

    def failure_reason(self, status: int, body: bytes) -> str:
        error = xrpc_error(body)
        if status in (400, 401) and error in {"AuthMissing", *EXPIRED}:
            return f"HTTP {status} {error}: the Bluesky session was refused; check {self.creds.variables['handle']} " \
                   f"and {self.creds.variables['app_password']}"
        return super().failure_reason(status, body) + (f" {error}" if error else "")

    # ---- pages --------------------------------------------------------------------------------------------
    def parse(self, response: Response) -> Iterator[Any]:
        data = self.json_page(response)
        if data is None:
            return
        listed = data.get("posts" if self.by == "q" else "feed") if isinstance(data, dict) else None
        if not isinstance(listed, list):
            self.shape_changed(response, f"no {'posts' if self.by == 'q' else 'feed'} list")
        posts = []
        for entry in listed:
            if not isinstance(entry, dict):
                continue
            if (entry.get("reason") or {}).get("$type", "").endswith("reasonRepost"):
                self.stat("reposts_skipped")  # someone else's post, shared: not a new voice
                continue
            post = entry.get("post", entry) if self.by == "actor" else entry
            if not isinstance(post, dict) or not post.get("uri"):
                self.shape_changed(response, "a post without its uri")
            if not str((post.get("record") or {}).get("text") or "").strip():  # an image alone: no words to read
                self.stat("no_text")
                continue
            fields = post_fields(post)
            reply = (post.get("record") or {}).get("reply") or {}
            own = self.is_own(fields["author_id"], fields["author_facts"].get("handle"))
            posts.append(Post(post["uri"], fields, own, (reply.get("parent") or {}).get("uri")))
        items = self.voices(posts)  # an own account's reply rides on the post it answers (reply.parent)
        yield from items
        cursor = data.get("cursor")
        # a page of reposts only does not end a feed; an empty one does
        if isinstance(cursor, str) and cursor and (self.keep_paging(response, items) if items else listed):
            request = self.request(self.feed_url(cursor))
            if request is not None:
                yield request
