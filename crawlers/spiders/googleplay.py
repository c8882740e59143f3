"""Google Play reviews through the web store's own endpoint: ``POST /_/PlayStoreUi/data/batchexecute`` with rpc
``UsvDTd``, newest first, 150 a call, per language and country (``hl``, ``gl`` of the app page's URL: reviews
differ by country), paged by the token each reply carries.

The reply is ``)]}'`` then JSON envelopes; the ``wrb.fr``/``UsvDTd`` one holds the payload as a JSON string:
``payload[0]`` the reviews, ``payload[1][1]`` the next token. A review ``r``: ``r[0]`` id, ``r[1][0]`` display name,
``r[2]`` stars, ``r[4]`` text, ``r[5]`` ``[seconds, nanos]``, ``r[6]`` thumbs-up, ``r[7]`` the developer's reply
``[name, text, [seconds, nanos]]``, ``r[9][0]`` the Google account id, ``r[10]`` the app version.

The author is the account id, never the display name ("A Google user" is shared by many). A page is identified
by its URL alone (the frontier, the owed pages): the app, the token and the page size ride in the URL's
fragment, which is never sent; ``make_request`` turns them into the POST body.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import scrapy
from scrapy.http import Response

from crawlers.spiders.api import ApiSpider, Post
from nps.record import company_reply

RPC = "UsvDTd"
PATH = "/_/PlayStoreUi/data/batchexecute"
PER_CALL = 150
NEWEST = 2  # the endpoint's sort order: 1 most relevant, 2 newest, 3 rating


def app_page(url: str) -> tuple[str, str | None, str | None]:
    """(app id, hl, gl) of a Play Store app page URL; ValueError when it names no app."""
    query = parse_qs(urlsplit(url).query)
    app = (query.get("id") or [""])[0]
    if not app:
        raise ValueError(f"{url} is not a Google Play app page: expected "
                         "https://play.google.com/store/apps/details?id=APP&hl=LANG&gl=COUNTRY")
    return app, next(iter(query.get("hl", [])), None), next(iter(query.get("gl", [])), None)


def request_body(app: str, token: str | None, count: int = PER_CALL) -> str:
    """The form body (``f.req``) of one reviews call: newest first, COUNT reviews, after TOKEN."""
    inner = [None, None, [2, NEWEST, [count, None, token], [None, None]], [app, 7]]
    envelope = [[[RPC, json.dumps(inner, separators=(",", ":")), None, "generic"]]]
    return urlencode({"f.req": json.dumps(envelope, separators=(",", ":"))})


def envelopes(body: str) -> Iterator[Any]:
    """The JSON values of a batchexecute reply: after the ``)]}'`` guard, arrays, possibly each preceded by its
    length on a line of its own (the chunked form)."""
    text = body[4:] if body.startswith(")]}'") else body
    decoder, at = json.JSONDecoder(), 0
    while at < len(text):
        while at < len(text) and (text[at].isspace() or text[at].isdigit()):
            at += 1
        if at >= len(text):
            return
        value, at = decoder.raw_decode(text, at)
        yield value


def payload(body: str) -> Any:
    """The UsvDTd payload (decoded), or None when the reply has none; ValueError for a reply that is not JSON."""
    for value in envelopes(body):
        entries = value if isinstance(value, list) else []
        for entry in entries:
            if isinstance(entry, list) and len(entry) > 2 and entry[:2] == ["wrb.fr", RPC]:
                return json.loads(entry[2]) if isinstance(entry[2], str) else None
    return None


def at(value: Any, *path: int) -> Any:
    """VALUE[path...] of nested lists, None where any step is missing."""
    for index in path:
        if not isinstance(value, list) or index >= len(value):
            return None
        value = value[index]
    return value


def moment(pair: Any) -> str | None:
    """``[seconds, nanos]`` as ISO 8601 UTC, to the microsecond (nanos 77000000 is .077)."""
    seconds, nanos = at(pair, 0), at(pair, 1) or 0
    if not isinstance(seconds, int):
        return None
    return (datetime.fromtimestamp(seconds, UTC) + timedelta(microseconds=int(nanos) // 1000)).isoformat()


def review_fields(review: list[Any], app: str, hl: str | None) -> dict[str, Any]:
    """Item fields of one review array (pure)."""
    review_id = at(review, 0)
    reply = at(review, 7)
    account = at(review, 9, 0)
    query = {"id": app, "reviewId": review_id, **({"hl": hl} if hl else {})}
    return {
        "url": f"https://play.google.com/store/apps/details?{urlencode(query)}",
        "external_id": str(review_id) if review_id else None,
        "author_id": str(account) if account else None,
        "author_name": at(review, 1, 0),
        "raw_text": at(review, 4),
        "rating": at(review, 2),
        "rating_scale": 5,
        "published_at": moment(at(review, 5)),
        "company_reply": company_reply(at(reply, 1), moment(at(reply, 2))) if reply else None,
        "app_version": at(review, 10) if isinstance(at(review, 10), str) else None,
        "extra": {"thumbs_up": at(review, 6), **({"replied_by": at(reply, 0)} if reply else {})},
    }


class GooglePlaySpider(ApiSpider):
    name = "googleplay"
    kind = "googleplay"
    default_api_base = "https://play.google.com"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app, self.hl, self.gl = app_page(self.start_url)
        self.region = self.region or (self.gl.upper() if self.gl else None)

    def page_url(self, token: str | None) -> str:
        call = self.api_url(PATH, rpcids=RPC, hl=self.hl, gl=self.gl, rt="c")
        return f"{call}#{urlencode({'app': self.app, **({'token': token} if token else {})})}"

    def first_url(self) -> str:
        return self.page_url(None)

    def make_request(self, url: str, callback: Any, meta: dict[str, Any] | None = None,
                     dont_filter: bool = False) -> scrapy.Request:
        page = parse_qs(urlsplit(url).fragment)
        body = request_body(page.get("app", [self.app])[0], next(iter(page.get("token", [])), None))
        return scrapy.Request(url, method="POST", body=body, callback=callback, errback=self.on_error,
                              meta=meta or {}, dont_filter=dont_filter,
                              headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"})

    def parse(self, response: Response) -> Iterator[Any]:
        if not self.begin_page(response):
            return
        url = response.request.url if response.request else response.url
        try:
            data = payload(response.text)
        except ValueError as exc:
            self.page_error(url, f"malformed batchexecute reply: {exc}", owed=True)
            return
        reviews = at(data, 0)
        if not isinstance(reviews, list):  # where a token promised more, no list is not "no reviews"
            asked = "after a next-page token" if "token" in parse_qs(urlsplit(url).fragment) else "on the first call"
            self.shape_changed(response, f"no review list at payload[0] of the {RPC} reply {asked}")
        if any(not isinstance(r, list) or not isinstance(at(r, 0), str) for r in reviews):
            self.shape_changed(response, "a review is not an array with its id first")
        # a review under the developer's own name is the company speaking: no item (its replies are r[7])
        items = self.voices([Post(None, fields, self.is_own(fields["author_name"]))
                             for fields in (review_fields(r, self.app, self.hl) for r in reviews)])
        yield from items
        token = at(data, 1, 1)
        if isinstance(token, str) and token and self.keep_paging(response, items):
            request = self.request(self.page_url(token))
            if request is not None:
                yield request
