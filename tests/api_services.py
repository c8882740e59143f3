"""The API services emulated on 127.0.0.1 from their real captured replies (../shared/fixtures): each handler
checks the request the way the service does (path, parameters, credential) and answers with the capture the
request asks for, with the service's paging (a token in the body, a ``Link`` header, a cursor, a page token).
Nothing is invented: the replies are the captured bytes; only which capture answers is chosen by the request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import FIXTURES, need_shared

GOOGLE_PLAY = FIXTURES / "google-play"
TRANSLATE = "com.google.android.apps.translate"
Handler = Callable[[Request], Response]


def capture(path: Path) -> bytes:
    return need_shared(path).read_bytes()


def play_token(path: Path) -> str:
    """The next-page token a captured Google Play reply carries (payload[1][1])."""
    text = capture(path).decode("utf-8")
    envelope = json.loads(text[text.index("\n"):])
    return json.loads(envelope[0][2])[1][1]


def google_play(calls: list[dict[str, Any]]) -> Handler:
    """batchexecute for the Translate app: no token -> the initial capture, the initial page's token -> page 2;
    any other token is refused as the service does (HTTP 400). Each call's rpc, app, token, hl and gl go to CALLS."""
    pages = {None: GOOGLE_PLAY / "mradex77_translate-initial.txt",
             play_token(GOOGLE_PLAY / "mradex77_translate-initial.txt"): GOOGLE_PLAY / "mradex77_translate-page2.txt"}

    def handler(request: Request) -> Response:
        form = parse_qs(request.get_data(as_text=True))
        envelope = json.loads(form["f.req"][0])
        rpc, inner = envelope[0][0][0], json.loads(envelope[0][0][1])
        token, app = inner[2][2][2], inner[3][0]
        calls.append({"rpc": rpc, "app": app, "token": token, "hl": request.args.get("hl"),
                      "gl": request.args.get("gl"), "method": request.method})
        if request.method != "POST" or rpc != "UsvDTd" or app != TRANSLATE or token not in pages:
            return Response(")]}'\n\n[[\"er\",null,null,null,null,400]]", status=400)
        return Response(capture(pages[token]), content_type="application/json; charset=utf-8")

    return handler


def serve(server: HTTPServer, path: str, handler: Handler) -> None:
    server.expect_request(path).respond_with_handler(handler)


def first_refused(handler: Handler, status: int, times: int = 1, body: bytes = b"",
                  headers: dict[str, str] | None = None) -> Handler:
    """HANDLER, but its first TIMES calls answer STATUS (a rate limit, a refused credential, a spent quota)."""
    left = [times]

    def refusing(request: Request) -> Response:
        if left[0] > 0:
            left[0] -= 1
            return Response(body, status=status, headers=headers or {}, content_type="application/json")
        return handler(request)

    return refusing


MASTODON = FIXTURES / "mastodon"
# The #ichbinhanna pages kept from the cassette, by the max_id each was asked with, and their Link values
# (SOURCE): the first page was dropped there, so the first call (no max_id) is answered with page 2.
HANNA_PAGES: dict[str | None, tuple[str, str, str]] = {
    None: ("page2", "114347272189573465", "114626725870098652"),
    "114347272189573465": ("page3", "113958523521356248", "114347262471463480"),
    "113958523521356248": ("page4", "113755037774745875", "113957878152925118"),
}
HANNA_END = "113755037774745875"  # page 4's next: the timeline has nothing older


def mastodon_tag(server: HTTPServer, seen: list[dict[str, str | None]], token: str | None = None) -> Handler:
    """The #ichbinhanna tag timeline, paged by max_id with the instance's Link header (written with this server's
    host, as an instance writes its own); past page 4 an empty page. With TOKEN the instance refuses a call
    without ``Authorization: Bearer TOKEN`` (401), as an instance with public timelines closed does."""

    def link(max_id: str, min_id: str) -> str:
        url = server.url_for("/api/v1/timelines/tag/ichbinhanna") + "?limit=40&local=FALSE"
        return f'<{url}&max_id={max_id}&only_media=FALSE>; rel="next", <{url}&min_id={min_id}&only_media=FALSE>; ' \
               'rel="prev"'

    def handler(request: Request) -> Response:
        seen.append({"max_id": request.args.get("max_id"), "authorization": request.headers.get("Authorization")})
        if token is not None and request.headers.get("Authorization") != f"Bearer {token}":
            return Response(b'{"error":"This method requires an authenticated user"}', status=401,
                            content_type="application/json")
        max_id = request.args.get("max_id")
        if max_id == HANNA_END:
            return Response(b"[]", content_type="application/json")
        if max_id not in HANNA_PAGES:
            return Response(b'{"error":"Record not found"}', status=404, content_type="application/json")
        page, next_id, prev_id = HANNA_PAGES[max_id]
        body = capture(MASTODON / f"mastodon.social_timelines_tag_ichbinhanna_limit40_{page}.json")
        return Response(body, content_type="application/json", headers={"Link": link(next_id, prev_id)})

    return handler


def hanna_statuses() -> list[dict[str, Any]]:
    return [s for page in ("page2", "page3", "page4") for s in
            json.loads(capture(MASTODON / f"mastodon.social_timelines_tag_ichbinhanna_limit40_{page}.json"))]


YOUTUBE = FIXTURES / "youtube-comments"
VIDEO = "F1UP7wRCPH8"
MORE_REPLIES = "UgwI_ylXVnzPS8Q-oAV4AaABAg"  # the thread of page 1 with totalReplyCount 2 and no replies included


def youtube_error(status: int, reason: str, message: str) -> Response:
    """An error in the Data API's documented envelope."""
    body = {"error": {"code": status, "message": message,
                      "errors": [{"message": message, "domain": "youtube.quota" if "quota" in reason.lower()
                                  else "global", "reason": reason}]}}
    return Response(json.dumps(body), status=status, content_type="application/json")


def youtube(key: str, calls: list[dict[str, Any]], quota: int | None = None) -> Handler:
    """commentThreads.list for video F1UP7wRCPH8 and comments.list for its thread with more replies than included,
    each paged by pageToken. The captures hold one real page of the video's threads with a nextPageToken; the
    page that token asks for is answered with the captured last page of threads (comment_threads_multi: a real
    reply without nextPageToken), and the thread's replies with the two captured comments.list pages. The key
    must come as X-Goog-Api-Key (400 keyInvalid otherwise); after QUOTA calls every call is 403 quotaExceeded."""
    first = json.loads(capture(YOUTUBE / "pyyoutube_comment_threads_comment_threads_by_video_paged_1.json"))
    replies_1 = json.loads(capture(YOUTUBE / "pyyoutube_comments_comments_by_parent_paged_1.json"))
    threads = {None: "pyyoutube_comment_threads_comment_threads_by_video_paged_1.json",
               first["nextPageToken"]: "pyyoutube_comment_threads_comment_threads_multi.json"}
    replies = {None: "pyyoutube_comments_comments_by_parent_paged_1.json",
               replies_1["nextPageToken"]: "pyyoutube_comments_comments_by_parent_paged_2.json"}

    def handler(request: Request) -> Response:
        calls.append({"path": request.path, **request.args, "header_key": request.headers.get("X-Goog-Api-Key")})
        if request.headers.get("X-Goog-Api-Key") != key:
            return youtube_error(400, "keyInvalid", "API key not valid. Please pass a valid API key.")
        if quota is not None and len(calls) > quota:
            return youtube_error(403, "quotaExceeded", "The request cannot be completed because you have exceeded "
                                 "your quota.")
        token = request.args.get("pageToken")
        if request.path.endswith("/commentThreads") and request.args.get("videoId") == VIDEO and token in threads:
            return Response(capture(YOUTUBE / threads[token]), content_type="application/json")
        if request.path.endswith("/comments") and request.args.get("parentId") == MORE_REPLIES and token in replies:
            return Response(capture(YOUTUBE / replies[token]), content_type="application/json")
        return youtube_error(400, "invalidPageToken", "The request specifies an invalid page token.")

    return handler


def youtube_comment_ids() -> set[str]:
    """Every comment id of the captures the emulated service serves for the video."""
    ids = set()
    for name in ("comment_threads_comment_threads_by_video_paged_1", "comment_threads_comment_threads_multi"):
        page = json.loads(capture(YOUTUBE / f"pyyoutube_{name}.json"))
        ids |= {t["snippet"]["topLevelComment"]["id"] for t in page["items"]}
    for name in ("comments_comments_by_parent_paged_1", "comments_comments_by_parent_paged_2"):
        ids |= {c["id"] for c in json.loads(capture(YOUTUBE / f"pyyoutube_{name}.json"))["items"]}
    return ids


BLUESKY = FIXTURES / "bluesky"


class BlueskyService:
    """A PDS for one account: createSession with the handle and app password gives tokens; searchPosts for
    #rstats needs the current access token and pages by cursor: the first call is the captured
    ``q=#rstats&limit=100`` reply (cursor "100"), ``cursor=100`` is answered with the captured last page (one
    post, no cursor) of the filtered search. With EXPIRE_AFTER the access token expires after that many searches
    (400 ExpiredToken, as the service says it) until refreshSession is called with the refresh token."""

    def __init__(self, handle: str, password: str, expire_after: int | None = None) -> None:
        self.handle, self.password, self.expire_after = handle, password, expire_after
        self.sessions = self.refreshes = self.searches = 0
        self.access = self.refresh = ""
        self.calls: list[dict[str, Any]] = []

    def issue(self) -> dict[str, str]:
        self.access, self.refresh = f"access-{self.sessions}-{self.refreshes}", f"refresh-{self.sessions}"
        return {"accessJwt": self.access, "refreshJwt": self.refresh, "handle": self.handle,
                "did": "did:plc:emulatedsession0000000"}

    def __call__(self, request: Request) -> Response:
        self.calls.append({"path": request.path, **request.args, "authorization": request.headers.get("Authorization")})
        if request.path.endswith("createSession"):
            body = json.loads(request.get_data(as_text=True) or "{}")
            if (body.get("identifier"), body.get("password")) != (self.handle, self.password):
                return error(401, "AuthenticationRequired", "Invalid identifier or password")
            self.sessions += 1
            return Response(json.dumps(self.issue()), content_type="application/json")
        if request.path.endswith("refreshSession"):
            if request.headers.get("Authorization") != f"Bearer {self.refresh}":
                return error(400, "ExpiredToken", "Token has expired")
            self.refreshes += 1
            self.expire_after = None
            return Response(json.dumps(self.issue()), content_type="application/json")
        if request.headers.get("Authorization") != f"Bearer {self.access}" or not self.access:
            return error(401, "AuthMissing", "Authentication Required")
        if self.expire_after is not None and self.searches >= self.expire_after:
            return error(400, "ExpiredToken", "Token has expired")
        self.searches += 1
        pages = {None: "atrrr_searchPosts_hashtag-rstats_limit100.json",
                 "100": "atrrr_searchPosts_filtered_sort-top.json"}
        cursor = request.args.get("cursor")
        if request.args.get("q") != "#rstats" or cursor not in pages:
            return error(400, "InvalidRequest", "Invalid cursor")
        return Response(capture(BLUESKY / pages[cursor]), content_type="application/json")


def error(status: int, name: str, message: str) -> Response:
    """An XRPC error reply."""
    return Response(json.dumps({"error": name, "message": message}), status=status, content_type="application/json")


def bluesky_uris() -> set[str]:
    return {p["uri"] for name in ("atrrr_searchPosts_hashtag-rstats_limit100.json",
                                  "atrrr_searchPosts_filtered_sort-top.json")
            for p in json.loads(capture(BLUESKY / name))["posts"]}
