"""Real review streams from ../shared/data, in the forms the product reads them: Trustpilot pages served over
HTTP (the real review objects inside the page JSON the spider parses) and JSON lines as `onps score` takes them.

Nothing here is invented: every review is a real one; only the paging is ours (the captured file is one list).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import DATA, need_shared

KEYTRADE = DATA / "trustpilot-keytrade-raw" / "reviews.json"
BANKS = DATA / "gplay-ethiopian-banks" / "gplay_bank_reviews.csv"
GOOGLE_ANONYMOUS = "A Google user"


def keytrade_reviews() -> list[dict[str, Any]]:
    """The raw Trustpilot review objects of Keytrade Bank, newest first (as Trustpilot lists them): 1,030
    reviews (the captured file holds 1,049 entries, 19 of them a second copy of a review id)."""
    reviews = json.loads(need_shared(KEYTRADE).read_text(encoding="utf-8"))
    unique = list({r["id"]: r for r in reversed(reviews)}.values())
    return sorted(unique, key=lambda r: r["dates"]["publishedDate"], reverse=True)


def serve_trustpilot(server: HTTPServer, path: str, reviews: list[dict[str, Any]], per_page: int = 50,
                     failing: Callable[[int], bool] = lambda page: False, charset: str = "utf-8") -> str:
    """Serve REVIEWS as Trustpilot review pages at PATH?page=N; returns the first page's URL. The list is read
    at each request, so a test may add newer reviews between crawls; a page for which FAILING says True answers
    503, as an overloaded site does. CHARSET is the encoding of the bytes sent; the header always says UTF-8,
    as a misconfigured server does."""

    def respond(request: Request) -> Response:
        pages = max(1, math.ceil(len(reviews) / per_page))
        page = int(request.args.get("page", 1))
        if not 1 <= page <= pages:
            return Response("no such page", status=404)
        if failing(page):
            return Response("Service Unavailable", status=503)
        data = {"props": {"pageProps": {
            "reviews": reviews[(page - 1) * per_page : page * per_page],
            "filters": {"pagination": {"currentPage": page, "perPage": per_page, "totalCount": len(reviews),
                                       "totalPages": pages}},
        }}}
        body = (f'<html><body><script id="__NEXT_DATA__" type="application/json">'
                f'{json.dumps(data, ensure_ascii=charset == "utf-8")}</script></body></html>')
        return Response(body.encode(charset), content_type="text/html; charset=utf-8")

    server.expect_request(path).respond_with_handler(respond)
    return server.url_for(path)


def keytrade_records() -> list[dict[str, Any]]:
    """Keytrade as JSON-lines records, the collection channel as Trustpilot states it (``invited``)."""
    from crawlers.spiders.trustpilot import invited_by_company

    return [{"id": r["id"], "text": r["text"], "title": r["title"], "rating": r["rating"], "rating_scale": 5,
             "lang": r["language"], "author": r["consumer"]["id"], "published_at": r["dates"]["publishedDate"],
             "entity": "Keytrade", "source": "trustpilot",
             "invited": invited_by_company(r["labels"]["verification"]),
             "author_facts": {"review_count": r["consumer"]["numberOfReviews"]}}
            for r in keytrade_reviews()]


def bank_records() -> list[dict[str, Any]]:
    """The three Google Play bank apps with every reviewer shown as Google shows an anonymous one."""
    with need_shared(BANKS).open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [{"id": f"bank-{r['review_id']}", "text": r["review_text"], "rating": float(r["rating"]),
             "rating_scale": 5, "published_at": r["review_date"], "entity": r["bank_code"],
             "source": "google-play", "author": GOOGLE_ANONYMOUS} for r in rows]


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path
