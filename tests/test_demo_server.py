"""The demo sites over real HTTP on 127.0.0.1: every format parses, pages end, order is newest first, and the
shapes match the real services' captured responses in ../shared/fixtures."""

from __future__ import annotations

import html
import json
import re
import urllib.robotparser
from datetime import datetime, timedelta
from urllib.parse import urljoin

import extruct
import feedparser
import httpx
import pytest

from demo.brands import BRANDS
from demo.config import demo_config
from demo.generate import generate
from demo.model import APPSTORE_MAX_PAGES
from demo.server import serving
from tests.conftest import DATA, FIXTURES, need_shared

NEXT_DATA = re.compile(r'<script id="__NEXT_DATA__" type="application/json">(.*?)</script>', re.S)
LINK_NEXT = re.compile(r'<link rel="next" href="([^"]+)">')


@pytest.fixture(scope="module")
def content():
    return generate(seed=11, scale=0.5)


@pytest.fixture(scope="module")
def site(content):
    with serving(content) as base, httpx.Client(base_url=base, timeout=10) as client:
        yield base, client


def ids_of(content, source: str) -> list[str]:
    docs = [d for d in content.docs if d.source == source]
    return [d.id for d in sorted(docs, key=lambda d: (d.published_at, d.id), reverse=True)]


def test_robots_txt_disallows_only_private(site) -> None:
    base, client = site
    response = client.get("/robots.txt")
    assert response.status_code == 200
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(response.text.splitlines())
    assert not robots.can_fetch("organic-nps", f"{base}/private/admin")
    assert robots.can_fetch("organic-nps", f"{base}/review/nordkauf.example")
    assert client.get("/private/admin").status_code == 200  # there, but a polite crawler never asks


def test_schemaorg_pages_are_jsonld_and_end(site, content) -> None:
    base, client = site
    for b in BRANDS:
        url, seen, pages = f"{base}/shop/{b.slug}/reviews", [], 0
        while url:
            response = client.get(url)
            assert response.status_code == 200
            data = extruct.extract(response.text, base_url=url, syntaxes=["json-ld"])["json-ld"]
            (subject,) = data
            assert subject["@type"] == b.schema_type and subject["aggregateRating"]["bestRating"] == b.best_rating
            for review in subject["review"]:
                assert review["@type"] == "Review" and review["reviewBody"] and review["author"]["name"]
                assert 1 <= review["reviewRating"]["ratingValue"] <= review["reviewRating"]["bestRating"]
                seen.append(review)
            found = LINK_NEXT.search(response.text)
            url, pages = (found.group(1) if found else None), pages + 1
            assert pages < 100, "pagination must end"
        assert [r["@id"] for r in seen] == ids_of(content, f"{b.slug}-schemaorg")
        one = client.get(seen[0]["url"])
        assert one.status_code == 200 and "application/ld+json" in one.text
        # whichever a spider keeps as the external id, @id or url, the truth finds the document from it
        for key in ("@id", "url"):
            record = content.truth.lookup(seen[0][key])
            assert record is not None and record["source"] == f"{b.slug}-schemaorg"


def test_trustpilot_pages_have_the_real_review_shape(site, content) -> None:
    real = json.loads(need_shared(DATA / "trustpilot-keytrade-raw" / "reviews.json").read_text())[0]
    base, client = site
    b = BRANDS[1]
    page, reviews = 1, []
    while True:
        response = client.get(f"/review/{b.domain}", params={"page": page})
        assert response.status_code == 200
        props = json.loads(NEXT_DATA.search(response.text).group(1))["props"]["pageProps"]
        reviews += props["reviews"]
        pagination = props["filters"]["pagination"]
        assert pagination["currentPage"] == page
        if page == pagination["totalPages"]:
            break
        page += 1
    assert client.get(f"/review/{b.domain}", params={"page": page + 1}).status_code == 404
    assert [r["id"] for r in reviews] == ids_of(content, f"{b.slug}-trustpilot")
    for review in reviews:
        assert set(real) <= set(review)
        for key in ("consumer", "dates"):
            assert set(real[key]) <= set(review[key])
        assert set(real["labels"]["verification"]) <= set(review["labels"]["verification"])
        assert review["rating"] in range(1, 6) and review["language"] in {"de", "en", "da", "ru"}
        if review["reply"] is not None:
            assert set(real["reply"]) <= set(review["reply"]) and review["rating"] <= 3
            assert review["reply"]["publishedDate"] >= review["dates"]["publishedDate"]
    assert any(r["reply"] for r in reviews), "the company answers some critical reviews"
    dates = [r["dates"]["publishedDate"] for r in reviews]
    assert dates == sorted(dates, reverse=True)
    assert reviews[0]["text"] in html.unescape(client.get(f"/reviews/{reviews[0]['id']}").text)
    assert content.truth.lookup(reviews[0]["id"])["kind"] in {"genuine", "bot", "smear"}


def test_appstore_feed_has_the_itunes_shape_and_stops_at_ten_pages(site, content) -> None:
    real = json.loads(need_shared(FIXTURES / "appstore-rss" / "customerreviews_us.json").read_text())
    real_entry = real["feed"]["entry"][0]
    base, client = site
    b = BRANDS[2]
    entries, page = [], 1
    while page <= APPSTORE_MAX_PAGES + 1:
        feed = client.get(f"/us/rss/customerreviews/id={b.app_id}/sortby=mostrecent/json",
                          params={"page": page}).json()["feed"]
        assert set(real["feed"]) <= set(feed) | {"entry"}
        if "entry" not in feed:
            break
        entries += feed["entry"]
        page += 1
    assert [e["id"]["label"] for e in entries] == ids_of(content, f"{b.slug}-appstore")
    for entry in entries:
        assert set(real_entry) <= set(entry) and "updated" in entry
        assert entry["im:rating"]["label"] in {"1", "2", "3", "4", "5"} and entry["content"]["label"]
    updated = [e["updated"]["label"] for e in entries]
    assert updated == sorted(updated, reverse=True)
    path_form = client.get(f"/us/rss/customerreviews/page=2/id={b.app_id}/sortby=mostrecent/json").json()
    assert path_form["feed"].get("entry", []) == entries[50:100]
    assert "entry" not in client.get(f"/us/rss/customerreviews/page={APPSTORE_MAX_PAGES + 1}/id={b.app_id}"
                                     "/sortby=mostrecent/json").json()["feed"]


def test_discourse_api_lists_every_topic_and_post(site, content) -> None:
    real_topic = json.loads(need_shared(FIXTURES / "discourse" / "latest.json").read_text())["topic_list"]["topics"][0]
    base, client = site
    url, topics = f"{base}/forum/latest.json", []
    while url:
        topic_list = client.get(url).json()["topic_list"]
        topics += topic_list["topics"]
        url = urljoin(url, topic_list["more_topics_url"]) if "more_topics_url" in topic_list else None
    assert sorted(t["id"] for t in topics) == sorted(t.id for t in content.topics)
    assert set(real_topic) <= set(topics[0])
    bumped = [t["last_posted_at"] for t in topics]
    assert bumped == sorted(bumped, reverse=True)
    post_ids = []
    for t in topics:
        topic = client.get(f"/forum/t/{t['slug']}/{t['id']}.json").json()
        posts = topic["post_stream"]["posts"]
        assert [p["post_number"] for p in posts] == list(range(1, len(posts) + 1))
        assert all(p["cooked"].startswith("<p>") and p["username"] and p["created_at"] for p in posts)
        post_ids += [str(p["id"]) for p in posts]
    assert sorted(post_ids) == sorted(ids_of(content, "demo-forum"))
    found = client.get("/forum/search.json", params={"q": "Brisko"}).json()
    assert found["posts"] and all(p["topic_id"] in {t["id"] for t in topics} for p in found["posts"])
    user = client.get(f"/forum/u/{posts[0]['username']}.json").json()["user"]
    assert user["username"] == posts[0]["username"] and user["created_at"]
    assert client.get("/forum/t/999999.json").status_code == 404
    assert client.get(f"/t/{topics[0]['id']}.json").json()["id"] == topics[0]["id"]  # the root alias


def test_rss_feed_parses_with_feedparser(site, content) -> None:
    base, client = site
    parsed = feedparser.parse(client.get("/blog/feed.xml").content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert [e.id for e in parsed.entries] == ids_of(content, "demo-blog")
    for entry in parsed.entries:
        assert entry.title and entry.summary and entry.published_parsed and entry.link.startswith(base)
        assert client.get(entry.link).status_code == 200


def test_demo_config_points_every_source_at_the_running_server(site, content) -> None:
    base, client = site
    config = demo_config(base)
    assert {e.name for e in config.entities} == {b.name for b in BRANDS}
    assert {s.name for s in config.sources} == {d.source for d in content.docs}
    assert {s.kind for s in config.sources} == {"schemaorg", "trustpilot", "appstore", "discourse", "feed"}
    for source in config.sources:
        assert source.url.startswith(base)
        start = source.url + ("/latest.json" if source.kind == "discourse" else "")
        assert client.get(start).status_code == 200, start


def test_unknown_paths_and_bad_pages_are_404(site) -> None:
    _, client = site
    assert client.get("/nothing/here").status_code == 404
    assert client.get("/review/nordkauf.example", params={"page": "x"}).status_code == 404
    assert client.get("/shop/nobody/reviews").status_code == 404
    assert client.get("/forum/search.json").status_code == 400


def test_cutoff_serves_the_sites_as_they_were_then(content) -> None:
    cutoff = content.reference - timedelta(days=14)
    with serving(content, cutoff=cutoff) as base, httpx.Client(base_url=base, timeout=10) as client:
        b = BRANDS[0]
        props = json.loads(NEXT_DATA.search(client.get(f"/review/{b.domain}").text).group(1))["props"]["pageProps"]
        earlier = [d for d in content.docs if d.source == f"{b.slug}-trustpilot" and d.published_at <= cutoff]
        assert props["filters"]["pagination"]["totalCount"] == len(earlier)
        assert props["reviews"][0]["id"] == max(earlier, key=lambda d: (d.published_at, d.id)).id
        topics = client.get("/forum/latest.json").json()["topic_list"]["topics"]
        assert topics and all(datetime.fromisoformat(t["last_posted_at"]) <= cutoff for t in topics)
