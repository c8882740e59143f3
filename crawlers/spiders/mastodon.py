"""Mastodon through its REST API, from the page a user copies: a tag (``/tags/TAG`` -> ``/api/v1/timelines/tag/TAG``),
the federated or local timeline (``/public``, ``/public/local`` -> ``/api/v1/timelines/public``),
an account (``/@user`` -> ``/api/v1/accounts/lookup?acct=`` -> ``/api/v1/accounts/:id/statuses``) or a status
with its thread (``/@user/ID`` -> ``/api/v1/statuses/ID`` and ``/context``). Timelines page by the ``Link``
header's ``rel="next"`` until a page comes back empty.

The author is ``user@instance`` (an account's ``acct`` is bare on its home instance); ``author_facts`` carry the
account's age when it posted, its followers and statuses, and its own ``bot`` flag (a declared automated
account). A boost repeats someone else's post: it is not a new voice and is not kept (the boosted post is, where
the timeline lists it itself).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

from scrapy.http import Response

from crawlers.spiders.api import ApiSpider, Post
from nps.record import parse_time

PER_PAGE = 40  # the API's maximum for timelines
TOKEN_HELP = ("this Mastodon instance does not serve it without an access token: create one (Preferences > "
              "Development, scope read:statuses) and export MASTODON_ACCESS_TOKEN (or name your variable in the "
              "source's credentials)")


def page_kind(url: str) -> tuple[str, str, str | None]:
    """(``tag`` | ``public`` | ``account`` | ``status``, the tag, timeline or account, the status id) of a Mastodon
    page URL."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    if parts[:1] == ["public"]:
        return "public", "local" if parts[1:2] == ["local"] else "federated", None
    if len(parts) >= 2 and parts[0] == "tags":
        return "tag", parts[1], None
    if parts and parts[0].startswith("@"):
        if len(parts) >= 2 and parts[1].isdigit():
            return "status", parts[0][1:], parts[1]
        return "account", parts[0][1:], None
    raise ValueError(f"{url} is not a Mastodon tag, timeline, account or status page: expected "
                     "https://INSTANCE/tags/TAG, https://INSTANCE/public[/local], https://INSTANCE/@user or "
                     "https://INSTANCE/@user/STATUS_ID")


def author_of(account: dict[str, Any], instance: str) -> str | None:
    """``user@instance`` of an account (the API leaves the instance out for the instance's own accounts)."""
    acct = account.get("acct")
    if not isinstance(acct, str) or not acct:
        return None
    if "@" in acct:
        return acct
    home = urlsplit(account.get("url") or "").netloc or instance
    return f"{acct}@{home}"


def author_facts(account: dict[str, Any], posted: str | None) -> dict[str, Any]:
    """What the bot filter reads about an author, as the account showed it with this post. An account created
    after its post (a moved account, a post imported from elsewhere) has no known age: None, never a young 0."""
    created, when = parse_time(account.get("created_at")), parse_time(posted)
    age = (when - created).days if created and when else None
    facts = {
        "account_age_days": age if age is not None and age >= 0 else None,
        "followers": account.get("followers_count"),
        "following": account.get("following_count"),
        "statuses_count": account.get("statuses_count"),
        "bot": account.get("bot"),
    }
    return {k: v for k, v in facts.items() if v is not None}


def status_fields(status: dict[str, Any], instance: str) -> dict[str, Any]:
    """Item fields of one status (pure); the content is HTML (the pipeline makes it plain text)."""
    account = status.get("account") or {}
    return {
        "url": status.get("url") or status.get("uri"),
        "external_id": status.get("uri") or status.get("id"),  # the post's global id; ids are per instance
        "author_id": author_of(account, instance),
        "author_name": account.get("display_name") or account.get("username"),
        "author_facts": author_facts(account, status.get("created_at")),
        "title": status.get("spoiler_text") or None,
        "raw_text": status.get("content"),
        "language": status.get("language"),
        "published_at": status.get("created_at"),
        "extra": {"replies": status.get("replies_count"), "boosts": status.get("reblogs_count"),
                  "favourites": status.get("favourites_count"),
                  "tags": [t.get("name") for t in status.get("tags") or [] if isinstance(t, dict)],
                  **({"in_reply_to": status["in_reply_to_id"]} if status.get("in_reply_to_id") else {})},
    }


class MastodonSpider(ApiSpider):
    name = "mastodon"
    kind = "mastodon"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.what, self.subject, self.status_id = page_kind(self.start_url)
        page = urlsplit(self.start_url)
        self.instance = page.netloc
        self.default_api_base = f"{page.scheme}://{page.netloc}"

    def auth_headers(self) -> dict[str, str]:
        token = self.creds.get("access_token")
        return {"Authorization": f"Bearer {token}"} if token else {}

    def failure_reason(self, status: int, body: bytes) -> str:
        if status in (401, 422) and not self.creds.get("access_token"):
            return f"HTTP {status}: {TOKEN_HELP}"
        if status in (401, 403):
            return (f"HTTP {status}: the instance refused the access token in "
                    f"{self.creds.variables['access_token']} (expired, revoked or without read scope)")
        return super().failure_reason(status, body)

    def first_url(self) -> str:
        if self.what == "tag":
            return self.api_url(f"/api/v1/timelines/tag/{quote(self.subject)}", limit=PER_PAGE)
        if self.what == "public":
            return self.api_url("/api/v1/timelines/public", limit=PER_PAGE,
                                local="true" if self.subject == "local" else None)
        if self.what == "account":
            return self.api_url("/api/v1/accounts/lookup", acct=self.subject)
        return self.api_url(f"/api/v1/statuses/{self.status_id}")

    def first_callback(self) -> Any:
        return {"account": self.parse_account, "status": self.parse_status}.get(self.what, self.parse)

    def statuses(self, response: Response, data: Any) -> list[Any]:
        """The items of a page of statuses; boosts are counted and left out, an own account's reply rides on the
        status it answers (``in_reply_to_id``)."""
        if not isinstance(data, list) or any(not isinstance(s, dict) or "id" not in s for s in data):
            self.shape_changed(response, "a timeline is not a JSON array of statuses")
        posts = []
        for status in data:
            if status.get("reblog"):
                self.stat("boosts_skipped")
                continue
            if not str(status.get("content") or "").strip():  # a picture or a poll alone: no words to read
                self.stat("no_text")
                continue
            fields = status_fields(status, self.instance)
            posts.append(Post(str(status["id"]), fields, self.is_own(fields["author_id"]),
                              status.get("in_reply_to_id")))
        return self.voices(posts)

    def parse(self, response: Response) -> Iterator[Any]:
        """A timeline page (a tag's or an account's): its statuses, then the ``Link`` header's next page."""
        data = self.json_page(response)
        if data is None:
            return
        items = self.statuses(response, data)
        yield from items
        following = self.next_link(response)
        # an empty page ends the timeline; a page of boosts only does not (its next page may hold posts)
        if following and (self.keep_paging(response, items) if items else data):
            request = self.request(following)
            if request is not None:
                yield request

    def parse_account(self, response: Response) -> Iterator[Any]:
        data = self.json_page(response)
        if data is None:
            return
        if not isinstance(data, dict) or not data.get("id"):
            self.shape_changed(response, "accounts/lookup gave no account id")
        request = self.request(self.api_url(f"/api/v1/accounts/{data['id']}/statuses", limit=PER_PAGE,
                                            exclude_reblogs="true"))
        if request is not None:
            yield request

    def parse_status(self, response: Response) -> Iterator[Any]:
        """The status itself, then its thread (``/context``: the posts it answers and the answers to it)."""
        data = self.json_page(response)
        if data is None:
            return
        yield from self.statuses(response, [data])
        request = self.request(self.api_url(f"/api/v1/statuses/{self.status_id}/context"),
                               callback=self.parse_context)
        if request is not None:
            yield request

    def parse_context(self, response: Response) -> Iterator[Any]:
        data = self.json_page(response)
        if data is None:
            return
        if not isinstance(data, dict) or not all(isinstance(data.get(k), list) for k in ("ancestors", "descendants")):
            self.shape_changed(response, "a status context without ancestors and descendants lists")
        yield from self.statuses(response, [*data["ancestors"], *data["descendants"]])
