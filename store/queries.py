"""Read helpers over the store for the estimate side: which entities a run touched, stored estimates, campaigns,
alerts and survey answers as plain values.

They return what ``nps/`` functions take (rows, estimate-like records), so the math never sees a session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from store.clock import utcnow
from store.organic import members_of
from store.schema import (
    Alert,
    BotVerdict,
    Campaign,
    CrawlRun,
    Document,
    Entity,
    NpsEstimate,
    Score,
    SurveyResponse,
)


@dataclass(frozen=True)
class StoredEstimate:
    """An ``nps_estimates`` row as an ``nps.organic.EstimateLike`` (what the alert rules and the survey comparison
    read): the one stored form of the estimate record."""

    group: dict[str, Any]
    window: str
    window_start: datetime | None  # None for the all-time estimate, as nps.organic gives it
    window_end: datetime
    n: float
    nps: float
    low: float
    high: float
    method: str
    detractors: float = 0.0
    promoters: float = 0.0
    reasons: dict[str, dict[str, float]] = field(default_factory=dict)


def entity_id(session: Session, name: str) -> int | None:
    return session.execute(select(Entity.id).where(Entity.name == name)).scalar_one_or_none()


def entity_ids(session: Session) -> dict[str, int]:
    """Every entity's id by name."""
    return dict(session.execute(select(Entity.name, Entity.id)).all())


def affected_entities(session: Session, since: datetime | None, published_since: datetime | None = None
                      ) -> dict[str, datetime | None]:
    """Entities with documents crawled, scored or (re-)judged since SINCE (all of them when None), or published
    since PUBLISHED_SINCE (a backfill), each with the earliest publication date among those documents, so the
    later stages recompute only the windows that changed."""
    stmt = (
        select(Entity.name, func.min(Document.published_at))
        .join(Document, Document.entity_id == Entity.id)
        .group_by(Entity.name)
    )
    if since is not None:
        recent_score = aliased(Score)
        scored = exists().where(recent_score.document_id == Document.id, recent_score.created_at >= since)
        judged = exists().where(BotVerdict.document_id == Document.id, BotVerdict.created_at >= since)
        stmt = stmt.where(or_(Document.crawled_at >= since, scored, judged))
    if published_since is not None:
        stmt = stmt.where(Document.published_at >= published_since)
    return dict(session.execute(stmt).all())


def stored_estimates(session: Session, window_kind: str, entity: str | Sequence[str] | None = None,
                     window_start: datetime | None = None) -> list[StoredEstimate]:
    """Estimates the nightly flow wrote for WINDOW_KIND (``all`` for all time), optionally of one entity (or
    several) and of the one window starting at WINDOW_START (as stored: 1970-01-01 for all time), which is what a
    segment or market view of one window reads instead of every window of the kind.

    Reason codes are read from ``extra["reasons"]`` where the flow stored them (the Estimate's ``reasons``).
    """
    stmt = (
        select(NpsEstimate, Entity.name)
        .join(Entity, Entity.id == NpsEstimate.entity_id)
        .where(NpsEstimate.window_kind == window_kind)
        .order_by(Entity.name, NpsEstimate.segment_key, NpsEstimate.window_start)
    )
    if isinstance(entity, str):
        stmt = stmt.where(Entity.name == entity)
    elif entity is not None:
        stmt = stmt.where(Entity.name.in_(list(entity)))
    if window_start is not None:
        stmt = stmt.where(NpsEstimate.window_start == window_start)
    return [
        StoredEstimate(
            group={"entity": name, **(row.segment or {})}, window=row.window_kind,
            window_start=None if row.window_kind == "all" else row.window_start,
            window_end=row.window_end, n=row.n, nps=row.nps, low=row.low, high=row.high, method=row.method,
            detractors=row.detractors, promoters=row.promoters,
            reasons=(row.extra or {}).get("reasons", {}),
        )
        for row, name in session.execute(stmt).all()
    ]


def stored_campaigns(session: Session, entity: str) -> list[dict[str, Any]]:
    """The entity's stored campaigns with their member documents, as the ``nps.alerts.campaign_alerts`` findings."""
    rows = list(session.execute(
        select(Campaign).join(Entity, Entity.id == Campaign.entity_id).where(Entity.name == entity)
    ).scalars())
    members = members_of(session, [c.id for c in rows])
    return [{"entity": entity, "kind": c.kind, "window_start": c.window_start, "window_end": c.window_end,
             "member_ids": members[c.id], "strength": c.strength, "p_value": c.p_value, "id": c.id} for c in rows]


def alerts_by_id(session: Session, ids: Sequence[int]) -> list[Alert]:
    """The alerts with these ids, in id order (the new ones a run publishes)."""
    return list(session.scalars(select(Alert).where(Alert.id.in_(list(ids))).order_by(Alert.id)))


def survey_responses(session: Session, entity: str | None = None) -> list[dict[str, Any]]:
    """Imported survey answers as dicts (``score, answered_at, segment, entity, batch, row_number``)."""
    stmt = select(SurveyResponse, Entity.name).outerjoin(Entity, Entity.id == SurveyResponse.entity_id)
    if entity is not None:
        stmt = stmt.where(Entity.name == entity)
    return [
        {"score": r.score, "answered_at": r.answered_at, "segment": r.segment or {}, "entity": name,
         "batch": r.batch, "row_number": r.row_number, "comment": r.comment}
        for r, name in session.execute(stmt.order_by(SurveyResponse.answered_at, SurveyResponse.id)).all()
    ]


def run_stage_detail(session: Session, run_id: int, stage: str) -> dict[str, Any]:
    """What stage STAGE of run RUN_ID recorded as its detail (``flows.report.record_stage``); empty when the run
    did not run that stage (a nightly with --no-crawl)."""
    run = session.get(CrawlRun, run_id)
    return dict(((run.report or {}).get("stages", {}).get(stage) or {}).get("detail") or {}) if run else {}


def run_started(session: Session, run_id: int) -> datetime:
    """When run RUN_ID started (now, for a run id the runs table does not hold)."""
    run = session.get(CrawlRun, run_id)
    return run.started_at if run is not None else utcnow()
