"""The segment and market views (web.reads.segments / market), the trend's events and survey line, over the
seeded store of tests/test_api.py plus region segments, a product and competitors of every kind of thinness."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from config.schema import OnpsConfig
from nps.compare import difference
from store.engine import session_scope
from store.queries import StoredEstimate
from store.schema import Entity, NpsEstimate
from tests.test_api import FIRST_WEEK, WEEK, Seeded, seed
from web import charts, reads
from web.app import create_app

LATEST = FIRST_WEEK + 5 * WEEK  # the seeded store's newest week: Velora +5 [-7, 17], Brixo +20 [8, 32], n=120
MIN_N = 30
# Brixo's detractors cite the app far more than Velora's (expected counts, as nps.organic stores them); its
# promoters cite support more
REASONS = {
    "Velora": {"app": {"detractors": 3.0, "promoters": 1.0}, "support": {"detractors": 6.0, "promoters": 10.0}},
    "Brixo": {"app": {"detractors": 15.0, "promoters": 1.0}, "support": {"detractors": 3.0, "promoters": 30.0}},
}


def _estimate(s: Any, entity: Entity, segment: dict[str, str], n: float, nps: float, half: float,
              start: Any = LATEST) -> None:
    key = ";".join(f"{k}={v}" for k, v in sorted(segment.items()))
    s.add(NpsEstimate(entity_id=entity.id, segment=segment, segment_key=key, window_kind="week",
                      window_start=start, window_end=start + WEEK, n=n, nps=nps, low=nps - half, high=nps + half,
                      promoters=n / 2, passives=0, detractors=n / 2, excluded={}, method="adjusted-wald"))


def market_store(url: str) -> Seeded:
    seeded = seed(url)
    add_market(url)
    return seeded


def add_market(url: str) -> None:
    """Over the seed: Velora's regions (one clearly above the total, one not, one thin), a product of Velora,
    competitors with a thin estimate and with none, and reasons on the two brands' newest week."""
    with session_scope(url) as s:
        velora, brixo = (s.scalar(select(Entity).where(Entity.name == n)) for n in ("Velora", "Brixo"))
        corvo = Entity(name="Corvo")
        go = Entity(name="Velora Go", kind="product", parent_id=velora.id)
        s.add_all([corvo, go])
        s.flush()
        velora.competitors = ["Brixo", "Corvo", "Nobody"]
        for region, n, nps, half in (("eu", 80, 40.0, 10.0), ("us", 40, 0.0, 15.0), ("asia", 5, -60.0, 70.0)):
            _estimate(s, velora, {"region": region}, n, nps, half)
        _estimate(s, go, {}, 50, -20.0, 14.0)
        _estimate(s, corvo, {}, 4, 90.0, 60.0)
        for entity in (velora, brixo):
            row = s.scalar(select(NpsEstimate).where(NpsEstimate.entity_id == entity.id,
                                                     NpsEstimate.segment_key == "",
                                                     NpsEstimate.window_start == LATEST))
            row.extra = {"reasons": REASONS[entity.name]}


def test_segments_show_each_region_against_the_total_and_thin_ones_as_not_enough(db_url: str) -> None:
    market_store(db_url)
    with session_scope(db_url) as s:
        view = reads.segments(s, "Velora", "week", "region", MIN_N)
    assert view["window"]["start"] == LATEST and view["window"]["label"] == f"week of {LATEST:%Y-%m-%d}"
    assert view["total"]["nps"] == 5.0 and view["total"]["enough"]
    eu, us, asia = view["segments"]
    assert [eu["value"], us["value"], asia["value"]] == ["eu", "us", "asia"]  # by NPS, the thin one last
    total = StoredEstimate({}, "week", LATEST, LATEST + WEEK, 120, 5.0, -7.0, 17.0, "adjusted-wald")
    expected = difference(StoredEstimate({}, "week", LATEST, LATEST + WEEK, 80, 40.0, 30.0, 50.0, "w"), total)
    assert eu["difference"] == pytest.approx({"diff": 35.0, "low": expected.low, "high": expected.high,
                                              "significant": True})
    assert us["estimate"]["enough"] and us["difference"]["significant"] is False
    assert asia["estimate"] == {**asia["estimate"], "n": 5, "enough": False} and asia["difference"] is None


def test_products_are_one_more_segment_kind_of_their_brand(db_url: str) -> None:
    market_store(db_url)
    with session_scope(db_url) as s:
        view = reads.segments(s, "Velora", "week", reads.PRODUCT, MIN_N)
        everyone = reads.entities(s)
    [product] = view["segments"]
    assert product["value"] == "Velora Go" and product["estimate"]["nps"] == -20.0
    assert product["difference"]["diff"] == pytest.approx(-25.0) and product["difference"]["significant"]
    from web.dashboard import segment_keys

    assert segment_keys(OnpsConfig(), everyone, "Velora")[-1] == "product"
    assert "product" not in segment_keys(OnpsConfig(), everyone, "Brixo")  # no products: no such cut


def test_market_ranks_by_nps_with_leads_and_reasons_only_where_both_have_enough(db_url: str) -> None:
    market_store(db_url)
    with session_scope(db_url) as s:
        view = reads.market(s, "Velora", ["Brixo", "Corvo", "Nobody"], "week", MIN_N)
    rows = {r["name"]: r for r in view["rows"]}
    assert [r["name"] for r in view["rows"]] == ["Brixo", "Velora", "Corvo", "Nobody"]
    assert rows["Brixo"]["rank"] == 1 and rows["Velora"]["rank"] == 2 and "rank" not in rows["Corvo"]
    assert rows["Brixo"]["lead"]["diff"] == pytest.approx(-15.0) and not rows["Brixo"]["lead"]["significant"]
    assert rows["Velora"]["lead"] is None and rows["Velora"]["is_entity"]
    # Corvo's +90 rests on 4 reviews: no rank, no lead, no reasons; Nobody has no estimate at all
    assert rows["Corvo"]["estimate"]["enough"] is False and rows["Corvo"]["lead"] is None
    assert rows["Corvo"]["reasons"] is None and rows["Nobody"]["estimate"] is None
    # each brand's seeded week has 30 detractors and 50 promoters: 15 of Brixo's detractors cite the app, 3 of
    # Velora's; 30 of Brixo's promoters cite support, 10 of Velora's
    [lower] = rows["Brixo"]["reasons"]["lower"]
    assert lower["code"] == "app" and lower["share"] == pytest.approx(50.0)
    assert lower["entity_share"] == pytest.approx(10.0) and lower["points"] == pytest.approx(40.0)
    [higher] = rows["Brixo"]["reasons"]["higher"]
    assert higher["code"] == "support" and higher["points"] == pytest.approx(60.0 - 20.0)


def test_overview_competitor_card_finds_the_competitors_estimate_of_the_same_window(sqlite_url: str) -> None:
    """Before, the card took the competitor's newest window and, when it was newer than the entity's, said "no
    estimate for this window" though one was stored; it now reads the market rows of the headline's window."""
    seeded = market_store(sqlite_url)
    with session_scope(sqlite_url) as s:
        brixo = s.scalar(select(Entity).where(Entity.name == "Brixo"))
        _estimate(s, brixo, {}, 120, 60.0, 12.0, start=LATEST + WEEK)  # Brixo is a week ahead of Velora
    client = TestClient(create_app(sqlite_url))
    client.cookies.set("onps_key", seeded.keys["read"])
    html = client.get("/?entity=Velora&window=week").text
    card = html[html.index('id="benchmark"'):html.index("</table>", html.index('id="benchmark"'))]
    assert "+20 <small>[8, 32] n=120</small>" in card and "-15" in card
    assert "Corvo" in card and "not enough data" in card and "no estimate for this window" in card  # Nobody


def test_segment_and_market_pages_and_api(sqlite_url: str) -> None:
    seeded = market_store(sqlite_url)
    client = TestClient(create_app(sqlite_url))
    client.cookies.set("onps_key", seeded.keys["read"])
    page = client.get("/segments?entity=Velora&window=week&by=region").text
    assert page.count('class="segment"') == 2 and page.count('class="segment thin"') == 1
    assert 'data-segment="asia">' in page and "not enough data" in page and ">higher</span>" in page
    assert client.get("/segments?entity=Velora&by=nonsense").status_code == 200  # falls back to the first key
    market = client.get("/market?entity=Velora").text
    assert market.index('data-entity="Brixo"') < market.index('data-entity="Velora"')
    assert "app +40 pts" in market and "support +40 pts" in market
    nav = client.get("/").text
    assert 'href="http://testserver/segments"' in nav and 'href="http://testserver/market"' in nav

    key = {"X-API-Key": seeded.keys["read"]}
    api = client.get("/api/segments", params={"entity": "Velora", "by": "region", "window": "week"},
                     headers=key).json()
    assert [s["value"] for s in api["segments"]] == ["eu", "us", "asia"] and api["window"]["kind"] == "week"
    assert client.get("/api/segments", params={"entity": "Velora", "by": "colour"}, headers=key).status_code == 422
    assert client.get("/api/segments", params={"entity": "Nope", "by": "region"}, headers=key).status_code == 404
    rows = client.get("/api/market", params={"entity": "Velora"}, headers=key).json()["rows"]
    assert [r["name"] for r in rows] == ["Brixo", "Velora", "Corvo", "Nobody"]
    assert rows[0]["reasons"]["lower"][0]["code"] == "app"
    assert client.get("/api/market", params={"entity": "Nope"}, headers=key).status_code == 404


def test_survey_trend_is_the_survey_side_of_the_comparison(db_url: str) -> None:
    """One computation of the survey NPS: the trend's survey line equals what `onps survey compare` pairs."""
    market_store(db_url)
    thresholds = OnpsConfig().thresholds
    with session_scope(db_url) as s:
        line = reads.survey_trend(s, thresholds, "Velora", "week")
        pairs, _ = reads.survey_comparison(s, thresholds, entity="Velora", window="week")
        assert reads.survey_trend(s, thresholds, "Brixo", "week") == []  # no answers: no line
    assert len(line) == 6 and {r["n"] for r in line} == {5}
    assert [(r["window_start"], r["nps"], r["low"], r["high"]) for r in line] == [
        (p.window_start, p.survey.nps, p.survey.low, p.survey.high) for p in pairs]


def test_trend_marks_events_in_its_span_and_draws_the_survey(sqlite_url: str) -> None:
    seeded = market_store(sqlite_url)
    client = TestClient(create_app(sqlite_url))
    client.cookies.set("onps_key", seeded.keys["read"])
    html = client.get("/?entity=Velora&window=week").text
    trend = html[html.index('id="nps-trend"'):html.index("</script>", html.index('id="nps-trend"'))]
    assert '"name":"smear campaign"' in trend and '"type":"rect"' in trend and '"name":"Velora survey"' in trend
    weeks = [{"entity": "A", "window_kind": "week", "window_start": FIRST_WEEK, "window_end": FIRST_WEEK + WEEK,
              "n": 50, "nps": 10.0, "low": 0.0, "high": 20.0, "method": "w"}]
    far = {"kind": "incident", "window_start": FIRST_WEEK + 40 * WEEK,
           "window_end": FIRST_WEEK + 40 * WEEK + timedelta(days=1), "id": 9}
    near = {**far, "window_start": FIRST_WEEK + timedelta(days=2), "window_end": FIRST_WEEK + timedelta(days=3)}
    assert '"name":"incident"' not in charts.nps_trend(weeks, events=[far])  # outside the trend: not drawn
    assert '"name":"incident"' in charts.nps_trend(weeks, events=[near])
