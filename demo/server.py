"""The demo sites: one real HTTP server on 127.0.0.1 serving the generated content in the formats crawlers read.

Each format copies the shape of the real service (checked against captured responses in ../shared/fixtures):
schema.org JSON-LD review pages with ``<link rel="next">``, a Trustpilot-style page with ``__NEXT_DATA__``, the
iTunes customer-reviews JSON feed (10 pages at most), a Discourse JSON API, an RSS 2.0 feed, and a robots.txt
that disallows ``/private/``. Everything is listed newest first, so an incremental crawl can stop early.
The standard library's threading server is enough for a loopback demo and adds no dependency.
"""

from __future__ import annotations

import html
import json
import math
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from xml.etree import ElementTree as ET

from demo.brands import BRANDS, Brand
from demo.generate import BLOG_SOURCE, FORUM_SOURCE, source_name
from demo.model import APPSTORE_MAX_PAGES, APPSTORE_PAGE_SIZE, DemoContent, Doc, Topic

TRUSTPILOT_PAGE_SIZE = 20
SCHEMAORG_PAGE_SIZE = 20
LATEST_PAGE_SIZE = 30  # Discourse's /latest.json page
SEARCH_PAGE_SIZE = 50  # Discourse's full-page search
ROBOTS_TXT = "User-agent: *\nDisallow: /private/\nAllow: /\n"

Response = tuple[int, str, bytes]  # status, content type, body


def _newest_first(docs: list[Doc]) -> list[Doc]:
    return sorted(docs, key=lambda d: (d.published_at, d.id), reverse=True)


def _zulu(at: datetime) -> str:
    """Trustpilot's timestamps: UTC with milliseconds and a Z."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _page(query: dict[str, list[str]], first: int = 1) -> int | None:
    """The ?page=N of a request; None when it is not a whole number >= first."""
    raw = query.get("page", [str(first)])[0]
    return int(raw) if raw.isdigit() and int(raw) >= first else None


def _script_json(data: Any) -> str:
    """JSON safe inside a <script> element (no "</" that would end it early)."""
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


class Site:
    """The generated content indexed the way the sites list it; answers a path with a response (pure, no I/O)."""

    def __init__(self, content: DemoContent, base_url: str, cutoff: datetime | None = None) -> None:
        """CUTOFF shows the sites as they were at that moment (what was published by then), so that a demo can
        crawl twice and show an incremental crawl picking up only what is new."""
        self.content = content
        self.base = base_url.rstrip("/")
        self.now = cutoff or content.reference
        visible = [doc for doc in content.docs if doc.published_at <= self.now]
        by_source: dict[str, list[Doc]] = {}
        for doc in visible:
            by_source.setdefault(doc.source, []).append(doc)
        self.by_source = {name: _newest_first(docs) for name, docs in by_source.items()}
        # a site's average rating is the same on every page: computed once, not per request
        self.mean_stars = {name: sum(d.stars or 1 for d in docs) / len(docs) for name, docs in by_source.items()}
        self.by_id = {doc.id: doc for doc in visible}
        self.posts: dict[int, list[Doc]] = {}
        for doc in self.by_source.get(FORUM_SOURCE, [])[::-1]:
            if doc.topic_id is not None:
                self.posts.setdefault(doc.topic_id, []).append(doc)
        topics = [replace(t, last_posted_at=self.posts[t.id][-1].published_at)
                  for t in content.topics if t.id in self.posts]
        self.topics = sorted(topics, key=lambda t: (t.last_posted_at, t.id), reverse=True)
        self.topic_by_id = {t.id: t for t in topics}
        self.posts_by_user: dict[str, list[Doc]] = {}
        for posts in self.posts.values():
            for doc in posts:
                self.posts_by_user.setdefault(doc.author.id, []).append(doc)
        self.user_ids = {name: i for i, name in enumerate(sorted(self.posts_by_user), 1)}
        self.routes: list[tuple[re.Pattern[str], Callable[..., Response]]] = [
            (re.compile(r"/"), self.index),
            (re.compile(r"/robots\.txt"), self.robots),
            (re.compile(r"/private/.*"), self.private),
            (re.compile(r"/shop/(?P<slug>[\w-]+)/reviews"), self.schemaorg_page),
            (re.compile(r"/shop/(?P<slug>[\w-]+)/reviews/(?P<doc_id>[\w-]+)"), self.schemaorg_review),
            (re.compile(r"/review/(?P<domain>[\w.-]+)"), self.trustpilot_page),
            (re.compile(r"/reviews/(?P<doc_id>[0-9a-f]{24})"), self.trustpilot_review),
            (re.compile(r"/(?:(?:[a-z]{2})/)?rss/customerreviews(?:/page=(?P<page>\d+))?/id=(?P<app_id>\d+)"
                        r"(?:/sortby=mostrecent)?/json"), self.appstore_feed),
            # the forum lives under /forum; its API also answers at the root, where clients that assume a
            # Discourse at the root of its host (the usual install) look for topics
            (re.compile(r"(?:/forum)?/latest\.json"), self.forum_latest),
            (re.compile(r"(?:/forum)?/t/(?:[\w-]+/)?(?P<topic_id>\d+)\.json"), self.forum_topic),
            (re.compile(r"(?:/forum)?/t/(?:[\w-]+/)?(?P<topic_id>\d+)(?:/\d+)?"), self.forum_topic_html),
            (re.compile(r"(?:/forum)?/search\.json"), self.forum_search),
            (re.compile(r"(?:/forum)?/u/(?P<username>[\w.-]+)\.json"), self.forum_user),
            (re.compile(r"/blog/feed\.xml"), self.blog_feed),
            (re.compile(r"/blog/(?P<guid>[\w-]+)"), self.blog_post),
        ]

    # -- dispatch ---------------------------------------------------------------------------------------------
    def respond(self, target: str) -> Response:
        parts = urlsplit(target)
        query = parse_qs(parts.query)
        for pattern, handler in self.routes:
            match = pattern.fullmatch(parts.path)
            if match:
                return handler(query, **match.groupdict())
        return self.not_found(f"no page at {parts.path}")

    @staticmethod
    def not_found(why: str) -> Response:
        return 404, "text/plain; charset=utf-8", f"404 not found: {why}\n".encode()

    @staticmethod
    def json_response(data: Any) -> Response:
        return 200, "application/json; charset=utf-8", json.dumps(data, ensure_ascii=False).encode()

    @staticmethod
    def html_response(title: str, body: str, head: str = "") -> Response:
        page = (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>{head}'
                f"</head>\n<body>\n{body}\n</body></html>\n")
        return 200, "text/html; charset=utf-8", page.encode()

    @staticmethod
    def brand_by(field: str, value: object) -> Brand | None:
        """The brand whose FIELD (slug, domain, app_id: how each site names it) is VALUE."""
        return next((b for b in BRANDS if getattr(b, field) == value), None)

    # -- plain pages ------------------------------------------------------------------------------------------
    def index(self, query: dict[str, list[str]]) -> Response:
        links = []
        for b in BRANDS:
            links += [f"/shop/{b.slug}/reviews", f"/review/{b.domain}",
                      f"/us/rss/customerreviews/id={b.app_id}/sortby=mostrecent/json"]
        links += ["/forum/latest.json", "/blog/feed.xml"]
        items = "\n".join(f'<li><a href="{self.base}{link}">{html.escape(link)}</a></li>' for link in links)
        return self.html_response("organic-nps demo sites", f"<h1>organic-nps demo sites</h1>\n<ul>\n{items}\n</ul>")

    def robots(self, query: dict[str, list[str]]) -> Response:
        return 200, "text/plain; charset=utf-8", ROBOTS_TXT.encode()

    def private(self, query: dict[str, list[str]]) -> Response:
        return self.html_response("private", "<p>Crawlers that obey robots.txt never see this page.</p>")

    # -- schema.org JSON-LD -----------------------------------------------------------------------------------
    def schemaorg_page(self, query: dict[str, list[str]], slug: str) -> Response:
        b = self.brand_by("slug", slug)
        page = _page(query)
        if b is None or page is None:
            return self.not_found("unknown shop or page")
        source = source_name("schemaorg", b)
        docs = self.by_source.get(source, [])
        pages = max(1, math.ceil(len(docs) / SCHEMAORG_PAGE_SIZE))
        if page > pages:
            return self.not_found(f"page {page} of {pages}")
        shown = docs[(page - 1) * SCHEMAORG_PAGE_SIZE : page * SCHEMAORG_PAGE_SIZE]
        url = f"{self.base}/shop/{slug}/reviews"
        subject = {
            "@context": "https://schema.org",
            "@type": b.schema_type,
            "@id": url,
            "name": b.name if b.schema_type != "Product" else f"{b.name} Abo",
            "url": url,
            "aggregateRating": {
                "@type": "AggregateRating",
                "ratingValue": round(self.mean_stars.get(source, 1.0) * b.best_rating / 5, 2),
                "reviewCount": len(docs),
                "bestRating": b.best_rating,
                "worstRating": 1,
            },
            "review": [self._jsonld_review(b, d) for d in shown],
        }
        if b.schema_type == "Product":
            subject["brand"] = {"@type": "Brand", "name": b.name}
        head = f'\n<link rel="canonical" href="{url}?page={page}">'
        if page > 1:
            head += f'\n<link rel="prev" href="{url}?page={page - 1}">'
        if page < pages:
            head += f'\n<link rel="next" href="{url}?page={page + 1}">'
        head += f'\n<script type="application/ld+json">{_script_json(subject)}</script>\n'
        body = f"<h1>{html.escape(b.name)}: reviews</h1>\n" + "\n".join(self._review_html(b, d) for d in shown)
        return self.html_response(f"{b.name} reviews, page {page}", body, head)

    def schemaorg_review(self, query: dict[str, list[str]], slug: str, doc_id: str) -> Response:
        b = self.brand_by("slug", slug)
        doc = self.by_id.get(doc_id)
        if b is None or doc is None or doc.source != source_name("schemaorg", b):
            return self.not_found("unknown review")
        data = {"@context": "https://schema.org", **self._jsonld_review(b, doc),
                "itemReviewed": {"@type": b.schema_type, "name": b.name}}
        head = f'\n<script type="application/ld+json">{_script_json(data)}</script>\n'
        return self.html_response(doc.title or b.name, self._review_html(b, doc), head)

    def _rating(self, b: Brand, d: Doc) -> int:
        stars = d.stars or 1
        return stars * 2 if b.best_rating == 10 else stars

    def _jsonld_review(self, b: Brand, d: Doc) -> dict[str, Any]:
        return {
            "@type": "Review",
            # a relative @id (the review's own id): stable whatever port the demo runs on, so the id a crawler
            # stores is the truth's id; "url" is where the review can be read
            "@id": d.id,
            "url": f"{self.base}/shop/{b.slug}/reviews/{d.id}",
            "author": {"@type": "Person", "name": d.author.name},
            "datePublished": d.published_at.isoformat(),
            "inLanguage": d.lang,
            "name": d.title,
            "reviewBody": d.text,
            "reviewRating": {"@type": "Rating", "ratingValue": self._rating(b, d), "bestRating": b.best_rating,
                             "worstRating": 1},
        }

    def _review_html(self, b: Brand, d: Doc) -> str:
        return (f'<article class="review" lang="{d.lang}"><h2>{html.escape(d.title or "")}</h2>'
                f"<p class=\"meta\">{html.escape(d.author.name)}, {d.published_at:%Y-%m-%d}, "
                f"{self._rating(b, d)}/{b.best_rating}</p><p>{html.escape(d.text)}</p></article>")

    # -- Trustpilot-style --------------------------------------------------------------------------------------
    def trustpilot_page(self, query: dict[str, list[str]], domain: str) -> Response:
        b = self.brand_by("domain", domain)
        page = _page(query)
        if b is None or page is None:
            return self.not_found("unknown business or page")
        docs = self.by_source.get(source_name("trustpilot", b), [])
        pages = max(1, math.ceil(len(docs) / TRUSTPILOT_PAGE_SIZE))
        if page > pages:
            return self.not_found(f"page {page} of {pages}")
        shown = docs[(page - 1) * TRUSTPILOT_PAGE_SIZE : page * TRUSTPILOT_PAGE_SIZE]
        stars = self.mean_stars.get(source_name("trustpilot", b), 1.0)
        data = {
            "props": {
                "pageProps": {
                    "businessUnit": {
                        "id": f"{b.app_id:024x}",
                        "displayName": b.name,
                        "identifyingName": b.domain,
                        "numberOfReviews": len(docs),
                        "trustScore": round(stars, 1),
                        "stars": round(stars * 2) / 2,
                        "websiteUrl": f"https://www.{b.domain}",
                    },
                    "reviews": [self._trustpilot_review(d) for d in shown],
                    "filters": {
                        "pagination": {"currentPage": page, "perPage": TRUSTPILOT_PAGE_SIZE,
                                       "totalCount": len(docs), "totalPages": pages},
                    },
                }
            },
            "page": "/review/[businessUnit]",
            "query": {"businessUnit": b.domain, "page": str(page)},
        }
        head = f'\n<link rel="canonical" href="{self.base}/review/{b.domain}?page={page}">'
        if page < pages:
            head += f'\n<link rel="next" href="{self.base}/review/{b.domain}?page={page + 1}">'
        body = (f"<h1>{html.escape(b.name)} reviews</h1>\n"
                f'<script id="__NEXT_DATA__" type="application/json">{_script_json(data)}</script>')
        return self.html_response(f"{b.name} is rated on Trustpilot-style demo", body, head)

    def trustpilot_review(self, query: dict[str, list[str]], doc_id: str) -> Response:
        """One review's own page (where a Trustpilot review links to)."""
        d = self.by_id.get(doc_id)
        if d is None or d.format != "trustpilot":
            return self.not_found(f"no review {doc_id}")
        body = (f"<article lang=\"{d.lang}\"><h1>{html.escape(d.title or '')}</h1>"
                f"<p>{html.escape(d.author.name)}, {d.stars}/5</p><p>{html.escape(d.text)}</p></article>")
        return self.html_response(d.title or "review", body)

    def _trustpilot_review(self, d: Doc) -> dict[str, Any]:
        invited = d.invited
        return {
            "id": d.id,
            "filtered": False,
            "pending": False,
            "text": d.text,
            "rating": d.stars,
            "labels": {
                "merged": None,
                "verification": {
                    "isVerified": invited,
                    "createdDateTime": _zulu(d.published_at),
                    "reviewSourceName": "BusinessGeneratedLink" if invited else "Organic",
                    "verificationSource": "invitation" if invited else "none",
                    "verificationLevel": "verified" if invited else "not-verified",
                    "hasDachExclusion": False,
                },
            },
            "title": d.title,
            "likes": 0,
            "dates": {"experiencedDate": d.published_at.strftime("%Y-%m-%dT00:00:00.000Z"),
                      "publishedDate": _zulu(d.published_at), "updatedDate": None},
            "report": None,
            "hasUnhandledReports": False,
            "consumer": {
                "id": d.author.id,
                "displayName": d.author.name,
                "imageUrl": "",
                "numberOfReviews": d.author.review_count,
                "countryCode": d.author.country,
                "hasImage": False,
                "isVerified": d.author.verified,
            },
            "reply": None if d.reply is None else {
                "message": d.reply,
                "publishedDate": _zulu(d.reply_at or d.published_at),
                "updatedDate": None,
            },
            "consumersReviewCountOnSameDomain": 1,
            "consumersReviewCountOnSameLocation": None,
            "productReviews": [],
            "language": d.lang,
            "location": None,
        }

    # -- iTunes customer-reviews JSON feed --------------------------------------------------------------------
    def appstore_feed(self, query: dict[str, list[str]], app_id: str, page: str | None = None) -> Response:
        b = self.brand_by("app_id", int(app_id)) if app_id.isdigit() else None
        number = int(page) if page else _page(query)
        if b is None or number is None:
            return self.not_found("unknown app or page")
        docs = self.by_source.get(source_name("appstore", b), [])[: APPSTORE_PAGE_SIZE * APPSTORE_MAX_PAGES]
        shown = docs[(number - 1) * APPSTORE_PAGE_SIZE : number * APPSTORE_PAGE_SIZE]
        last = max(1, min(APPSTORE_MAX_PAGES, math.ceil(len(docs) / APPSTORE_PAGE_SIZE)))

        def link(rel: str, n: int) -> dict[str, Any]:
            return {"attributes": {"rel": rel, "href": f"{self.base}/us/rss/customerreviews/page={n}/id={app_id}"
                                                       "/sortby=mostrecent/json"}}

        feed_url = f"{self.base}/us/rss/customerreviews/id={app_id}/sortby=mostrecent/json"
        feed: dict[str, Any] = {
            "author": {"name": {"label": "iTunes Store"}, "uri": {"label": "http://www.apple.com/itunes/"}},
            "updated": {"label": self.now.isoformat()},
            "rights": {"label": "Copyright 2008 Apple Inc."},
            "title": {"label": "iTunes Store: Customer Reviews"},
            "icon": {"label": "http://itunes.apple.com/favicon.ico"},
            "link": [
                {"attributes": {"rel": "alternate", "type": "text/html", "href": f"{self.base}/"}},
                {"attributes": {"rel": "self", "href": feed_url}},
                link("first", 1),
                link("last", last),
                link("previous", max(1, number - 1)),
                link("next", min(last, number + 1)),
            ],
            "id": {"label": feed_url},
        }
        if shown:  # past the last page the real feed has no "entry" at all
            feed["entry"] = [self._appstore_entry(b, d) for d in shown]
        return self.json_response({"feed": feed})

    def _appstore_entry(self, b: Brand, d: Doc) -> dict[str, Any]:
        return {
            "author": {"uri": {"label": f"https://itunes.apple.com/us/reviews/{d.author.id}"},
                       "name": {"label": d.author.name}, "label": ""},
            "updated": {"label": d.published_at.isoformat()},
            "im:rating": {"label": str(d.stars)},
            "im:version": {"label": f"4.{d.published_at.isocalendar().week % 10}.0"},
            "id": {"label": d.id},
            "title": {"label": d.title},
            "content": {"label": d.text, "attributes": {"type": "text"}},
            "link": {"attributes": {"rel": "related",
                                    "href": f"{self.base}/us/review?id={b.app_id}&type=Purple%20Software"}},
            "im:voteSum": {"label": "0"},
            "im:contentType": {"attributes": {"term": "Application", "label": "Application"}},
            "im:voteCount": {"label": "0"},
        }

    # -- Discourse JSON API -----------------------------------------------------------------------------------
    def forum_latest(self, query: dict[str, list[str]]) -> Response:
        page = _page(query, first=0)  # Discourse counts pages from 0
        if page is None:
            return self.not_found("bad page")
        shown = self.topics[page * LATEST_PAGE_SIZE : (page + 1) * LATEST_PAGE_SIZE]
        topic_list: dict[str, Any] = {
            "can_create_topic": False,
            "draft": None,
            "draft_key": "new_topic",
            "draft_sequence": None,
            "per_page": LATEST_PAGE_SIZE,
            "topics": [self._topic_summary(t) for t in shown],
        }
        if (page + 1) * LATEST_PAGE_SIZE < len(self.topics):
            topic_list["more_topics_url"] = f"/forum/latest.json?page={page + 1}"
        posters = {p.author.id for t in shown for p in self.posts.get(t.id, [])}
        users = [{"id": self.user_ids[u], "username": u, "name": u,
                  "avatar_template": "/forum/letter_avatar/{size}.png"} for u in sorted(posters)]
        return self.json_response({"users": users, "topic_list": topic_list})

    def _topic_summary(self, t: Topic) -> dict[str, Any]:
        posts = self.posts.get(t.id, [])
        return {
            "id": t.id,
            "title": t.title,
            "fancy_title": html.escape(t.title),
            "slug": t.slug,
            "posts_count": len(posts),
            "reply_count": max(0, len(posts) - 1),
            "highest_post_number": len(posts),
            "image_url": None,
            "created_at": t.created_at.isoformat(),
            "last_posted_at": t.last_posted_at.isoformat(),
            "bumped": True,
            "bumped_at": t.last_posted_at.isoformat(),
            "unseen": False,
            "pinned": False,
            "excerpt": html.escape(posts[0].text[:200]) if posts else "",
            "visible": True,
            "closed": False,
            "archived": False,
            "views": 10 * len(posts),
            "like_count": 0,
            "has_best_of": False,
            "archetype": "regular",
            "last_poster_username": posts[-1].author.id if posts else None,
            "category_id": 1,
            "posters": [{"extras": None, "description": "Poster", "user_id": self.user_ids[p.author.id]}
                        for p in posts[:5]],
        }

    def _post(self, d: Doc, t: Topic) -> dict[str, Any]:
        cooked = "".join(f"<p>{html.escape(s)}</p>" for s in d.text.split("\n"))
        return {
            "id": int(d.id),
            "name": d.author.name,
            "username": d.author.id,
            "avatar_template": "/forum/letter_avatar/{size}.png",
            "created_at": d.published_at.isoformat(),
            "cooked": cooked,
            "post_number": d.post_number,
            "post_type": 1,
            "updated_at": d.published_at.isoformat(),
            "reply_count": 0,
            "reply_to_post_number": None,
            "topic_id": t.id,
            "topic_slug": t.slug,
            "display_username": d.author.name,
            "user_id": self.user_ids[d.author.id],
            "trust_level": 1,
            "staff": False,
            "moderator": False,
            "hidden": False,
            "deleted_at": None,
        }

    def forum_topic(self, query: dict[str, list[str]], topic_id: str) -> Response:
        t = self.topic_by_id.get(int(topic_id))
        if t is None:
            return self.not_found(f"no topic {topic_id}")
        posts = self.posts.get(t.id, [])
        return self.json_response({
            "post_stream": {"posts": [self._post(p, t) for p in posts], "stream": [int(p.id) for p in posts]},
            **{k: v for k, v in self._topic_summary(t).items() if k not in ("posters", "excerpt")},
            "details": {"created_by": {"username": posts[0].author.id if posts else None}},
        })

    def forum_topic_html(self, query: dict[str, list[str]], topic_id: str) -> Response:
        t = self.topic_by_id.get(int(topic_id))
        if t is None:
            return self.not_found(f"no topic {topic_id}")
        body = "\n".join(f'<div class="post" id="post_{p.post_number}"><b>{html.escape(p.author.id)}</b> '
                         f"{p.published_at:%Y-%m-%d %H:%M}<p>{html.escape(p.text)}</p></div>"
                         for p in self.posts.get(t.id, []))
        return self.html_response(t.title, f"<h1>{html.escape(t.title)}</h1>\n{body}")

    def forum_search(self, query: dict[str, list[str]]) -> Response:
        term = query.get("q", [""])[0].strip()
        page = _page(query)
        if not term or page is None:
            return 400, "application/json; charset=utf-8", b'{"errors": ["search needs ?q= and page >= 1"]}'
        needle = term.casefold()
        hits = [d for d in self.by_source.get(FORUM_SOURCE, [])
                if d.topic_id is not None
                and (needle in d.text.casefold() or needle in self.topic_by_id[d.topic_id].title.casefold())]
        shown = hits[(page - 1) * SEARCH_PAGE_SIZE : page * SEARCH_PAGE_SIZE]
        topics = {d.topic_id: self.topic_by_id[d.topic_id] for d in shown if d.topic_id is not None}
        posts = [{"id": int(d.id), "name": d.author.name, "username": d.author.id,
                  "avatar_template": "/forum/letter_avatar/{size}.png", "created_at": d.published_at.isoformat(),
                  "like_count": 0, "blurb": d.text[:200], "post_number": d.post_number, "topic_id": d.topic_id}
                 for d in shown]
        return self.json_response({
            "posts": posts,
            "topics": [self._topic_summary(t) for t in topics.values()],
            "users": [], "categories": [], "tags": [], "groups": [],
            "grouped_search_result": {
                "more_posts": None, "more_users": None, "more_categories": None, "term": term,
                "search_log_id": 1, "more_full_page_results": page * SEARCH_PAGE_SIZE < len(hits),
                "can_create_topic": False, "error": None, "post_ids": [p["id"] for p in posts],
                "user_ids": [], "topic_ids": list(topics), "category_ids": [], "tag_ids": [], "group_ids": [],
            },
        })

    def forum_user(self, query: dict[str, list[str]], username: str) -> Response:
        posts = self.posts_by_user.get(username, [])
        if not posts:
            return self.not_found(f"no user {username}")
        who = posts[0].author
        return self.json_response({"user": {
            "id": self.user_ids[username], "username": username, "name": who.name,
            "created_at": who.created_at.isoformat(),
            "last_posted_at": max(p.published_at for p in posts).isoformat(),
            "post_count": len(posts), "trust_level": 1, "location": who.country,
        }})

    # -- RSS 2.0 ----------------------------------------------------------------------------------------------
    def blog_feed(self, query: dict[str, list[str]]) -> Response:
        ET.register_namespace("dc", "http://purl.org/dc/elements/1.1/")
        rss = ET.Element("rss", {"version": "2.0"})
        channel = ET.SubElement(rss, "channel")
        docs = self.by_source.get(BLOG_SOURCE, [])
        for tag, text in (("title", "Demo consumer blog"), ("link", f"{self.base}/blog/"),
                          ("description", "Long-form experiences with shops and mobile plans"),
                          ("lastBuildDate", format_datetime(docs[0].published_at if docs else
                                                            self.now))):
            ET.SubElement(channel, tag).text = text
        for d in docs:
            item = ET.SubElement(channel, "item")
            ET.SubElement(item, "title").text = d.title
            ET.SubElement(item, "link").text = f"{self.base}/blog/{quote(d.id)}"
            ET.SubElement(item, "guid", {"isPermaLink": "false"}).text = d.id
            ET.SubElement(item, "pubDate").text = format_datetime(d.published_at)
            ET.SubElement(item, "{http://purl.org/dc/elements/1.1/}creator").text = d.author.name
            ET.SubElement(item, "description").text = f"<p>{html.escape(d.text)}</p>"
        body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(rss, encoding="utf-8", xml_declaration=False)
        return 200, "application/rss+xml; charset=utf-8", body

    def blog_post(self, query: dict[str, list[str]], guid: str) -> Response:
        d = self.by_id.get(guid)
        if d is None or d.source != BLOG_SOURCE:
            return self.not_found(f"no post {guid}")
        return self.html_response(d.title or "post", f'<article lang="{d.lang}"><h1>{html.escape(d.title or "")}</h1>'
                                            f"<p>{html.escape(d.text)}</p></article>")


def _handler(site_ref: list[Site]) -> type[BaseHTTPRequestHandler]:
    class DemoHandler(BaseHTTPRequestHandler):
        server_version = "onps-demo/0.1"
        protocol_version = "HTTP/1.1"  # keep-alive: a crawl asks for many pages in a row (Content-Length is set)
        disable_nagle_algorithm = True  # headers and body go out in two writes; do not wait for an ACK between

        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            try:
                status, ctype, body = site_ref[0].respond(self.path)
            except Exception as exc:  # a bug in the demo must show as a 500, not kill the thread silently
                status, ctype, body = 500, "text/plain; charset=utf-8", f"500: {exc!r}\n".encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's signature)
            """Quiet: a crawl makes hundreds of requests; the crawler reports what it fetched."""

    return DemoHandler


def make_server(content: DemoContent, port: int = 0, host: str = "127.0.0.1",
                cutoff: datetime | None = None) -> tuple[ThreadingHTTPServer, str]:
    """A bound (not yet serving) server for CONTENT and its base URL; port 0 picks a free port."""
    site_ref: list[Site] = []
    server = ThreadingHTTPServer((host, port), _handler(site_ref))
    server.daemon_threads = True
    base_url = f"http://{host}:{server.server_address[1]}"
    site_ref.append(Site(content, base_url, cutoff))
    return server, base_url


@contextmanager
def serving(content: DemoContent, port: int = 0, host: str = "127.0.0.1",
            cutoff: datetime | None = None) -> Iterator[str]:
    """Serve CONTENT in a background thread while the block runs; yields the base URL (no trailing slash).

    CUTOFF serves only what was published by then (default: everything, up to the content's reference date).
    """
    server, base_url = make_server(content, port, host, cutoff)
    thread = threading.Thread(target=server.serve_forever, name="onps-demo-server", daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
