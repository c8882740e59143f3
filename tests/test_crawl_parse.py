"""Spiders parse real response shapes: the captured samples in ../shared/fixtures and our own pages in
tests/crawl_pages, fed in-process to each spider's callbacks (no network; the HTTP crawls are test_crawl.py)."""

from __future__ import annotations

import asyncio
import json
import pickle
from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.http import HtmlResponse, TextResponse
from scrapy.utils.test import get_crawler

from crawlers.checkpoint import save_state
from crawlers.items import ReviewItem, document_key
from crawlers.spiders import spider_class
from crawlers.spiders.base import ERRORS_KEY
from crawlers.spiders.schemaorg import compact_rdfa, review_fields
from tests.conftest import DATA, FIXTURES, need_shared

PAGES = Path(__file__).parent / "crawl_pages"


def parse(kind: str, url: str, body: bytes, callback: str = "parse", **kwargs: Any) -> tuple[list, list, Any]:
    """Run one spider callback on BODY served at URL; returns (items, requests, spider)."""
    spider_cls = spider_class(kind)
    crawler = get_crawler(spider_cls)
    spider = spider_cls.from_crawler(crawler, source="test", **{"url": url, **kwargs})
    crawler.spider = spider
    response_cls = HtmlResponse if body.lstrip()[:1] == b"<" else TextResponse
    response = response_cls(url=url, body=body, request=Request(url), encoding="utf-8" if body[:1] in b"[{" else None)
    output = list(getattr(spider, callback)(response) or [])
    items = [o for o in output if isinstance(o, ReviewItem)]
    requests = [o for o in output if isinstance(o, Request)]
    return items, requests, spider


def errors(spider: Any) -> list[dict]:
    return spider.crawler.stats.get_value(ERRORS_KEY) or []


# ---- schema.org ---------------------------------------------------------------------------------------
def test_schemaorg_jsonld_sample_gives_both_reviews_with_the_aggregate():
    page = need_shared(FIXTURES / "schemaorg-jsonld" / "extruct_CreativeWork.001.html")
    items, requests, _ = parse("schemaorg", "http://books.test/catcher", page.read_bytes())
    assert [(i["author_name"], i["title"], i["rating"], i["published_at"]) for i in items] == [
        ("John Doe", "A masterpiece of literature", "5", "2006-05-04"),
        ("Bob Smith", "A good read.", "4", "2006-06-15"),
    ]
    assert items[1]["raw_text"] == "Catcher in the Rye is a fun book. It's a good book to read."
    assert items[0]["extra"] == {
        "item_reviewed": "The Catcher in the Rye",
        "aggregate_rating": {"ratingValue": "4", "reviewCount": "3077"},
    }
    assert items[0]["external_id"] is None and items[0]["url"] == "http://books.test/catcher"
    assert requests == []


def test_schemaorg_review_among_null_jsonld_blocks_and_aggregate_only_pages():
    mock = need_shared(FIXTURES / "schemaorg-jsonld" / "extruct_null_ld_mock.html")
    items, _, _ = parse("schemaorg", "http://biz.test/", mock.read_bytes())
    assert len(items) == 1 and items[0]["raw_text"].startswith("Sed ut perspiciatis")
    assert items[0]["extra"]["aggregate_rating"] == {"ratingValue": 5, "ratingCount": 280}
    product = need_shared(FIXTURES / "schemaorg-jsonld" / "extruct_product.html")
    items, _, spider = parse("schemaorg", "http://shop.test/anvil", product.read_bytes())
    assert items == [] and spider.crawler.stats.get_value("onps/aggregate_only_pages") == 1


def test_schemaorg_microdata_page_with_next_link():
    items, requests, _ = parse("schemaorg", "http://shop.test/shop/acme-account/reviews-1.html",
                               (PAGES / "schemaorg" / "reviews-1.html").read_bytes())
    assert [(i["external_id"], i["author_name"], i["rating"], i["rating_scale"], i["published_at"]) for i in items] == [
        ("https://shop.example/reviews/r-101", "Alice", "9", "10", "2026-11-10T08:30:00+01:00"),
        ("https://shop.example/reviews/r-102", "Bob", "2", None, "2026-11-08"),
    ]
    assert items[0]["extra"]["item_reviewed"] == "Acme Current Account"
    assert [r.url for r in requests] == ["http://shop.test/shop/acme-account/reviews-2.html"]


def test_schemaorg_rdfa_review():
    items, _, _ = parse("schemaorg", "http://shop.test/de", (PAGES / "schemaorg" / "rdfa.html").read_bytes())
    assert len(items) == 1
    item = items[0]
    assert (item["external_id"], item["author_name"], item["title"], item["rating"], item["rating_scale"]) == (
        "https://shop.example/reviews/r-201", "Anna", "Gute Beratung", "4", "5")
    assert item["language"] == "de" and item["raw_text"].startswith("Die Beratung")


def test_schemaorg_broken_jsonld_is_an_error_but_microdata_still_counts():
    items, _, spider = parse("schemaorg", "http://shop.test/broken",
                             (PAGES / "schemaorg" / "broken-jsonld.html").read_bytes())
    assert [i["author_name"] for i in items] == ["Dora"]
    assert [e["url"] for e in errors(spider)] == ["http://shop.test/broken"]
    assert "malformed JSON-LD" in errors(spider)[0]["reason"]


def test_compact_rdfa_resolves_links_to_nested_nodes():
    flat = [
        {"@id": "_:r", "@type": ["http://schema.org/Review"], "http://schema.org/author": [{"@id": "_:p"}],
         "http://schema.org/reviewBody": [{"@value": "ok"}]},
        {"@id": "_:p", "@type": ["http://schema.org/Person"], "http://schema.org/name": [{"@value": "Ann"}]},
    ]
    review = compact_rdfa(flat)[0]
    assert review["author"]["name"] == "Ann" and review["reviewBody"] == "ok"
    assert review_fields(review, None, "http://x/")["author_name"] == "Ann"


# ---- trustpilot --------------------------------------------------------------------------------------
def test_trustpilot_real_review_objects_in_next_data():
    reviews = json.loads(need_shared(DATA / "trustpilot-keytrade-raw" / "reviews.json").read_text())[:3]
    data = {"props": {"pageProps": {"reviews": reviews,
                                     "filters": {"pagination": {"currentPage": 1, "totalPages": 53}}}}}
    body = f'<html><body><script id="__NEXT_DATA__" type="application/json">{json.dumps(data)}</script></body></html>'
    items, requests, _ = parse("trustpilot", "https://tp.test/review/keytrade.be", body.encode())
    assert [i["external_id"] for i in items] == [r["id"] for r in reviews]
    first, raw = items[0], reviews[0]
    assert first["raw_text"] == raw["text"] and first["title"] == raw["title"] and first["rating"] == raw["rating"]
    assert first["published_at"] == raw["dates"]["publishedDate"] and first["language"] == raw["language"]
    assert first["author_id"] == raw["consumer"]["id"] and first["author_name"] == raw["consumer"]["displayName"]
    assert first["author_facts"] == {
        "review_count": raw["consumer"]["numberOfReviews"], "country": raw["consumer"]["countryCode"],
        "verified": raw["consumer"]["isVerified"], "review_verified": raw["labels"]["verification"]["isVerified"],
        "review_source": raw["labels"]["verification"]["reviewSourceName"],
    }
    assert first["url"] == f"https://tp.test/reviews/{raw['id']}"
    assert [r.url for r in requests] == ["https://tp.test/review/keytrade.be?page=2"]


def test_trustpilot_malformed_page_json_is_a_counted_error():
    items, requests, spider = parse("trustpilot", "https://tp.test/review/x",
                                    (PAGES / "trustpilot" / "malformed.html").read_bytes())
    assert items == [] and requests == []
    assert errors(spider)[0]["url"] == "https://tp.test/review/x"
    assert errors(spider)[0]["reason"].startswith("malformed __NEXT_DATA__ JSON")


# ---- app store -----------------------------------------------------------------------------------------
def test_appstore_real_feed_entries_and_path_paging():
    feed = need_shared(FIXTURES / "appstore-rss" / "customerreviews_us.json")
    url = "https://itunes.test/us/rss/customerreviews/page=1/id=1321994487/sortby=mostrecent/json"
    items, requests, _ = parse("appstore", url, feed.read_bytes())
    assert len(items) == 50
    first = items[0]
    assert (first["external_id"], first["author_name"], first["author_id"], first["rating"], first["rating_scale"]) == (
        "7175647643", "WB-SBB", "id483654179", "2", 5)
    assert first["title"] == "Mobile app cannot recognize endorsement on business size checks."
    assert first["extra"]["app_version"] == "8.0.9"
    assert [r.url for r in requests] == [url.replace("page=1", "page=2")]


def test_appstore_stops_at_apples_ten_pages_and_reads_a_single_entry_object():
    body = (PAGES / "appstore" / "page=2.json").read_bytes()
    items, requests, _ = parse("appstore", "http://apps.test/rss/page=10/id=1/json", body)
    assert [i["external_id"] for i in items] == ["880003"] and requests == []


def test_appstore_truncated_json_is_a_counted_error():
    body = (PAGES / "appstore" / "truncated.json").read_bytes()
    items, _, spider = parse("appstore", "http://apps.test/x.json", body)
    assert items == [] and errors(spider)[0]["reason"].startswith("malformed JSON")


# ---- discourse -----------------------------------------------------------------------------------------
def test_discourse_real_latest_and_topic():
    latest = need_shared(FIXTURES / "discourse" / "latest.json")
    _, requests, _ = parse("discourse", "https://forum.test/latest.json", latest.read_bytes())
    assert [r.url for r in requests][-1] == "https://forum.test/latest.json?page=1"
    assert "https://forum.test/t/1.json" in [r.url for r in requests]
    topic = need_shared(FIXTURES / "discourse" / "topic.json")
    items, _, _ = parse("discourse", "https://forum.test/t/57.json", topic.read_bytes(), callback="parse_topic",
                        entities={"Discourse": ["Discourse", "discourse.org"]})
    raw = json.loads(topic.read_text())["post_stream"]["posts"]
    mentioning = [p for p in raw if "discourse" in p["cooked"].lower()]
    assert [i["external_id"] for i in items] == [str(p["id"]) for p in mentioning] and items
    assert items[0]["entity"] == "Discourse" and items[0]["author_id"] == mentioning[0]["username"]
    assert items[0]["url"] == f"https://forum.test/t/{raw and json.loads(topic.read_text())['slug']}/57/1"


def test_discourse_mention_filter_keeps_posts_naming_an_alias():
    items, _, spider = parse("discourse", "https://forum.test/t/11.json",
                             (PAGES / "discourse" / "t-11.json").read_bytes(), callback="parse_topic",
                             entities={"Acme Bank": ["Acme Bank", "ACME"]})
    assert [(i["external_id"], i["entity"], i["title"]) for i in items] == [
        ("101", "Acme Bank", "Which bank for freelancers?"), ("103", "Acme Bank", None)]
    assert spider.crawler.stats.get_value("onps/off_topic") == 1


# ---- reddit ------------------------------------------------------------------------------------------------
def test_reddit_real_listing_and_thread():
    listing = need_shared(FIXTURES / "reddit" / "graw_subreddit.json")
    _, requests, _ = parse("reddit", "https://reddit.test/r/netsec/new.json", listing.read_bytes())
    ids = [c["data"]["id"] for c in json.loads(listing.read_text())["data"]["children"]]
    assert [r.url for r in requests][: len(ids)] == [f"https://reddit.test/comments/{i}.json" for i in ids]
    thread = need_shared(FIXTURES / "reddit" / "graw_thread.json")
    items, _, _ = parse("reddit", "https://reddit.test/comments/1cebxh.json", thread.read_bytes(),
                        callback="parse_thread", entities={"Love": ["love"]})
    assert items and all("love" in i["raw_text"].lower() for i in items)
    comment = next(i for i in items if i["external_id"] == "t1_c9ftsjg")
    assert comment["author_id"] == "bacon_cake" and comment["published_at"] == 1366059088.0


def test_reddit_comment_tree_is_walked_and_filtered():
    items, _, _ = parse("reddit", "https://reddit.test/comments/abc1.json",
                        (PAGES / "reddit" / "comments-abc1.json").read_bytes(), callback="parse_thread",
                        entities={"Acme Bank": ["Acme Bank", "Acme"]})
    assert [(i["external_id"], i["author_id"]) for i in items] == [
        ("t3_abc1", "switcher"), ("t1_c1", "feeshater"), ("t1_c2", "replyguy")]


# ---- feed and forum -------------------------------------------------------------------------------------
def test_atom_feed_entries_named_entity_only():
    items, _, _ = parse("feed", "https://blog.test/feed/atom.xml", (PAGES / "feed" / "atom.xml").read_bytes(),
                        entities={"Acme Bank": ["Acme Bank"]})
    assert [(i["external_id"], i["url"], i["author_name"], i["language"]) for i in items] == [
        ("urn:money-blog:post-1", "https://blog.example/acme-rate", "Editor Eve", "en")]
    assert tuple(items[0]["published_at"])[:5] == (2026, 11, 22, 7, 30)


FORUM_SELECTORS = {"post": "div.post", "author": "a.username", "text": "div.content",
                   "date": "time::attr(datetime)", "title": "h3 a"}


def test_forum_posts_by_css_selectors():
    body = (PAGES / "forum" / "thread-1.html").read_bytes()
    items, requests, _ = parse("forum", "http://forum.test/viewtopic.php?t=42", body, selectors=FORUM_SELECTORS,
                               entities={"Acme Bank": ["Acme Bank", "Acme"]})
    assert [(i["external_id"], i["author_name"], i["published_at"]) for i in items] == [
        ("http://forum.test/viewtopic.php#p501", "françois", "2026-11-12T18:04:00+00:00")]
    assert "<br" in items[0]["raw_text"]
    assert [r.url for r in requests] == ["http://forum.test/viewtopic.php?t=42&start=2"]


def test_forum_without_selectors_is_a_config_error_naming_the_page():
    _, _, spider = parse("forum", "http://forum.test/x", b"<html><body></body></html>")
    assert "selectors.post" in errors(spider)[0]["reason"]


# ---- incremental stop and resume -----------------------------------------------------------------------------
def spider_with_state(kind: str, url: str, state: dict[str, Any], **kwargs: Any) -> Any:
    """A spider as Scrapy's SpiderState hands it a JOBDIR's saved state, with the requests its start() yields."""
    spider_cls = spider_class(kind)
    crawler = get_crawler(spider_cls)
    spider = spider_cls.from_crawler(crawler, source="test", url=url, **kwargs)
    crawler.spider = spider
    spider.state = state

    async def started() -> list[Request]:
        return [request async for request in spider.start()]

    return spider, asyncio.run(started())


def test_incremental_stop_on_a_stored_page_but_not_on_a_page_a_resumed_crawl_asks_again():
    url = "https://tp.test/review/acme"
    body = (PAGES / "trustpilot" / "page1.html").read_bytes()
    items, requests, _ = parse("trustpilot", url, body)
    assert [r.url for r in requests] == [f"{url}?page=2"]
    keys = [document_key(i["external_id"], i["url"], i["raw_text"]) for i in items]

    _, requests, spider = parse("trustpilot", url, body, known_keys=keys)
    assert requests == [] and spider.crawler.stats.get_value("onps/incremental_stops") == 1

    # Killed after page 1's reviews were committed but before its scraping finished: the checkpoint left page 1
    # unfinished, so the resumed crawl asks for it again, and must still go on to page 2.
    spider, started = spider_with_state("trustpilot", url, {"requested": {url: "parse"}, "done": set()},
                                        known_keys=keys)
    assert [(r.url, r.dont_filter) for r in started] == [(url, True)]
    response = HtmlResponse(url=url, body=body, request=started[0])
    output = list(spider.parse(response))
    assert [o.url for o in output if isinstance(o, Request)] == [f"{url}?page=2"]
    assert spider.crawler.stats.get_value("onps/incremental_stops") is None and errors(spider) == []


def test_checkpoint_marks_pages_still_being_scraped_unfinished(tmp_path: Path):
    pages = [f"https://tp.test/review/acme?page={n}" for n in (1, 2, 3, 4)]
    state = {"requested": dict.fromkeys(pages, "parse"), "done": set(pages[:3])}
    spider, _ = spider_with_state("trustpilot", pages[0], state)
    save_state(str(tmp_path), spider.state, unfinished={pages[2]})
    saved = pickle.loads((tmp_path / "spider.state").read_bytes())
    assert saved["done"] == set(pages[:2]) and state["done"] == set(pages[:3])  # the live state is untouched
    assert not list(tmp_path.glob("*.partial"))

    resumed, started = spider_with_state("trustpilot", pages[0], saved)
    assert sorted(r.url for r in started) == pages[2:]
    third = next(r for r in started if r.url == pages[2])
    response = HtmlResponse(url=pages[2], body=(PAGES / "trustpilot" / "page1.html").read_bytes(), request=third)
    output = list(resumed.parse(response))  # its next link is page 2, asked for before the stop: no loop error
    assert not any(isinstance(o, Request) for o in output) and errors(resumed) == []


def test_schemaorg_review_url_is_kept_only_when_http() -> None:
    page = "https://shop.example/reviews"
    node = {"@type": "Review", "reviewBody": "Fine.", "author": {"name": "Ann"}}
    assert review_fields({**node, "url": "javascript:alert(1)"}, None, page)["url"] == page
    assert review_fields({**node, "url": "data:text/html,x"}, None, page)["url"] == page
    assert review_fields({**node, "url": "/reviews/7"}, None, page)["url"] == "https://shop.example/reviews/7"


def test_schemaorg_employer_review_and_employer_aggregate_rating_are_employees() -> None:
    """No real page with EmployerReview JSON-LD was found (employer-reviews/SOURCE): a page written here in the
    shape schema.org documents, with the captured Glassdoor review's words."""
    def page(review_type: str, aggregate_type: str) -> bytes:
        graph = {"@context": "https://schema.org", "@type": "Organization", "name": "Aetna",
                 "aggregateRating": {"@type": aggregate_type, "ratingValue": 3.1, "bestRating": 5},
                 "review": [{"@type": review_type, "@id": "https://jobs.test/r/12449",
                             "name": "Good but needs improvement",
                             "reviewBody": "401k and relatively good job security",
                             "reviewRating": {"@type": "Rating", "ratingValue": 3, "bestRating": 5},
                             "datePublished": "2008-06-12"}]}
        return (f'<html><head><script type="application/ld+json">{json.dumps(graph)}</script></head>'
                '<body></body></html>').encode()

    for review_type, aggregate_type, audience in [("EmployerReview", "AggregateRating", "employee"),
                                                  ("Review", "EmployerAggregateRating", "employee"),
                                                  ("Review", "AggregateRating", None)]:
        items, _, _ = parse("schemaorg", "http://jobs.test/aetna", page(review_type, aggregate_type))
        assert [(i["title"], i.get("audience")) for i in items] == [("Good but needs improvement", audience)]
        assert items[0]["extra"]["aggregate_rating"]["ratingValue"] == 3.1
