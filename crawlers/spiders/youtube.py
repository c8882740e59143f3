"""YouTube comments through the Data API v3, from the page a user copies: a video (``/watch?v=ID``) ->
``commentThreads.list?videoId=``; a channel (``/channel/UC...``) ->
``commentThreads.list?allThreadsRelatedToChannelId=`` (every comment on a brand's own channel). Paged by
``pageToken``; a thread whose ``totalReplyCount`` is more than the replies it includes has them fetched by
``comments.list?parentId=``, paged the same way.

The text is ``textOriginal`` (what the author typed), not the HTML ``textDisplay``; the author is the channel id.
A comment by the channel the thread belongs to (its ``snippet.channelId``: the video's owner) or by one of the
entity's configured channels is the company's voice, never an item: a reply included in its thread rides on the
top comment as ``company_reply``, and so does one fetched by ``comments.list``: a thread's top comment is made
with its last page of replies (or when they cannot be fetched).

Every call costs quota (1 unit each; 10,000 a day by default): ``quota`` caps the calls of one crawl, and the
service's ``quotaExceeded`` ends the source cleanly, keeping what was fetched; the refused page is owed and the
crawl's JOBDIR kept, so the next night resumes there. The key travels in the ``X-Goog-Api-Key`` header, never in
a URL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

from scrapy.exceptions import CloseSpider
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawlers.spiders.api import QUOTA_SPENT, ApiSpider, Post

PER_PAGE = 100  # the API's maximum for both lists
QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded", "rateLimitExceeded"}


def page_target(url: str) -> tuple[str, str]:
    """(``videoId`` | ``allThreadsRelatedToChannelId``, its value) of a YouTube video or channel page URL."""
    parts = urlsplit(url)
    video = next(iter(parse_qs(parts.query).get("v", [])), None)
    path = [p for p in parts.path.split("/") if p]
    if video:
        return "videoId", video
    if parts.netloc.endswith("youtu.be") and path:
        return "videoId", path[0]
    if len(path) >= 2 and path[0] == "channel":
        return "allThreadsRelatedToChannelId", path[1]
    raise ValueError(f"{url} is not a YouTube video or channel page: expected https://www.youtube.com/watch?v=ID "
                     "or https://www.youtube.com/channel/CHANNEL_ID")


def error_reasons(body: bytes) -> set[str]:
    """The ``error.errors[].reason`` values of a Data API error reply."""
    try:
        error = json.loads(body).get("error") or {}
    except (ValueError, AttributeError):
        return set()
    # a reason that is not text is no reason (it would also break the sorted list the error message names)
    return {e["reason"] for e in error.get("errors") or [] if isinstance(e, dict) and isinstance(e.get("reason"), str)}


def comment_fields(comment: dict[str, Any]) -> dict[str, Any]:
    """Item fields of one ``youtube#comment`` (pure)."""
    snippet = comment.get("snippet") or {}
    video = snippet.get("videoId")
    comment_id = comment.get("id")
    return {
        "url": f"https://www.youtube.com/watch?v={video}&lc={comment_id}" if video else
        f"https://www.youtube.com/channel/{snippet.get('channelId')}",
        "external_id": comment_id,
        "author_id": (snippet.get("authorChannelId") or {}).get("value"),
        "author_name": snippet.get("authorDisplayName"),
        "raw_text": snippet.get("textOriginal") or snippet.get("textDisplay"),
        "published_at": snippet.get("publishedAt"),
        "extra": {"likes": snippet.get("likeCount"), "video": video,
                  **({"parent": snippet["parentId"]} if snippet.get("parentId") else {})},
    }


class YouTubeSpider(ApiSpider):
    name = "youtube"
    kind = "youtube"
    default_api_base = "https://www.googleapis.com"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.by, self.target = page_target(self.start_url)
        # top comments waiting for their thread's comments.list replies, with the page that listed them
        self.awaiting: dict[str, tuple[Post, str]] = {}

    def auth_headers(self) -> dict[str, str]:
        return {"X-Goog-Api-Key": self.creds.get("api_key") or ""}

    def threads_url(self, token: str | None = None) -> str:
        return self.api_url("/youtube/v3/commentThreads", part="snippet,replies", maxResults=PER_PAGE,
                            textFormat="plainText", order="time", pageToken=token, **{self.by: self.target})

    def replies_url(self, parent: str, token: str | None = None) -> str:
        return self.api_url("/youtube/v3/comments", part="snippet", parentId=parent, maxResults=PER_PAGE,
                            textFormat="plainText", pageToken=token)

    def first_url(self) -> str:
        return self.threads_url()

    def failure_reason(self, status: int, body: bytes) -> str:
        reasons = error_reasons(body)
        variable = self.creds.variables["api_key"]
        if reasons & QUOTA_REASONS:
            return f"HTTP {status} {', '.join(sorted(reasons & QUOTA_REASONS))}: the YouTube API quota of the key " \
                   f"in {variable} is spent for today; the crawl stopped and resumes on the next run"
        if status in (400, 401, 403) and reasons & {"keyInvalid", "forbidden", "accessNotConfigured", "badRequest"}:
            return f"HTTP {status} {', '.join(sorted(reasons))}: check the API key in {variable} (valid, with the " \
                   "YouTube Data API v3 enabled)"
        if status == 403 and "commentsDisabled" in reasons:
            return f"HTTP {status} commentsDisabled: the video's comments are turned off"
        return super().failure_reason(status, body) + (f" {', '.join(sorted(r for r in reasons if r))}"
                                                         if reasons else "")

    def on_error(self, failure: Failure) -> Iterator[Any]:
        super().on_error(failure)
        parent = thread_of(failure.request.url)  # type: ignore[attr-defined]
        if parent in self.awaiting:  # its replies will not come in this crawl: the top comment waits no longer
            yield from self.voices([self.awaiting.pop(parent)[0]])
        if failure.check(HttpError) and error_reasons(failure.value.response.body) & QUOTA_REASONS:
            raise CloseSpider(QUOTA_SPENT)  # what was fetched is kept; the refused page is owed

    def page(self, response: Response, kind: str) -> tuple[list[Any], str | None] | None:
        """A list reply's items and next page token; None for a page parsed already or not JSON."""
        data = self.json_page(response)
        if data is None:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("items"), list) or (
                data.get("kind") not in (None, kind)):
            self.shape_changed(response, f"no items list in a {kind} reply")
        return data["items"], data.get("nextPageToken")

    def by_owner(self, fields: dict[str, Any], owner: str | None) -> bool:
        """A comment by the company: the channel the thread belongs to (the video's owner) or a configured one."""
        return bool(owner) and fields["author_id"] == owner or self.is_own(fields["author_id"])

    def parse(self, response: Response) -> Iterator[Any]:
        """A page of comment threads: each top-level comment with the company's reply on it, the other included
        replies, a ``comments.list`` call for a thread that includes fewer replies than it has, the next page."""
        page = self.page(response, "youtube#commentThreadListResponse")
        if page is None:
            return
        threads, token = page
        posts, more, tops = [], [], {}
        for thread in threads:
            snippet = thread.get("snippet") if isinstance(thread, dict) else None
            top = snippet.get("topLevelComment") if isinstance(snippet, dict) else None
            if not isinstance(snippet, dict) or not isinstance(top, dict):
                self.shape_changed(response, "a comment thread without snippet.topLevelComment")
            owner = snippet.get("channelId")
            replies = [r for r in (thread.get("replies") or {}).get("comments") or [] if isinstance(r, dict)]
            fields = comment_fields(top)
            posts.append(Post(fields["external_id"], fields, self.by_owner(fields, owner)))
            tops[thread.get("id") or top.get("id")] = posts[-1]
            for reply in replies:
                reply_fields = comment_fields(reply)
                posts.append(Post(reply_fields["external_id"], reply_fields, self.by_owner(reply_fields, owner),
                                  fields["external_id"]))
            if (snippet.get("totalReplyCount") or 0) > len(replies):
                more.append(thread.get("id") or top.get("id"))
        # a thread's top comment waits for the replies fetched by comments.list (the company's may be among them)
        page_url = response.request.url if response.request else response.url
        requests, waiting = [], []
        for parent in more:
            if parent and (request := self.request(self.replies_url(parent), callback=self.parse_replies,
                                                   owner=owner_of(threads, parent))):
                requests.append(request)
                if not tops[parent].own:
                    self.awaiting[parent] = (tops[parent], page_url)
                    waiting.append(tops[parent])
        items = self.voices([post for post in posts if all(post is not held for held in waiting)])
        yield from items
        yield from requests
        listed = items + [self.make_item(**post.fields) for post in waiting]
        if token and self.keep_paging(response, listed) and (request := self.request(self.threads_url(token))):
            yield request

    def parse_replies(self, response: Response) -> Iterator[Any]:
        """A page of one thread's replies (``comments.list?parentId=``); the company's are not items: the first
        rides on the thread's top comment, made with the thread's last page of replies."""
        page = self.page(response, "youtube#commentListResponse")
        if page is None:
            return
        (replies, token), owner = page, response.meta.get("owner")
        parent = thread_of(response.url)
        fields = [comment_fields(reply) for reply in replies if isinstance(reply, dict)]
        posts = [Post(f["external_id"], f, self.by_owner(f, owner), parent) for f in fields]
        following = self.request(self.replies_url(parent, token), callback=self.parse_replies, owner=owner) \
            if token and parent else None
        if following is None and parent in self.awaiting:
            posts.insert(0, self.awaiting.pop(parent)[0])
        yield from self.voices(posts)
        if following is not None:
            yield following

    def unfinished_pages(self) -> Iterable[str]:
        """A thread page whose top comment still waits for its replies is unfinished: a resumed crawl reads it
        again (and makes that comment at once, its replies' pages being asked already)."""
        return [page for _, page in self.awaiting.values()]


def thread_of(url: str) -> str | None:
    """The thread whose replies a ``comments.list?parentId=`` URL asks for (None for any other call)."""
    found = parse_qs(urlsplit(url).query).get("parentId")
    return found[0] if found else None


def owner_of(threads: list[dict[str, Any]], thread_id: str) -> str | None:
    """The channel a thread belongs to (its video's owner), from the page that listed it."""
    for thread in threads:
        if thread.get("id") == thread_id:
            return (thread.get("snippet") or {}).get("channelId")
    return None
