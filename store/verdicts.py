"""Bot verdicts in the store: which documents still need one, the stream a verdict is judged against, and the
verdicts written.

A verdict reads the entity's stream up to a little after the review (models.features), so what is pending and
what context comes with it are decided here, over the stored scores, and the bot stage only judges.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from models.verdicts import BotJudgement
from store.clock import utcnow
from store.schema import BotVerdict, Document, Score
from store.scores import score_values
from store.streams import author_document_ids, author_ids_of, document_records, entity_document_ids
from store.upsert import upsert

CONTEXT_CHUNK = 5000  # document ids per query when reading the context (SQLite's parameter limit is higher)


def pending_judge_units(session: Session, score_model: str, bot_model: str, reach_days: float) -> list[list[int]]:
    """The documents to (re)judge, one list per entity: every scored document without a verdict from BOT_MODEL,
    and the entity's documents published from REACH_DAYS before the earliest of those on.

    A document that arrives late (an out-of-order crawl, a page fetched again) changes the verdicts of the reviews
    after it: they are judged again, and the verdicts come out as if the stream had arrived in order.
    """
    judged = exists().where(BotVerdict.document_id == Score.document_id, BotVerdict.model_version == bot_model)
    scored = (select(Document.id, Document.entity_id, Document.published_at)
              .join(Score, and_(Score.document_id == Document.id, Score.model_version == score_model)))
    pending = session.execute(scored.where(~judged)).all()
    units: dict[int | None, set[int]] = defaultdict(set)
    earliest: dict[int | None, datetime] = {}
    for doc_id, entity_id, published in pending:
        units[entity_id].add(doc_id)
        if published is not None and (entity_id not in earliest or published < earliest[entity_id]):
            earliest[entity_id] = published
    for entity_id, first in earliest.items():
        where = Document.entity_id.is_(None) if entity_id is None else Document.entity_id == entity_id
        later = session.scalars(scored.with_only_columns(Document.id).where(
            where, Document.published_at >= first - timedelta(days=reach_days)))
        units[entity_id].update(later)
    return [sorted(ids) for _, ids in sorted(units.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))]


def judge_context(session: Session, ids: Sequence[int], score_model: str) -> list[dict[str, Any]]:
    """The rest of the stream the documents IDS belong to: every other scored document of their entities and of
    their authors, as records with the derived ``score`` (the filter reads it where a review has no rating)."""
    wanted = set(ids)
    entities = set(session.scalars(select(Document.entity_id).where(Document.id.in_(list(ids))).distinct()))
    others = [d for e in entities for d in entity_document_ids(session, e) if d not in wanted]
    others += author_document_ids(session, author_ids_of(session, list(ids)), wanted | set(others))
    ordered = sorted(others)
    records = []
    for start in range(0, len(ordered), CONTEXT_CHUNK):
        chunk = ordered[start : start + CONTEXT_CHUNK]
        scores = score_values(session, chunk, score_model)
        records += [{**r, "score": scores[int(r["id"])]} for r in document_records(session, chunk)
                    if int(r["id"]) in scores]
    return records


def save_verdicts(session: Session, model_version: str, judged: Sequence[tuple[dict[str, Any], BotJudgement]]
                  ) -> int:
    """Store each record's verdict; returns how many changed. A verdict that did not change keeps its row (and
    its time), so only real changes make the later stages re-estimate windows (``store.queries.affected_entities``).
    """
    ids = [int(r["id"]) for r, _ in judged]
    stored = {v.document_id: v for v in session.scalars(select(BotVerdict).where(
        BotVerdict.document_id.in_(ids), BotVerdict.model_version == model_version))}
    rows: list[dict[str, Any]] = []
    for record, j in judged:
        row: dict[str, Any] = {"document_id": int(record["id"]), "model_version": j.model_version, "p_bot": j.p_bot,
               "decision": bool(j.bot), "evidence": list(j.evidence), "created_at": utcnow()}
        before = stored.get(row["document_id"])
        if before is None or abs(before.p_bot - j.p_bot) > 1e-9 or before.decision != j.bot \
                or list(before.evidence or []) != row["evidence"]:
            rows.append(row)
    return upsert(session, BotVerdict.__table__, rows, key=("document_id", "model_version"),
                  update=("p_bot", "decision", "evidence", "created_at"))
