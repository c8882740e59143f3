"""Estimates written to the store: an ``nps.organic.Estimate`` as its ``nps_estimates`` row, upserted on (entity,
segment, window) so a re-run replaces rather than adds. ``store.queries.stored_estimates`` reads them back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nps.organic import Estimate, segment_key
from store.clock import utcnow
from store.schema import NpsEstimate
from store.upsert import upsert

ALL_TIME = datetime(1970, 1, 1, tzinfo=UTC)  # window_start of the all-time estimate (the column is not null)
KEY = ("entity_id", "segment_key", "window_kind", "window_start")


def estimate_row(entity_id: int, est: Estimate, window_kind: str, channel: str | None, run_id: int
                 ) -> dict[str, Any]:
    """The stored form of EST: its segment without the entity, an eNPS's audience and the invited view's channel
    in the segment (an eNPS or the invited reviews' NPS is never the entity's NPS)."""
    segment = {k: v for k, v in est.group.items() if k != "entity"}
    if est.audience != "customer":
        segment["audience"] = est.audience
    if channel:
        segment["channel"] = channel
    return {
        "entity_id": entity_id, "segment": segment,
        "segment_key": segment_key(segment), "window_kind": window_kind,
        "window_start": est.window_start or ALL_TIME,
        "window_end": est.window_end or utcnow(), "n": est.n, "nps": est.nps,
        "low": est.low, "high": est.high, "promoters": est.promoters,
        "passives": est.passives, "detractors": est.detractors, "excluded": est.excluded,
        "method": est.method, "run_id": run_id,
        "extra": {"adjustment": est.adjustment, "reasons": est.reasons},
    }


def save_estimates(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Upsert ROWS (``estimate_row``) on their key; returns how many were written."""
    return upsert(session, NpsEstimate.__table__, rows, key=KEY,
                  update=[c for c in rows[0] if c not in KEY] if rows else None)


def stored_total_nps(session: Session, entity_id: int, window_kind: str, window_start: datetime) -> float | None:
    """The entity total's NPS stored for one window (None: not estimated before)."""
    return session.execute(select(NpsEstimate.nps).where(
        NpsEstimate.entity_id == entity_id, NpsEstimate.segment_key == "",
        NpsEstimate.window_kind == window_kind, NpsEstimate.window_start == window_start,
    )).scalar_one_or_none()
