"""Scores and reasons in the store: which documents still lack a score, and the scorer's findings written.

The score stage asks ``pending_score_ids`` each run instead of keeping its own list, so a run killed half-way
leaves nothing to repair; ``save_scores`` upserts on the natural keys, so scoring a batch again changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from nlp.result import Understanding
from store.schema import Document, Reason, Score
from store.upsert import upsert

SCORE_UPDATES = ("score", "p_promoter", "p_passive", "p_detractor", "confidence", "text_only_score", "p_levels",
                 "active_detractor", "touchpoint")  # what a second scoring by the same model version rewrites


def pending_score_ids(session: Session, model_version: str) -> list[int]:
    """Documents with no score from MODEL_VERSION, in id order: what is left to do, however the last run ended."""
    scored = exists().where(Score.document_id == Document.id, Score.model_version == model_version)
    return list(session.execute(select(Document.id).where(~scored).order_by(Document.id)).scalars())


def save_scores(session: Session, model_version: str, understood: Sequence[tuple[dict[str, Any], Understanding]]
                ) -> tuple[list[int], int]:
    """Store each record's score and reasons under MODEL_VERSION (the key the pending query looks for, whatever
    each result says); returns the scored document ids and the number of reasons."""
    score_rows: list[dict[str, Any]] = []
    reason_rows: list[dict[str, Any]] = []
    for record, u in understood:
        doc_id = int(record["id"])
        score_rows.append({
            "document_id": doc_id, "model_version": model_version, "score": u.score,
            "p_promoter": u.p_promoter, "p_passive": u.p_passive, "p_detractor": u.p_detractor,
            "confidence": u.confidence, "text_only_score": u.text_only_score,
            "p_levels": None if u.p_levels is None else list(u.p_levels),
            "active_detractor": u.active_detractor, "touchpoint": u.touchpoint,
        })
        reason_rows += [
            {"document_id": doc_id, "code": r.code, "polarity": r.polarity, "evidence": r.evidence[:500]}
            for r in u.reasons
        ]
    upsert(session, Score.__table__, score_rows, key=("document_id", "model_version"), update=SCORE_UPDATES)
    upsert(session, Reason.__table__, reason_rows, key=("document_id", "code", "polarity", "evidence"))
    return [row["document_id"] for row in score_rows], len(reason_rows)


def score_values(session: Session, ids: Sequence[int], model_version: str) -> dict[int, float]:
    """The derived 0-10 score of each of IDS that MODEL_VERSION scored (one batch: the ids go into the SQL)."""
    return dict(session.execute(select(Score.document_id, Score.score).where(
        Score.document_id.in_(list(ids)), Score.model_version == model_version)).all())
