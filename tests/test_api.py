"""The REST API over a real seeded store (SQLite and PostgreSQL): auth, scopes, revocation, filters, payloads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from store.engine import session_scope
from store.schema import (
    Alert,
    BotVerdict,
    Campaign,
    CampaignMember,
    Document,
    DocumentOrganic,
    Entity,
    NpsEstimate,
    Reason,
    Score,
    Source,
    SurveyResponse,
)
from web.app import create_app
from web.keys import create_key, revoke_key

WEEK = timedelta(days=7)
FIRST_WEEK = datetime(2026, 9, 7, tzinfo=UTC)  # a Monday


@dataclass
class Seeded:
    """What the seed wrote, so tests compare the API against it rather than against constants."""

    keys: dict[str, str] = field(default_factory=dict)
    docs: dict[str, int] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)
    campaign_id: int = 0
    velora_nps: list[float] = field(default_factory=list)


def _doc(source: Source, entity: Entity, ext: str, text: str, when: datetime, **kw: object) -> Document:
    return Document(source_id=source.id, external_id=ext, url=f"http://127.0.0.1/r/{ext}", entity_id=entity.id,
                    text=text, content_hash=f"h-{ext}", published_at=when, language="en", **kw)


def seed(url: str) -> Seeded:
    """Two competing brands with scored, reasoned, bot-checked reviews, one smear campaign, weekly estimates,
    survey answers, two alerts and one API key per scope (plus a revoked one)."""
    out = Seeded()
    with session_scope(url) as s:
        velora = Entity(name="Velora", competitors=["Brixo"], aliases={"en": ["Velora"]})
        brixo = Entity(name="Brixo", competitors=["Velora"])
        s.add_all([velora, brixo])
        s.flush()
        shop = Source(name="velora-shop", kind="schemaorg", base_url="http://127.0.0.1/", entity_id=velora.id,
                      region="eu")
        forum = Source(name="brixo-forum", kind="discourse", category="forum", base_url="http://127.0.0.1/f",
                       entity_id=brixo.id)
        s.add_all([shop, forum])
        s.flush()
        base = FIRST_WEEK + 5 * WEEK
        specs = [  # name, entity, source, text, (p_promoter, p_passive, p_detractor), reason, bot
            ("late", velora, shop, "The parcel arrived two weeks late and support never answered.",
             (0.05, 0.10, 0.85), ("delivery", "negative", "arrived two weeks late"), False),
            ("broken", velora, shop, "Broken on arrival. Avoid, I told all my friends to stay away.",
             (0.02, 0.08, 0.90), ("quality", "negative", "Broken on arrival"), False),
            ("botty", velora, shop, "Terrible terrible terrible product do not buy.",
             (0.01, 0.04, 0.95), ("quality", "negative", "Terrible"), True),
            ("smear1", velora, shop, "Scam company, worst ever, never again.",
             (0.02, 0.03, 0.95), ("trust", "negative", "Scam company"), False),
            ("smear2", velora, shop, "Scam company, stole my money.",
             (0.02, 0.03, 0.95), ("trust", "negative", "Scam company"), False),
            ("love", velora, shop, "Great quality and friendly staff, I recommend Velora to everyone.",
             (0.90, 0.07, 0.03), ("quality", "positive", "Great quality"), False),
            ("fine", velora, shop, "It is fine, does the job.", (0.20, 0.65, 0.15), None, False),
            ("brixo-good", brixo, forum, "Brixo support fixed my issue in minutes.",
             (0.85, 0.10, 0.05), ("support", "positive", "fixed my issue in minutes"), False),
            ("brixo-bad", brixo, forum, "Brixo app crashes every day.",
             (0.05, 0.15, 0.80), ("app", "negative", "crashes every day"), False),
        ]
        for i, (name, entity, source, text, probs, reason, bot) in enumerate(specs):
            doc = _doc(source, entity, name, text, base + timedelta(hours=i), rating=4.0, rating_scale=5.0,
                       rating_0_10=8.0, title=f"About {entity.name}")
            s.add(doc)
            s.flush()
            out.docs[name] = doc.id
            s.add(Score(document_id=doc.id, model_version="test-1", score=10 * probs[0] + 7.5 * probs[1] + 3 *
                        probs[2], p_promoter=probs[0], p_passive=probs[1], p_detractor=probs[2],
                        confidence=max(probs), active_detractor=name == "broken"))
            if reason:
                s.add(Reason(document_id=doc.id, code=reason[0], polarity=reason[1], evidence=reason[2]))
            s.add(BotVerdict(document_id=doc.id, model_version="bots-1", p_bot=0.97 if bot else 0.04,
                             decision=bot, evidence=["burst of identical texts"] if bot else []))
        camp = Campaign(entity_id=velora.id, kind="smear", window_start=base, window_end=base + timedelta(days=1),
                        member_authors=["a1", "a2"], strength=0.93, p_value=1e-5,
                        evidence={"shared_phrase": "Scam company", "burst_ratio": 12.0})
        s.add(camp)
        s.flush()
        s.add_all(CampaignMember(campaign_id=camp.id, document_id=out.docs[m]) for m in ("smear1", "smear2"))
        # what the estimate stage writes from the organic rule: the bot and the campaign members are out
        for name, doc_id in out.docs.items():
            s.add(DocumentOrganic(document_id=doc_id, excluded="bot" if name == "botty" else
                                  "campaign" if name.startswith("smear") else None))
        out.campaign_id = camp.id
        for week in range(6):
            start = FIRST_WEEK + week * WEEK
            for entity, nps in ((velora, 30.0 - 5 * week), (brixo, 10.0 + 2 * week)):
                s.add(NpsEstimate(entity_id=entity.id, segment={}, segment_key="", window_kind="week",
                                  window_start=start, window_end=start + WEEK, n=120, nps=nps, low=nps - 12,
                                  high=nps + 12, promoters=50, passives=40, detractors=30,
                                  excluded={"bots": 3, "campaign": 2}, method="adjusted-wald"))
                if entity is velora:
                    out.velora_nps.append(nps)
            s.add(NpsEstimate(entity_id=velora.id, segment={"source": "velora-shop"},
                              segment_key="source=velora-shop", window_kind="week", window_start=start,
                              window_end=start + WEEK, n=20, nps=5.0, low=-30, high=40, promoters=8, passives=5,
                              detractors=7, excluded={}, method="pooled-to-parent"))
            for j, score in enumerate([10, 9, 8, 3, 9]):
                s.add(SurveyResponse(batch="b1", row_number=week * 10 + j, answer_key=f"b1-{week}-{j}",
                                     entity_id=velora.id, score=score,
                                     answered_at=start + timedelta(days=1, hours=j), segment={"region": "eu"}))
        drop = Alert(kind="nps_drop", severity="warning", entity_id=velora.id, cause_key="nps_drop:Velora:w5",
                     title="Velora NPS fell below last week's interval", window_start=base,
                     window_end=base + WEEK, payload={"previous": 5.0, "now": 5.0 - 5, "n": 120},
                     created_at=base + timedelta(days=6))
        smear = Alert(kind="campaign", severity="critical", entity_id=velora.id,
                      cause_key=f"campaign:{camp.id}", title="Smear campaign against Velora",
                      payload={"campaign_id": camp.id, "members": 2}, created_at=base + timedelta(days=2))
        s.add_all([drop, smear])
        s.flush()
        out.alerts = {"drop": drop.id, "smear": smear.id}
        for scope in ("read", "write", "admin"):
            out.keys[scope] = create_key(s, f"{scope}-user", scope)[1]
        revoked, out.keys["revoked"] = create_key(s, "gone", "admin")
        revoke_key(s, revoked.id)
    return out


@pytest.fixture
def api(db_url: str) -> tuple[TestClient, Seeded]:
    seeded = seed(db_url)
    return TestClient(create_app(db_url)), seeded


def _h(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def test_health_needs_no_key(api: tuple[TestClient, Seeded]) -> None:
    client, _ = api
    assert client.get("/health").json() == {"status": "ok", "database": "ok"}


def test_health_reports_an_unreachable_database() -> None:
    reply = TestClient(create_app("postgresql://onps@127.0.0.1:1/nowhere")).get("/health")
    assert reply.status_code == 503 and reply.json() == {"status": "degraded", "database": "unreachable"}


KEYED = ["/api/entities", "/api/estimates", "/api/reviews", "/api/alerts", "/api/campaigns", "/api/worklist",
         "/api/surveys/compare", "/feeds/alerts.atom", "/feeds/alerts.json"]


def test_every_endpoint_but_health_needs_a_live_key(api: tuple[TestClient, Seeded]) -> None:
    client, seeded = api
    for path in KEYED:
        missing = client.get(path)
        assert missing.status_code == 401 and "API key" in missing.json()["detail"], path
        assert client.get(path, headers=_h("onps_not-a-real-key")).status_code == 401, path
        assert client.get(path, headers=_h(seeded.keys["revoked"])).status_code == 401, path
        assert client.get(path, headers=_h(seeded.keys["read"])).status_code == 200, path
        bearer = client.get(path, headers={"Authorization": f"Bearer {seeded.keys['read']}"})
        assert bearer.status_code == 200, path


def test_api_ignores_key_in_query_and_cookie(api: tuple[TestClient, Seeded]) -> None:
    """Only the feeds take ?key=; the API takes headers only, so a cookie cannot be ridden cross-site."""
    client, seeded = api
    assert client.get(f"/api/entities?key={seeded.keys['read']}").status_code == 401
    client.cookies.set("onps_key", seeded.keys["admin"])
    assert client.post(f"/api/alerts/{seeded.alerts['drop']}/ack").status_code == 401


def test_acknowledge_needs_write_scope_and_sticks(api: tuple[TestClient, Seeded]) -> None:
    client, seeded = api
    alert_id = seeded.alerts["drop"]
    refused = client.post(f"/api/alerts/{alert_id}/ack", headers=_h(seeded.keys["read"]))
    assert refused.status_code == 403 and "write" in refused.json()["detail"]
    done = client.post(f"/api/alerts/{alert_id}/ack", headers=_h(seeded.keys["write"]))
    assert done.status_code == 200
    assert done.json()["acknowledged_by"] == "write-user" and done.json()["acknowledged_at"]
    again = client.post(f"/api/alerts/{alert_id}/ack", headers=_h(seeded.keys["admin"]))
    assert again.json()["acknowledged_by"] == "write-user"  # the first acknowledgement is kept
    open_only = client.get("/api/alerts?acknowledged=false", headers=_h(seeded.keys["read"])).json()
    assert [a["id"] for a in open_only] == [seeded.alerts["smear"]]
    assert client.post("/api/alerts/999999/ack", headers=_h(seeded.keys["write"])).status_code == 404


def test_entities_and_estimates_filters(api: tuple[TestClient, Seeded]) -> None:
    client, seeded = api
    key = _h(seeded.keys["read"])
    entities = {e["name"]: e for e in client.get("/api/entities", headers=key).json()}
    assert set(entities) == {"Velora", "Brixo"} and entities["Velora"]["competitors"] == ["Brixo"]

    total = client.get("/api/estimates?entity=Velora&segment=total&window=week", headers=key).json()
    assert [e["nps"] for e in total] == seeded.velora_nps
    assert all(e["low"] < e["nps"] < e["high"] and e["segment"] == {} for e in total)
    assert total[0]["excluded"] == {"bots": 3, "campaign": 2} and total[0]["method"] == "adjusted-wald"

    both = client.get("/api/estimates?entity=Velora&entity=Brixo&segment=total", headers=key).json()
    assert {e["entity"] for e in both} == {"Velora", "Brixo"} and len(both) == 12
    seg = client.get("/api/estimates?entity=Velora&segment=source=velora-shop", headers=key).json()
    assert len(seg) == 6 and all(e["method"] == "pooled-to-parent" for e in seg)
    assert len(client.get("/api/estimates?entity=Velora", headers=key).json()) == 12

    since = (FIRST_WEEK + 4 * WEEK).isoformat()
    recent = client.get("/api/estimates", params={"entity": "Velora", "segment": "total", "from": since},
                        headers=key).json()
    assert [e["nps"] for e in recent] == seeded.velora_nps[4:]
    assert client.get("/api/estimates?window=fortnight", headers=key).status_code == 422
    assert client.get("/api/estimates?segment=nonsense", headers=key).status_code == 422


def test_reviews_carry_score_reasons_verdict_and_campaign(api: tuple[TestClient, Seeded]) -> None:
    client, seeded = api
    key = _h(seeded.keys["read"])
    page = client.get("/api/reviews?entity=Velora&limit=3", headers=key).json()
    assert page["total"] == 7 and len(page["items"]) == 3 and page["limit"] == 3
    second = client.get("/api/reviews?entity=Velora&limit=3&offset=3", headers=key).json()
    assert not {r["id"] for r in page["items"]} & {r["id"] for r in second["items"]}

    detractors = client.get("/api/reviews?class=detractor", headers=key).json()["items"]
    assert {r["id"] for r in detractors} == {seeded.docs[n] for n in ("late", "broken", "botty", "smear1",
                                                                       "smear2", "brixo-bad")}
    assert {r["id"] for r in client.get("/api/reviews?bot=true", headers=key).json()["items"]} == {
        seeded.docs["botty"]}
    by_reason = client.get("/api/reviews?reason=trust", headers=key).json()["items"]
    assert {r["id"] for r in by_reason} == {seeded.docs["smear1"], seeded.docs["smear2"]}

    one = client.get(f"/api/reviews/{seeded.docs['smear1']}", headers=key).json()
    assert one["score"]["class"] == "detractor" and one["score"]["p_detractor"] == pytest.approx(0.95)
    assert one["reasons"] == [{"code": "trust", "polarity": "negative", "evidence": "Scam company"}]
    assert one["bot"]["decision"] is False
    assert one["campaigns"] == [{"id": seeded.campaign_id, "kind": "smear", "status": "open"}]
    assert client.get("/api/reviews/999999", headers=key).status_code == 404


def test_worklist_is_organic_high_confidence_detractors(api: tuple[TestClient, Seeded]) -> None:
    client, seeded = api
    items = client.get("/api/worklist?entity=Velora", headers=_h(seeded.keys["read"])).json()
    assert [i["id"] for i in items] == [seeded.docs["broken"], seeded.docs["late"]]  # newest first
    assert items[0]["reasons"][0]["code"] == "quality" and items[0]["url"].startswith("http://127.0.0.1/r/")
    assert items[0]["dashboard_url"].endswith(f"/reviews/{seeded.docs['broken']}")


def test_campaigns_and_alerts_listing(api: tuple[TestClient, Seeded]) -> None:
    client, seeded = api
    key = _h(seeded.keys["read"])
    camps = client.get("/api/campaigns?entity=Velora", headers=key).json()
    assert len(camps) == 1 and camps[0]["member_documents"] == [seeded.docs["smear1"], seeded.docs["smear2"]]
    assert client.get("/api/campaigns?kind=stuffing", headers=key).json() == []
    alerts = client.get("/api/alerts", headers=key).json()
    assert [a["id"] for a in alerts] == [seeded.alerts["drop"], seeded.alerts["smear"]]  # newest first
    assert [a["kind"] for a in client.get("/api/alerts?severity=critical", headers=key).json()] == ["campaign"]


def test_survey_comparison_pairs_windows_with_both_intervals(api: tuple[TestClient, Seeded]) -> None:
    client, seeded = api
    key = _h(seeded.keys["read"])
    reply = client.get("/api/surveys/compare?entity=Velora&window=week", headers=key).json()
    pairs = reply["comparisons"]
    assert [p["organic"]["nps"] for p in pairs] == seeded.velora_nps
    for pair, organic in zip(pairs, seeded.velora_nps, strict=True):
        assert pair["survey"]["n"] == 5 and pair["survey"]["nps"] == pytest.approx(40.0)  # 3 of 5 promote, 1 not
        assert pair["difference"] == pytest.approx(40.0 - organic, abs=0.01)
        assert pair["difference_low"] < pair["difference"] < pair["difference_high"]
        assert pair["significant"] == (pair["difference_low"] > 0 or pair["difference_high"] < 0)
    assert client.get("/api/surveys/compare?entity=Brixo&window=week", headers=key).json() == {
        "comparisons": [], "correlations": {}}
    assert client.get("/api/surveys/compare?by=region%3Bdrop", headers=key).status_code == 422
