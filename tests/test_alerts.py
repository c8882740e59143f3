"""Alert rules over estimates and campaigns, one stored alert per cause, and `onps alerts` list/ack."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from config.schema import AlertsConfig
from flows.cli import app
from nps.alerts import campaign_alerts, estimate_alerts
from nps.organic import estimate_groups
from store.alerts_store import acknowledge, list_alerts, save_alerts
from store.engine import session_scope
from store.registry import sync_config
from store.schema import Alert

RULES = AlertsConfig().rules
THRESHOLDS = SimpleNamespace(dirichlet_below_n=50, thin_segment_n=30, copy_min_words=10)
PROM = {"p_promoter": 0.9, "p_passive": 0.05, "p_detractor": 0.05}
DETR = {"p_promoter": 0.05, "p_passive": 0.05, "p_detractor": 0.9}


def week(day: str, n_prom: int, n_detr: int, reason: str | None = None, tag: str = "") -> list[dict[str, Any]]:
    rows = []
    for i in range(n_prom + n_detr):
        probs = PROM if i < n_prom else DETR
        reasons = [{"code": reason, "polarity": "negative"}] if reason and i >= n_prom else []
        rows.append({"id": f"{day}-{tag}{i}", "text": f"{day} {tag} {i}", "entity": "Acme", "author": f"{day}{tag}{i}",
                     "published_at": f"{day}T12:00:00Z", "reasons": reasons, **probs})
    return rows


def weekly(rows: list[dict[str, Any]]) -> list[Any]:
    return estimate_groups(rows, ["entity"], "week", THRESHOLDS, train_prior=None)


def acme_ids(session: Any) -> dict[str, int]:
    """A store that knows one brand, Acme: its entity ids by name."""
    cfg = SimpleNamespace(entities=[SimpleNamespace(name="Acme", kind="brand", aliases={}, competitors=[],
                                                    parent=None)], sources=[])
    return sync_config(session, cfg).entities  # type: ignore[arg-type]


def test_nps_drop_detractor_surge_and_rising_reason() -> None:
    rows = week("2026-11-03", 80, 10, "price") + week("2026-11-10", 30, 60, "outage")
    drafts = {d.kind: d for d in estimate_alerts(weekly(rows), RULES)}
    assert set(drafts) == {"nps_drop", "detractor_surge", "reason_rising"}
    assert drafts["nps_drop"].severity == "warning" and drafts["reason_rising"].severity == "info"
    assert drafts["reason_rising"].payload["reason"] == "outage"
    assert drafts["nps_drop"].cause_key == "nps_drop:entity=Acme:week:2026-11-09T00:00:00+00:00"
    assert drafts["nps_drop"].window_start.isoformat().startswith("2026-11-09")


def test_a_stable_week_raises_nothing_and_a_missing_rule_is_off() -> None:
    stable = week("2026-11-03", 60, 30, "price") + week("2026-11-10", 58, 32, "price", tag="b")
    assert estimate_alerts(weekly(stable), RULES) == []
    falling = week("2026-11-03", 80, 10) + week("2026-11-10", 30, 60)
    only_surge = [r for r in RULES if r.kind == "detractor_surge"]
    assert [d.kind for d in estimate_alerts(weekly(falling), only_surge)] == ["detractor_surge"]


def test_small_windows_do_not_alert() -> None:
    rows = week("2026-11-03", 8, 1) + week("2026-11-10", 1, 8)  # a drop, but below min_n voices
    assert estimate_alerts(weekly(rows), RULES) == []


def test_campaign_and_incident_alerts() -> None:
    findings = [
        {"entity": "Acme", "kind": "smear", "window_start": "2026-11-05T00:00:00Z",
         "window_end": "2026-11-06T00:00:00Z", "member_ids": list(range(25)), "strength": 4.2, "p_value": 1e-6},
        {"entity": "Acme", "kind": "incident", "window_start": "2026-11-07T00:00:00Z",
         "window_end": "2026-11-08T00:00:00Z", "member_ids": list(range(40)), "strength": 3.0},
        {"entity": "Acme", "kind": "stuffing", "window_start": "2026-11-07T00:00:00Z",
         "window_end": "2026-11-08T00:00:00Z", "member_ids": [1, 2]},  # too few members
    ]
    drafts = campaign_alerts(findings, RULES)
    assert [(d.kind, d.severity) for d in drafts] == [("campaign", "critical"), ("incident", "warning")]
    assert drafts[0].cause_key == "campaign:Acme:smear:2026-11-05T00:00:00+00:00"


def test_one_alert_per_cause_and_acknowledged_causes_stay_quiet(db_url: str, tmp_path: Path) -> None:
    rows = week("2026-11-03", 80, 10, "price") + week("2026-11-10", 30, 60, "outage")
    drafts = estimate_alerts(weekly(rows), RULES)
    with session_scope(db_url) as session:
        ids = acme_ids(session)
        first = save_alerts(session, drafts, ids)
    assert len(first) == 3
    with session_scope(db_url) as session:
        assert save_alerts(session, drafts, ids) == []  # the same causes again: nothing new
        assert len(list_alerts(session)) == 3
        acknowledge(session, first[0], "tester")
    with session_scope(db_url) as session:
        save_alerts(session, drafts, ids)
        acked = session.get(Alert, first[0])
        assert acked is not None and acked.acknowledged_by == "tester"
        assert len(list_alerts(session)) == 2 and len(list_alerts(session, include_acknowledged=True)) == 3
        assert session.execute(select(Alert.entity_id).where(Alert.id == first[1])).scalar_one() == ids["Acme"]

    runner = CliRunner()
    env = {"ONPS_DATABASE_URL": db_url, "COLUMNS": "200"}
    listed = runner.invoke(app, ["alerts"], env=env)
    assert listed.exit_code == 0 and "detractor_surge" in listed.output and "tester" not in listed.output
    ack = runner.invoke(app, ["alerts", "--ack", str(first[1]), "--by", "analyst"], env=env)
    assert ack.exit_code == 0 and "acknowledged by analyst" in ack.output
    assert "analyst" in runner.invoke(app, ["alerts", "--all"], env=env).output
    missing = runner.invoke(app, ["alerts", "--ack", "9999"], env=env)
    assert missing.exit_code == 2 and "no alert with id 9999" in missing.output


def test_a_cause_raised_again_refreshes_an_open_alert_and_leaves_an_acknowledged_one(db_url: str) -> None:
    rows = week("2026-11-03", 80, 10, "price") + week("2026-11-10", 30, 60, "outage")
    drafts = estimate_alerts(weekly(rows), RULES)
    with session_scope(db_url) as session:
        ids = acme_ids(session)
        acked, open_id = save_alerts(session, drafts, ids)[:2]
        acknowledge(session, acked, "tester")
    later = [replace(d, title=f"{d.title} (again)", severity="info", payload={"again": True}) for d in drafts]
    with session_scope(db_url) as session:
        assert save_alerts(session, later, ids) == []
        kept, fresh = session.get(Alert, acked), session.get(Alert, open_id)
        assert kept is not None and fresh is not None
        assert kept.title == drafts[0].title and kept.severity == drafts[0].severity and "again" not in kept.payload
        assert fresh.title == f"{drafts[1].title} (again)" and fresh.severity == "info"
        assert fresh.payload == {"again": True}


def test_rules_run_on_stored_estimates(db_url: str) -> None:
    from store import queries
    from store.schema import NpsEstimate

    rows = week("2026-11-03", 80, 10, "price") + week("2026-11-10", 30, 60, "outage")
    with session_scope(db_url) as session:
        ids = acme_ids(session)
        for est in weekly(rows):
            session.add(NpsEstimate(entity_id=ids["Acme"], segment={}, segment_key="", window_kind="week",
                                    window_start=est.window_start, window_end=est.window_end, n=est.n,
                                    nps=est.nps, low=est.low, high=est.high, promoters=est.promoters,
                                    passives=est.passives, detractors=est.detractors, method=est.method,
                                    extra={"reasons": est.reasons}))
    with session_scope(db_url) as session:
        stored = queries.stored_estimates(session, "week", "Acme")
    assert sorted(d.kind for d in estimate_alerts(stored, RULES)) == sorted(
        d.kind for d in estimate_alerts(weekly(rows), RULES))


def test_an_enps_drop_is_its_own_alert_beside_a_steady_nps() -> None:
    """Employees' reviews falling while customers stay steady: one eNPS drop, nothing for the customers, and the
    two series never merge (issue #21)."""
    steady = week("2026-11-03", 60, 30, tag="c") + week("2026-11-10", 60, 30, tag="d")
    staff = [{**r, "audience": "employee"}
             for r in week("2026-11-03", 80, 10, tag="e") + week("2026-11-10", 30, 60, tag="f")]
    drops = [d for d in estimate_alerts(weekly(steady + staff), RULES) if d.kind == "nps_drop"]
    assert len(drops) == 1 and drops[0].title.startswith("eNPS fell")
    assert drops[0].payload["group"] == {"entity": "Acme", "audience": "employee"}
    assert "audience=employee" in drops[0].cause_key


def test_alerts_keep_to_the_horizon_of_the_newest_window() -> None:
    """A first run over years of history: only the windows ending within `horizon_days` of the entity's newest
    window alert; a draft with no window (an operator alert) always passes."""
    from datetime import UTC, datetime

    from nps.alerts import AlertDraft, source_alerts, within_horizon

    def draft(end: datetime | None) -> AlertDraft:
        return AlertDraft("incident", "warning", "Acme", None, end, f"incident:{end}", "t")

    newest = datetime(2026, 11, 30, tzinfo=UTC)
    drafts = [draft(datetime(2019, 3, 1, tzinfo=UTC)), draft(datetime(2026, 11, 2, tzinfo=UTC)), draft(newest),
              draft(None)]
    kept = within_horizon(drafts, newest, days=28)
    assert [d.window_end for d in kept] == [datetime(2026, 11, 2, tzinfo=UTC), newest, None]
    assert within_horizon(drafts, None, days=28) == drafts
    failure = {"source": "s", "entity": None, "pages": 3, "failed_pages": 3, "last_error": "u: HTTP 503"}
    [alert] = source_alerts([failure], RULES, datetime(2026, 12, 7, 3, tzinfo=UTC))
    assert alert.cause_key == "source_failed:s:2026-12-07" and "3 of 3 pages" in alert.title
    assert source_alerts([failure], [r for r in RULES if r.kind != "source_failed"], newest) == []
