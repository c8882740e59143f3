"""Dashboard pages, login/cookie flow, alert feeds and webhooks, over a real seeded store and real loopback HTTP."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import feedparser
import pytest
from fastapi.testclient import TestClient
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from store.engine import session_scope
from store.schema import Alert
from tests.test_api import Seeded, seed
from web.app import create_app
from web.highlight import evidence_spans, highlight
from web.webhooks import deliver, publish

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def site(sqlite_url: str) -> tuple[TestClient, Seeded, str]:
    seeded = seed(sqlite_url)
    return TestClient(create_app(sqlite_url)), seeded, sqlite_url


def test_pages_send_strangers_to_login_and_keep_the_page(site: tuple[TestClient, Seeded, str]) -> None:
    client, seeded, _ = site
    first = client.get("/campaigns", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/login?next=%2Fcampaigns"
    wrong = client.post("/login", data={"key": "onps_wrong", "next": "/campaigns"})
    assert "unknown or revoked" in wrong.text and "onps_key" not in client.cookies
    revoked = client.post("/login", data={"key": seeded.keys["revoked"], "next": "/"})
    assert "unknown or revoked" in revoked.text
    ok = client.post("/login", data={"key": seeded.keys["read"], "next": "/campaigns"}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/campaigns"
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    campaigns = client.get("/campaigns").text
    assert f'id="campaign-{seeded.campaign_id}"' in campaigns and "2 reviews, 2 authors excluded" in campaigns
    for member in ("smear1", "smear2"):
        assert f"/reviews/{seeded.docs[member]}" in campaigns
    assert f"/reviews/{seeded.docs['late']}" not in campaigns


def test_login_never_redirects_off_site(site: tuple[TestClient, Seeded, str]) -> None:
    client, seeded, _ = site
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example/x", "javascript:alert(1)"):
        reply = client.post("/login", data={"key": seeded.keys["read"], "next": target}, follow_redirects=False)
        assert reply.headers["location"] == "/"


def test_key_in_link_becomes_cookie_and_leaves_the_url(site: tuple[TestClient, Seeded, str]) -> None:
    client, seeded, _ = site
    reply = client.get(f"/reviews?class=detractor&key={seeded.keys['read']}", follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == "/reviews?class=detractor"
    page = client.get(reply.headers["location"])
    assert page.status_code == 200 and "Scam company" in page.text and "Great quality" not in page.text


def test_overview_shows_estimates_charts_alerts_and_worklist(site: tuple[TestClient, Seeded, str]) -> None:
    client, seeded, _ = site
    client.cookies.set("onps_key", seeded.keys["write"])
    html = client.get("/?entity=Velora&window=week").text
    assert 'id="nps-trend"' in html and 'id="survey-vs-organic"' in html and 'id="reasons"' in html
    assert f"{seeded.velora_nps[-1]:+.0f}" in html  # the latest window's NPS is the headline
    assert "Smear campaign against Velora" in html and html.count('class="ack"') == 2
    assert f"/reviews/{seeded.docs['broken']}" in html and f"/reviews/{seeded.docs['botty']}" not in html
    assert "cdn" not in html.lower() and '<script src="/static/plotly.min.js">' in html
    benchmark = html[html.index('id="benchmark"'):html.index("</table>", html.index('id="benchmark"'))]
    lead = seeded.velora_nps[-1] - 20.0  # Brixo's last seeded week: 10 + 2 * 5, both intervals +-12
    assert "Brixo" in benchmark and f"{lead:+.0f}" in benchmark and "significant" not in benchmark


def test_acknowledge_from_the_page_needs_write_and_same_origin(site: tuple[TestClient, Seeded, str]) -> None:
    client, seeded, url = site
    alert_id = seeded.alerts["smear"]
    client.cookies.set("onps_key", seeded.keys["read"])
    assert client.post(f"/alerts/{alert_id}/ack").status_code == 403
    assert 'class="ack"' not in client.get("/").text  # a reader sees no button
    client.cookies.set("onps_key", seeded.keys["write"])
    foreign = client.post(f"/alerts/{alert_id}/ack", headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    done = client.post(f"/alerts/{alert_id}/ack", headers={"Referer": "http://testserver/"},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/#alert-{alert_id}"
    with session_scope(url) as s:
        stored = s.get(Alert, alert_id)
        assert stored is not None and stored.acknowledged_by == "write-user"
    assert "acknowledged by write-user" in client.get("/").text


def test_review_page_highlights_evidence_and_shows_verdicts(site: tuple[TestClient, Seeded, str]) -> None:
    client, seeded, _ = site
    client.cookies.set("onps_key", seeded.keys["read"])
    html = client.get(f"/reviews/{seeded.docs['smear1']}").text
    assert '<mark class="negative">Scam company</mark>, worst ever' in html
    assert "smear campaign #" in html and "excluded from organic NPS" in html
    bot = client.get(f"/reviews/{seeded.docs['botty']}").text
    assert "bot — excluded" in bot and "burst of identical texts" in bot
    assert client.get("/reviews/999999").status_code == 404


def test_highlight_escapes_html_and_merges_overlaps() -> None:
    text = "<b>Late</b> delivery, late and rude"
    marked = str(highlight(text, [("late", "negative"), ("late and rude", "negative"), ("", "positive")]))
    assert marked.startswith("&lt;b&gt;<mark") and "<b>" not in marked
    assert marked.count("<mark") == 2
    assert evidence_spans("abcabc", [("bca", "negative"), ("ab", "positive")]) == [(0, 5, "positive")]


def test_feeds_list_alerts_newest_first_and_take_key_param(site: tuple[TestClient, Seeded, str]) -> None:
    client, seeded, _ = site
    key = seeded.keys["read"]
    assert client.get("/feeds/alerts.atom").status_code == 401
    atom = client.get(f"/feeds/alerts.atom?key={key}")
    assert atom.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(atom.content)
    titles = [e.find(f"{ATOM}title").text for e in root.findall(f"{ATOM}entry")]
    assert titles == ["Velora NPS fell below last week's interval", "Smear campaign against Velora"]
    assert key not in atom.text  # the key is never echoed into the feed
    parsed = feedparser.parse(atom.content)
    assert not parsed.bozo and parsed.entries[1].tags[0].term == "campaign"

    feed = client.get("/feeds/alerts.json", headers={"X-API-Key": key})
    assert feed.headers["content-type"].startswith("application/feed+json")
    body = feed.json()
    assert body["version"] == "https://jsonfeed.org/version/1.1"
    assert [i["id"] for i in body["items"]] == [str(seeded.alerts["drop"]), str(seeded.alerts["smear"])]
    assert body["items"][1]["_onps"]["payload"]["members"] == 2 and "CRITICAL" in body["items"][1]["content_text"]


def test_a_feed_key_reads_the_feeds_and_nothing_else(site: tuple[TestClient, Seeded, str]) -> None:
    """A key in a feed reader's URL ends up in its logs: it used to be a read key, good for the whole API. A feed
    key reads /feeds/* only."""
    from web.keys import create_key

    client, _, url = site
    with session_scope(url) as s:
        _, feed_key = create_key(s, "feed reader", "feed")
    assert client.get(f"/feeds/alerts.atom?key={feed_key}").status_code == 200
    assert client.get("/feeds/alerts.json", headers={"X-API-Key": feed_key}).status_code == 200
    refused = client.get("/api/estimates", headers={"X-API-Key": feed_key})
    assert refused.status_code == 403 and "'feed'" in refused.json()["detail"]
    assert client.get("/api/alerts", headers={"X-API-Key": feed_key}).status_code == 403
    client.cookies.set("onps_key", feed_key)
    try:
        assert client.get("/", follow_redirects=False).status_code in (303, 403)
    finally:
        client.cookies.clear()


def test_webhook_retries_5xx_then_delivers_json(site: tuple[TestClient, Seeded, str], httpserver: HTTPServer) -> None:
    _, seeded, url = site
    calls: list[dict] = []

    def flaky(request: Request) -> Response:
        calls.append(json.loads(request.data))
        return Response("busy", status=503) if len(calls) < 3 else Response("ok", status=200)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(flaky)
    with session_scope(url) as s:  # as the nightly flow sends them: stored rows, still in their session
        [result] = deliver(s.get(Alert, seeded.alerts["smear"]), [httpserver.url_for("/hook")], backoff_s=0.01)
    assert result.ok and result.attempts == 3 and len(calls) == 3
    assert calls[-1]["kind"] == "campaign" and calls[-1]["title"] == "Smear campaign against Velora"
    assert calls[-1]["entity"] == "Velora" and "CRITICAL campaign for Velora" in calls[-1]["text"]


def test_webhook_gives_up_and_reports_without_stopping_others(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/down").respond_with_data("no", status=500)
    httpserver.expect_request("/gone").respond_with_data("nope", status=404)
    httpserver.expect_request("/up").respond_with_data("ok")
    alert = {"id": 7, "kind": "nps_drop", "severity": "warning", "title": "drop"}
    down, gone, up = deliver(alert, [httpserver.url_for(p) for p in ("/down", "/gone", "/up")], attempts=3,
                             backoff_s=0.01)
    assert (down.ok, down.attempts, down.error) == (False, 3, "HTTP 500")
    assert not gone.ok and gone.attempts == 1 and "404" in (gone.error or "")  # a 4xx is not retried
    assert up.ok and up.attempts == 1


def test_an_alert_a_webhook_does_not_take_waits_in_the_outbox_for_the_next_run(
        site: tuple[TestClient, Seeded, str], httpserver: HTTPServer) -> None:
    """It used to be retried four times within the run (44 s) and dropped. Now: two tries, the webhook's other
    alerts wait without a try, the next run delivers them, and a webhook that never answers is given up after
    `webhook_max_runs` runs. Its token is never stored nor shown."""
    from sqlalchemy import select

    from store.schema import WebhookOutbox

    _, seeded, url = site
    up = {"now": False}
    calls: list[dict] = []

    def hook(request: Request) -> Response:
        calls.append(json.loads(request.data))
        return Response("ok") if up["now"] else Response("busy", status=503)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(hook)
    httpserver.expect_request("/dead", method="POST").respond_with_data("down", status=502)
    hook_url, dead_url = httpserver.url_for("/hook?token=s3cret"), httpserver.url_for("/dead?token=s3cret")
    alerts = [seeded.alerts["smear"], seeded.alerts["drop"]]
    with session_scope(url) as s:
        assert publish(s, alerts, [hook_url], max_runs=3, backoff_s=0.01) == {"queued": 2}
    assert len(calls) == 2  # two tries of the first alert; the second waited without one
    up["now"] = True
    with session_scope(url) as s:
        assert publish(s, [], [hook_url], max_runs=3, backoff_s=0.01) == {"delivered": 2}
        assert publish(s, [], [hook_url], max_runs=3, backoff_s=0.01) == {}
    assert sorted(c["id"] for c in calls[2:]) == sorted(alerts)

    with session_scope(url) as s:
        runs = [publish(s, alerts if i == 0 else [], [dead_url], max_runs=3, backoff_s=0.01) for i in range(7)]
        rows = s.scalars(select(WebhookOutbox).where(WebhookOutbox.given_up_at.is_not(None))).all()
        stored = " ".join(f"{r.target} {r.last_error}" for r in s.scalars(select(WebhookOutbox)))
    # the oldest alert is tried first; the next waits its turn (no try spent while the webhook is down)
    assert runs == [{"queued": 2}, {"queued": 2}, {"given_up": 1, "queued": 1}, {"queued": 1}, {"queued": 1},
                    {"given_up": 1}, {}]
    assert len(rows) == 2 and "s3cret" not in stored and "/dead" not in stored


def test_webhook_through_apprise_json_url(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/apprise", method="POST").respond_with_data("ok")
    target = f"json://{httpserver.host}:{httpserver.port}/apprise"
    [result] = deliver({"id": 1, "kind": "campaign", "severity": "critical", "title": "Smear"}, [target],
                       backoff_s=0.01)
    assert result.ok
    [(request, _)] = httpserver.log
    assert json.loads(request.data)["title"] == "Smear"
    [bad] = deliver({"id": 1, "kind": "x", "severity": "info"}, ["notascheme://x"], backoff_s=0.01)
    assert not bad.ok and "apprise" in (bad.error or "")


def test_a_stored_javascript_url_is_never_rendered_as_a_link(site: tuple[TestClient, Seeded, str]) -> None:
    """Stored XSS: a review stored before the pipeline kept only http(s) links must not become a link."""
    from store.schema import Document

    client, seeded, url = site
    with session_scope(url) as session:
        for name, link in (("smear1", "javascript:alert(1)"), ("botty", "data:text/html,<script>alert(1)</script>")):
            session.get(Document, seeded.docs[name]).url = link
    client.cookies.set("onps_key", seeded.keys["read"])
    for name in ("smear1", "botty"):
        page = client.get(f"/reviews/{seeded.docs[name]}")
        assert page.status_code == 200 and "javascript:" not in page.text and "data:text" not in page.text
        assert page.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["referrer-policy"] == "same-origin"
    good = client.get(f"/reviews/{seeded.docs['late']}").text
    assert 'href="http://127.0.0.1/r/' in good  # an http link is still shown


def test_paging_past_any_real_page_is_a_clear_422_not_a_500(site: tuple[TestClient, Seeded, str]) -> None:
    client, seeded, _ = site
    client.cookies.set("onps_key", seeded.keys["read"])
    assert client.get("/reviews?page=99999999999999999999").status_code == 422
    assert client.get("/reviews?page=2").status_code == 200


def test_overview_shows_the_invited_nps_apart_from_the_organic_one(site: tuple[TestClient, Seeded, str]) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from store.schema import Entity, NpsEstimate

    client, seeded, url = site
    client.cookies.set("onps_key", seeded.keys["read"])
    assert 'id="invited-nps"' not in client.get("/?entity=Velora").text  # none stored: nothing made up
    with session_scope(url) as s:
        velora = s.scalar(select(Entity).where(Entity.name == "Velora"))
        latest = s.scalar(select(NpsEstimate).where(NpsEstimate.entity_id == velora.id,
                                                    NpsEstimate.segment_key == "", NpsEstimate.window_kind == "week")
                          .order_by(NpsEstimate.window_start.desc()).limit(1))
        s.add(NpsEstimate(entity_id=velora.id, segment={"channel": "invited"}, segment_key="channel=invited",
                          window_kind="week", window_start=latest.window_start,
                          window_end=latest.window_start + timedelta(days=7), n=37, nps=61.0, low=40.0, high=78.0,
                          promoters=25, passives=9, detractors=3, excluded={}, method="adjusted-wald"))
    html = client.get("/?entity=Velora").text
    assert 'id="invited-nps"' in html and "NPS +61 [40, 78], n=37" in html
    assert f'id="latest-nps">{seeded.velora_nps[-1]:+.0f}<' in html  # the organic headline is unchanged
