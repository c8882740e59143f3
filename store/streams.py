"""Stored documents read back as the records of docs/CONTRACTS.md: one batch by id, or one entity's whole stream.

The nightly stages read only through these, so a stored document and its JSON-lines form (what `onps score`
reads) carry the same fields and get the same features, verdicts and exclusions. Which bot verdicts and which
campaigns count against a document is decided here once (``store.organic``), in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

from nlp.result import ReasonHit, Understanding
from nps.record import EMPLOYEE_FIELDS, DocumentRecord, source_family
from store.organic import in_excluding_campaign
from store.schema import Author, BotVerdict, Document, Entity, Reason, Score, Source

RECORD_COLUMNS = (Document, Source.name, Entity.name, Author.external_id, Author.display_name, Author.facts,
                  Source.category)


def with_record_joins(stmt: Select[Any]) -> Select[Any]:
    """Join what a record needs beside the document: its source, entity and author."""
    return (stmt.join(Source, Source.id == Document.source_id)
            .outerjoin(Entity, Entity.id == Document.entity_id)
            .outerjoin(Author, Author.id == Document.author_id))


def as_record(doc: Document, source: str, entity: str | None, author: str | None, author_name: str | None,
              facts: dict[str, Any] | None, category: str | None) -> DocumentRecord:
    """A stored document as the record of docs/CONTRACTS.md (plus the content hash the organic rules use);
    ``source_family`` comes from the source's category (``nps.record.source_family``), so the nightly estimates
    it as a segment like ``source``."""
    extra = doc.extra or {}
    record: DocumentRecord = {
        "id": str(doc.id),
        "text": doc.text,
        "title": doc.title,
        "rating": doc.rating,
        "rating_scale": doc.rating_scale,
        "rating_0_10": doc.rating_0_10,
        "lang": doc.language,
        "author": author,
        "author_name": author_name or extra.get("author_name"),
        "author_facts": facts or {},
        "published_at": doc.published_at.isoformat() if doc.published_at else None,
        "source": source,
        "source_family": source_family(category),
        "entity": entity,
        "region": doc.region,
        "touchpoint": doc.touchpoint,
        "url": doc.url,
        "invited": doc.invited,
        "channel": extra.get("channel"),
        "company_reply": doc.company_reply,
        "app_version": doc.app_version,
        "content_hash": doc.content_hash,
    }
    # documents.extra is untyped JSON: these are the record's own fields the persist pipeline put there
    record.update(cast(DocumentRecord, {key: extra[key] for key in EMPLOYEE_FIELDS if extra.get(key) is not None}))
    if extra:
        record["extra"] = extra
    return record


def document_records(session: Session, ids: Iterable[int]) -> list[dict[str, Any]]:
    """The documents with these ids (one batch: the id list goes into the SQL) as records, in id order."""
    stmt = with_record_joins(select(*RECORD_COLUMNS)).where(Document.id.in_(list(ids))).order_by(Document.id)
    return [{**as_record(*row)} for row in session.execute(stmt).all()]  # rows: the stages add fields


def entity_document_ids(session: Session, entity_id: int | None) -> list[int]:
    """Every stored document of one entity (None: the documents no entity was found for), in id order."""
    where = Document.entity_id.is_(None) if entity_id is None else Document.entity_id == entity_id
    return list(session.scalars(select(Document.id).where(where).order_by(Document.id)))


def author_document_ids(session: Session, author_ids: Iterable[int], outside: Iterable[int]) -> list[int]:
    """The other documents of these authors (on other entities): the author's side of the bot filter's context."""
    authors, skip = list(author_ids), set(outside)
    if not authors:
        return []
    found = session.scalars(select(Document.id).where(Document.author_id.in_(authors)).order_by(Document.id))
    return [i for i in found if i not in skip]


def author_ids_of(session: Session, doc_ids: Sequence[int]) -> list[int]:
    found = session.scalars(select(Document.author_id).where(Document.id.in_(list(doc_ids))).distinct())
    return [a for a in found if a is not None]


def entity_stream(session: Session, entity: str, score_model: str, bot_model: str | None) -> list[dict[str, Any]]:
    """One entity's scored documents as records with scores, reasons, P(bot), the bot decision and ``campaign``
    (member of a campaign that keeps it out of the organic NPS, ``store.organic``) attached.

    One joined query (not an id list: an entity may have more documents than SQLite takes parameters).
    """
    stmt = with_record_joins(select(*RECORD_COLUMNS, Score, BotVerdict.p_bot, BotVerdict.decision,
                                    in_excluding_campaign(Document.id).label("campaign")))
    stmt = (
        stmt.join(Score, and_(Score.document_id == Document.id, Score.model_version == score_model))
        .outerjoin(BotVerdict, and_(BotVerdict.document_id == Document.id,
                                    BotVerdict.model_version == (bot_model or "")))
        .where(Entity.name == entity)
        .order_by(Document.id)
    )
    reasons: dict[int, list[dict[str, str]]] = {}
    for doc_id, code, polarity in session.execute(
        select(Reason.document_id, Reason.code, Reason.polarity).join(Document, Document.id == Reason.document_id)
        .join(Entity, Entity.id == Document.entity_id).where(Entity.name == entity)
    ).all():
        reasons.setdefault(doc_id, []).append({"code": code, "polarity": polarity})
    out = []
    for *columns, score, p_bot, decision, campaign in session.execute(stmt).all():
        record: dict[str, Any] = {**as_record(*columns)}  # a row: the record and its scores
        record.update(
            score=score.score, p_promoter=score.p_promoter, p_passive=score.p_passive,
            p_detractor=score.p_detractor, p_levels=score.p_levels, confidence=score.confidence, p_bot=p_bot or 0.0,
            bot=bool(decision), campaign=bool(campaign), active_detractor=score.active_detractor,
            reasons=reasons.get(score.document_id, []),
        )
        out.append(record)
    return out


def stored_understandings(session: Session, records: Sequence[dict[str, Any]], model_version: str
                          ) -> list[Understanding]:
    """The scorer's findings for RECORDS rebuilt from the scores and reasons tables (no re-scoring)."""
    ids = [int(r["id"]) for r in records]
    scores = {s.document_id: s for s in session.execute(
        select(Score).where(Score.document_id.in_(ids), Score.model_version == model_version)).scalars()}
    reasons: dict[int, list[ReasonHit]] = {}
    for r in session.execute(select(Reason).where(Reason.document_id.in_(ids))).scalars():
        # the stored polarity is a Polarity (written from a ReasonHit); the column is typed as any str
        reasons.setdefault(r.document_id, []).append(ReasonHit(r.code, r.polarity, r.evidence))  # type: ignore[arg-type]
    out = []
    for record in records:
        s = scores[int(record["id"])]
        out.append(Understanding(
            lang=record.get("lang") or "und", lang_confidence=1.0 if record.get("lang") else 0.0,
            score=s.score, p_promoter=s.p_promoter, p_passive=s.p_passive, p_detractor=s.p_detractor,
            confidence=s.confidence, text_only_score=s.text_only_score if s.text_only_score is not None else s.score,
            reasons=reasons.get(s.document_id, []), touchpoint=s.touchpoint, active_detractor=s.active_detractor,
            model_version=s.model_version, p_levels=None if s.p_levels is None else tuple(s.p_levels),
        ))
    return out
