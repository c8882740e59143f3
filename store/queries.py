"""Read helpers over the store for the estimate side: stored estimates and survey answers as plain values.

They return what ``nps/`` functions take (rows, estimate-like records), so the math never sees a session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.organic import members_of
from store.schema import Campaign, Entity, NpsEstimate, SurveyResponse


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
    reasons: dict[str, dict[str, float]] = field(default_factory=dict)


def entity_id(session: Session, name: str) -> int | None:
    return session.execute(select(Entity.id).where(Entity.name == name)).scalar_one_or_none()


def stored_estimates(session: Session, window_kind: str, entity: str | None = None) -> list[StoredEstimate]:
    """Estimates the nightly flow wrote for WINDOW_KIND (``all`` for all time), optionally of one entity.

    Reason codes are read from ``extra["reasons"]`` where the flow stored them (the Estimate's ``reasons``).
    """
    stmt = (
        select(NpsEstimate, Entity.name)
        .join(Entity, Entity.id == NpsEstimate.entity_id)
        .where(NpsEstimate.window_kind == window_kind)
        .order_by(Entity.name, NpsEstimate.segment_key, NpsEstimate.window_start)
    )
    if entity is not None:
        stmt = stmt.where(Entity.name == entity)
    return [
        StoredEstimate(
            group={"entity": name, **(row.segment or {})}, window=row.window_kind,
            window_start=None if row.window_kind == "all" else row.window_start,
            window_end=row.window_end, n=row.n, nps=row.nps, low=row.low, high=row.high, method=row.method,
            detractors=row.detractors,
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
