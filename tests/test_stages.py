"""The nightly stages called one by one on a small SQLite store, without Prefect and without a crawl: what each
stage writes, and that running it again writes nothing new.

The store holds 34 real Keytrade reviews from Trustpilot: a week of 15 five-star reviews and four accounts posting
one older five-star text within two days (a copy-paste farm), then a week of 15 one-star reviews from established
accounts. The bot stage should flag the farm, the detector should see the second week as an incident
(real customers: they stay in the NPS), the estimate should show the drop, and the alert stage should raise it and
post it to a webhook once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from config.schema import AlertRule, AlertsConfig, OnpsConfig
from flows.report import start_run
from flows.stages import (
    Scope,
    StageResult,
    detect_campaigns_stage,
    estimate_windows,
    judge_batch,
    judge_plan,
    nps_changes,
    raise_alerts,
    score_batch,
    score_plan,
    scorer_for,
)
from store.engine import session_scope
from store.estimates import ALL_TIME
from store.migrate import upgrade
from store.organic import members_of
from store.schema import (
    Alert,
    Author,
    BotVerdict,
    Campaign,
    Document,
    DocumentOrganic,
    Entity,
    NpsEstimate,
    Reason,
    Score,
    Source,
)
from store.streams import document_records
from tests.real_streams import keytrade_reviews

WEEK1 = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday: the default alert window is the week
WEEK2 = WEEK1 + timedelta(days=7)
FARM = 4  # accounts posting one text: each has three copies by others, thresholds.bot_copy_authors


@dataclass
class Night:
    """The store after the stages ran once (``first``) and again (``second``), with what each run wrote."""

    url: str
    cfg: OnpsConfig
    promoters: list[int]
    farm: list[int]
    detractors: list[int]
    first: dict[str, StageResult]
    second: dict[str, StageResult]
    after_first: dict[str, Any]
    after_second: dict[str, Any]
    posted: list[list[dict[str, Any]]]  # the webhook bodies each run posted


def seed(url: str) -> tuple[list[int], list[int], list[int]]:
    """Store the reviews (one author each, a review count of 3) and return the ids of promoters, farm, detractors."""
    reviews = keytrade_reviews()
    long_enough = [r for r in reviews if len(r["text"]) > 40]
    fives = [r for r in long_enough if r["rating"] == 5][:15]
    ones = [r for r in long_enough if r["rating"] == 1][:15]
    copied = [r for r in reviews if r["rating"] == 5 and len(r["text"].split()) > 25][-1]
    groups = {"promoters": (fives, WEEK1), "farm": ([copied] * FARM, WEEK1 + timedelta(days=1)),
              "detractors": (ones, WEEK2)}
    ids: dict[str, list[int]] = {}
    with session_scope(url) as s:
        entity = Entity(name="Keytrade")
        s.add(entity)
        s.flush()
        source = Source(name="trustpilot", kind="trustpilot", base_url="http://127.0.0.1/", entity_id=entity.id)
        s.add(source)
        s.flush()
        n = 0
        for name, (chosen, start) in groups.items():
            docs = []
            for k, r in enumerate(chosen):
                author = Author(source_id=source.id, external_id=f"a{n}", facts={"review_count": 3})
                s.add(author)
                s.flush()
                when = start + timedelta(hours=9 + (k * 7) % 100)
                docs.append(Document(source_id=source.id, external_id=str(n), url=f"http://127.0.0.1/{n}",
                                     entity_id=entity.id, author_id=author.id, text=r["text"], title=r["title"],
                                     rating=r["rating"], rating_scale=5, rating_0_10=(r["rating"] - 1) * 2.5,
                                     language=r["language"], content_hash=f"h{n}", invited=False,
                                     published_at=when, crawled_at=when))
                n += 1
            s.add_all(docs)
            s.flush()
            ids[name] = [d.id for d in docs]
    return ids["promoters"], ids["farm"], ids["detractors"]


def snapshot(url: str) -> dict[str, Any]:
    """Every row the stages write, with its id: a second run that wrote something new changes this."""
    with session_scope(url) as s:
        return {
            "scores": sorted((r.id, r.document_id, r.model_version, r.score, r.p_promoter, r.p_detractor)
                             for r in s.scalars(select(Score))),
            "reasons": sorted((r.id, r.document_id, r.code, r.polarity) for r in s.scalars(select(Reason))),
            "verdicts": sorted((r.id, r.document_id, r.p_bot, r.decision, r.created_at)
                               for r in s.scalars(select(BotVerdict))),
            "campaigns": sorted((c.id, c.kind, c.window_start, c.strength, tuple(members_of(s, [c.id])[c.id]))
                                for c in s.scalars(select(Campaign))),
            "organic": sorted((r.document_id, r.excluded) for r in s.scalars(select(DocumentOrganic))),
            "estimates": sorted((e.id, e.segment_key, e.window_kind, e.window_start, e.n, e.nps, e.low, e.high)
                                for e in s.scalars(select(NpsEstimate))),
            "alerts": sorted((a.id, a.cause_key) for a in s.scalars(select(Alert))),
        }


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Night]:
    url = f"sqlite:///{tmp_path_factory.mktemp('stages') / 'onps.db'}"
    upgrade(url)
    promoters, farm, detractors = seed(url)
    ids = promoters + farm + detractors
    hook = HTTPServer(host="127.0.0.1", port=0)
    hook.expect_request("/hook", method="POST").respond_with_json({"ok": True})
    hook.start()
    rules = [AlertRule(kind="nps_drop", min_n=10), AlertRule(kind="incident", min_n=10)]
    cfg = OnpsConfig(alerts=AlertsConfig(rules=rules, webhooks=[hook.url_for("/hook")]))
    results, snapshots, posted = [], [], []
    try:
        for _ in range(2):
            run_id = start_run(url, "nightly", {})
            seen = len(hook.log)
            results.append({
                "score": score_batch(url, cfg, ids), "bots": judge_batch(url, cfg, ids),
                "campaigns": detect_campaigns_stage(url, cfg, run_id, Scope()),
                "estimate": estimate_windows(url, cfg, run_id, Scope()),
                "alerts": raise_alerts(url, cfg, run_id, Scope()),
            })
            snapshots.append(snapshot(url))
            posted.append([json.loads(request.get_data()) for request, _ in hook.log[seen:]])
    finally:
        hook.stop()
    yield Night(url, cfg, promoters, farm, detractors, first=results[0], second=results[1],
                after_first=snapshots[0], after_second=snapshots[1], posted=posted)


def test_score_batch_stores_a_score_per_document_and_nothing_is_left_to_score(night: Night) -> None:
    assert night.first["score"].counts["scored"] == 34
    assert night.first["score"].by_source == {"trustpilot": {"scored": 34}}
    with session_scope(night.url) as s:
        scores = {r.document_id: r for r in s.scalars(select(Score))}
    assert set(scores) == {*night.promoters, *night.farm, *night.detractors}
    with session_scope(night.url) as s:
        records = document_records(s, sorted(scores))
    version = scorer_for(night.cfg).model_version
    for record, u in zip(records, scorer_for(night.cfg).derive(records), strict=True):  # what the scorer says
        row = scores[int(record["id"])]
        assert row.model_version == version
        assert (row.score, row.p_promoter, row.p_detractor) == pytest.approx((u.score, u.p_promoter, u.p_detractor))
    promoters = sum(scores[d].p_promoter > 0.5 for d in night.promoters)
    detractors = sum(scores[d].p_detractor > 0.5 for d in night.detractors)
    assert promoters >= 13 and detractors == 15, (promoters, detractors)
    assert score_plan(night.url, night.cfg).batches == []


def test_judge_batch_flags_the_copy_paste_farm_and_only_it(night: Night) -> None:
    counts = night.first["bots"].counts
    assert counts["judged"] == 34 and counts["changed"] == 34
    with session_scope(night.url) as s:
        bots = set(s.scalars(select(BotVerdict.document_id).where(BotVerdict.decision.is_(True))))
    assert bots == set(night.farm)
    assert night.second["bots"].counts["changed"] == 0  # same verdicts: rows and their times kept
    assert judge_plan(night.url, night.cfg).batches == []


def test_detect_campaigns_stage_stores_the_detractor_week_as_an_incident(night: Night) -> None:
    assert night.first["campaigns"].counts["incident"] == 1
    [(_, kind, start, _, members)] = night.after_first["campaigns"]
    assert kind == "incident" and set(members) == set(night.detractors)
    assert WEEK1 < start <= WEEK2 + timedelta(days=7)


def test_estimate_windows_stores_the_drop_with_intervals_and_leaves_the_farm_out(night: Night) -> None:
    with session_scope(night.url) as s:
        totals = {(e.window_kind, e.window_start): e for e in s.scalars(
            select(NpsEstimate).where(NpsEstimate.segment_key == ""))}
        organic = dict(s.execute(select(DocumentOrganic.document_id, DocumentOrganic.excluded)).all())
    before, after = totals[("week", WEEK1)], totals[("week", WEEK2)]
    assert before.n == after.n == 15  # the farm is left out; the incident's reviews stay in
    assert before.low < before.nps < before.high and after.low < after.nps <= after.high
    assert before.nps > 50 and after.nps < -50 and after.high < before.low
    assert totals[("all", ALL_TIME)].n == 30 and totals[("all", ALL_TIME)].excluded == {"bot": FARM}
    assert {organic[d] for d in night.farm} == {"bot"}
    assert {organic[d] for d in night.detractors} == {None}
    changes = night.first["estimate"].detail["nps_changes"]
    assert [c["window"] for c in changes] == ["all time", "week of 2026-11-09"]
    assert [c["before"] for c in changes] == [None, None]
    assert [c["before"] for c in night.second["estimate"].detail["nps_changes"]] == [c["nps"] for c in changes]


def test_raise_alerts_stores_the_drop_and_the_incident_and_posts_them_once(night: Night) -> None:
    counts = night.first["alerts"].counts
    assert counts["incident"] == 1 and counts["nps_drop"] >= 1 and counts["raised"] == counts["current"]
    assert counts["webhooks_ok"] == counts["raised"] and counts["webhooks_failed"] == 0
    titles = night.first["alerts"].detail["alerts"]
    assert "NPS fell 96 -> -100 (entity=Keytrade, week of 2026-11-09)" in titles
    assert sorted(body["id"] for body in night.posted[0]) == [a for a, _ in night.after_first["alerts"]]
    assert night.second["alerts"].counts["raised"] == 0 and night.second["alerts"].counts["current"] == counts["raised"]
    assert night.posted[1] == []


def test_a_second_run_of_every_stage_writes_nothing_new(night: Night) -> None:
    assert night.after_second == night.after_first
    assert night.second["score"].counts["scored"] == 34  # scored again in place: same rows, same figures


def test_nps_changes_sets_the_totals_about_to_be_written_beside_the_stored_ones(night: Night) -> None:
    def row(segment_key: str, kind: str, start: datetime, nps: float) -> dict[str, Any]:
        return {"segment_key": segment_key, "window_kind": kind, "window_start": start, "nps": nps, "low": nps - 9,
                "high": nps + 9, "n": 20}

    week3 = WEEK2 + timedelta(days=7)
    rows = [row("", "week", WEEK1, 10.0), row("", "week", week3, 20.0), row("", "all", ALL_TIME, 30.0),
            row("source=trustpilot", "week", week3, 40.0), row("", "month", WEEK1, 50.0)]
    with session_scope(night.url) as s:
        entity_id = s.execute(select(Entity.id)).scalar_one()
        stored_all = s.scalar(select(NpsEstimate.nps).where(NpsEstimate.segment_key == "",
                                                             NpsEstimate.window_kind == "all"))
        changes = nps_changes(s, entity_id, "Keytrade", rows, "week")
    assert changes == [
        {"entity": "Keytrade", "window": "all time", "before": stored_all, "nps": 30.0, "low": 21.0, "high": 39.0,
         "n": 20},
        {"entity": "Keytrade", "window": "week of 2026-11-16", "before": None, "nps": 20.0, "low": 11.0,
         "high": 29.0, "n": 20},
    ]

