"""Read-only queries the API and the dashboard share, returning plain dicts shaped like the API's models.

store/queries.py holds the helpers the estimate side needs (stored estimates and survey answers in the shapes
``nps.compare`` reads); these are the service's own views (pages of reviews with their scores, reasons, verdicts
and campaigns; alerts and campaigns as the API shows them). Each is a single SELECT, plus a batched look-up of
scores, reasons and verdicts for one page of documents, so a page of reviews costs a fixed number of queries.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from nps.classes import followup_class
from nps.compare import SurveyComparison, compare_survey, difference, survey_estimates
from nps.drivers import reason_changes
from nps.headline import choose_headline, comparable, enough_data, window_label
from nps.organic import segment_key
from nps.record import SOURCE_FAMILIES
from store import queries
from store.organic import members_of, organic_document_ids
from store.schema import (
    Alert,
    Author,
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
    WorklistEntry,
)
from store.worklist import STATUSES

ReviewClass = Literal["promoter", "passive", "detractor"]
WindowKind = Literal["day", "week", "month", "rolling28", "all"]


def predicted_class(p_promoter: float, p_passive: float, p_detractor: float) -> ReviewClass:
    """The most probable class; ties go promoter, then passive (the SQL filter below uses the same order)."""
    if p_promoter >= p_passive and p_promoter >= p_detractor:
        return "promoter"
    return "passive" if p_passive >= p_detractor else "detractor"


def _class_condition(cls: ReviewClass) -> Any:
    pp, pa, pd = Score.p_promoter, Score.p_passive, Score.p_detractor
    if cls == "promoter":
        return and_(pp >= pa, pp >= pd)
    if cls == "passive":
        return and_(pa > pp, pa >= pd)
    return and_(pd > pp, pd > pa)


def parse_segment(text: str) -> dict[str, str]:
    """``source=x;region=eu`` -> dict; ``total`` or empty -> {} (the entity as a whole)."""
    if text.strip() in ("", "total"):
        return {}
    pairs = [part.split("=", 1) for part in text.split(";") if part.strip()]
    if any(len(p) != 2 or not p[0].strip() for p in pairs):
        raise ValueError(f"segment must look like 'source=x;region=eu' or 'total', not {text!r}")
    return {k.strip(): v.strip() for k, v in pairs}


# -- entities -------------------------------------------------------------------------------------------


def entities(session: Session) -> list[dict[str, Any]]:
    parent = aliased(Entity)
    rows = session.execute(
        select(Entity, parent.name).outerjoin(parent, Entity.parent_id == parent.id).order_by(Entity.name)
    )
    return [
        {
            "id": e.id,
            "name": e.name,
            "kind": e.kind,
            "parent": parent_name,
            "aliases": e.aliases or {},
            "competitors": list(e.competitors or []),
        }
        for e, parent_name in rows
    ]


def source_names(session: Session) -> list[str]:
    return list(session.scalars(select(Source.name).order_by(Source.name)))


# -- estimates ------------------------------------------------------------------------------------------


def _estimate_columns() -> Select[Any]:
    est = NpsEstimate
    return select(
        est.id, Entity.name.label("entity"), est.segment, est.segment_key, est.window_kind, est.window_start,
        est.window_end, est.n, est.nps, est.low, est.high, est.promoters, est.passives, est.detractors,
        est.excluded, est.method, est.extra,
    ).join(Entity, est.entity_id == Entity.id)


def _estimate_rows(session: Session, query: Select[Any]) -> list[dict[str, Any]]:
    rows = [dict(row) for row in session.execute(query).mappings()]
    for row in rows:
        for key in ("segment", "excluded", "extra"):
            row[key] = row[key] or {}
    return rows


def estimates(
    session: Session,
    *,
    entity: list[str] | None = None,
    segment: dict[str, str] | None = None,
    window: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 1000,
    audience: str | None = None,
) -> list[dict[str, Any]]:
    """Stored estimates oldest window first; ``segment={}`` is the entity total, None any segment.
    ``audience``: ``employee`` keeps the eNPS estimates (their segment says ``audience=employee``, so
    ``segment={}`` with it is the employer's total eNPS), ``customer`` the NPS ones, None both.

    Plain columns rather than ORM objects: a dashboard asks for thousands of rows at once, and building mapped
    instances cost three times the query itself.
    """
    est = NpsEstimate
    query = _estimate_columns()
    if entity:
        query = query.where(Entity.name.in_(entity))
    if segment is not None:
        wanted = {**segment, "audience": "employee"} if audience == "employee" else segment
        query = query.where(est.segment_key == segment_key(wanted))
    elif audience is not None:
        employee = est.segment_key.contains(segment_key({"audience": "employee"}))
        query = query.where(employee if audience == "employee" else ~employee)
    if window:
        query = query.where(est.window_kind == window)
    if start:
        query = query.where(est.window_end > start)
    if end:
        query = query.where(est.window_start < end)
    return _estimate_rows(session, query.order_by(Entity.name, est.segment_key, est.window_start).limit(limit))


def latest_estimates(session: Session, entity: list[str], segment: dict[str, str] | None = None
                     ) -> dict[str, dict[str, dict[str, Any]]]:
    """The newest stored window of every kind per entity (entity -> kind -> row, the shape of ``estimates``):
    what a headline and its fallbacks need, without reading every window of every kind."""
    est = NpsEstimate
    key = segment_key(segment or {})
    newest = (select(est.entity_id, est.window_kind, func.max(est.window_start).label("start"))
              .join(Entity, est.entity_id == Entity.id)
              .where(Entity.name.in_(entity), est.segment_key == key)
              .group_by(est.entity_id, est.window_kind).subquery())
    query = _estimate_columns().join(newest, and_(est.entity_id == newest.c.entity_id,
                                                  est.window_kind == newest.c.window_kind,
                                                  est.window_start == newest.c.start)).where(est.segment_key == key)
    out: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in _estimate_rows(session, query):
        out[row["entity"]][row["window_kind"]] = row
    return dict(out)


def family_estimates(session: Session, entity: str, window: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The stored estimate of each source family (``nps.record.SOURCE_FAMILIES``, in that order) of ENTITY for
    the same window as WINDOW (a row of ``estimates``: kind and start), families with none left out: the figures
    the overview shows beside the combined one, so text-only voices are never read as review scores."""
    keys = {segment_key({"source_family": family}): family for family in SOURCE_FAMILIES}
    est = NpsEstimate
    found = {row["segment_key"]: row for row in _estimate_rows(session, _estimate_columns().where(
        Entity.name == entity, est.window_kind == window["window_kind"], est.window_start == window["window_start"],
        est.segment_key.in_(list(keys))))}
    return [found[key] for key in keys if key in found]


# -- segments and the market ------------------------------------------------------------------------------

PRODUCT = "product"  # the segment kind that lists a brand's products (entities whose parent is the brand)


def _headline_window(session: Session, entity: str, kind: str, min_n: int
                     ) -> tuple[Mapping[str, Any] | None, str]:
    """The window a segment or market view of ENTITY reads and the words that name it: the headline's
    (``nps.headline.choose_headline`` over the entity total's newest window of every kind, the thin latest one
    where none has enough), so these views show the window the overview does."""
    ours = latest_estimates(session, [entity]).get(entity, {})
    headline = choose_headline({k: [row] for k, row in ours.items()}, kind, min_n)
    return headline.shown or headline.latest, headline.note


def _figure(e: queries.StoredEstimate, min_n: int) -> dict[str, Any]:
    return {"n": e.n, "nps": e.nps, "low": e.low, "high": e.high, "method": e.method,
            "enough": enough_data({"n": e.n}, min_n)}


def _difference(a: queries.StoredEstimate, b: queries.StoredEstimate, min_n: int) -> dict[str, Any] | None:
    """a - b (``nps.compare.difference``), only where both sides reach ``min_n`` (``nps.headline.comparable``)."""
    if not comparable({"n": a.n}, {"n": b.n}, min_n):
        return None
    diff = difference(a, b)
    return {"diff": diff.diff, "low": diff.low, "high": diff.high, "significant": diff.significant}


def _ranked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Figures with enough data by NPS, highest first, then the thin ones by n, then those with no estimate."""
    def order(row: dict[str, Any]) -> tuple[int, float]:
        est = row["estimate"]
        if est is None:
            return 2, 0.0
        return (0, -est["nps"]) if est["enough"] else (1, -est["n"])
    return sorted(rows, key=order)


def _window_of(row: Mapping[str, Any] | None, note: str) -> dict[str, Any] | None:
    return None if row is None else {"kind": row["window_kind"], "start": row["window_start"],
                                     "end": row["window_end"], "label": window_label(row), "note": note}


def segments(session: Session, entity: str, kind: str, key: str, min_n: int) -> dict[str, Any]:
    """Each segment of KEY (a ``[estimate] segments`` key, or ``product``: the entity's products, entities whose
    parent it is) in the headline's window of KIND (``_headline_window``), with its stored NPS and interval,
    whether it has enough data (``nps.headline.enough_data``), and its difference to the entity total where both
    do.

    A segment is part of the total, so the two are not independent: ``nps.compare.difference`` treats them as
    if they were, which overstates the variance of the difference and errs towards "no difference"."""
    window, note = _headline_window(session, entity, kind, min_n)
    out: dict[str, Any] = {"entity": entity, "key": key, "min_n": min_n, "window": _window_of(window, note),
                           "total": None, "segments": []}
    if window is None:
        return out
    products = [e["name"] for e in entities(session) if e["parent"] == entity] if key == PRODUCT else []
    stored = queries.stored_estimates(session, window["window_kind"], [entity, *products], window["window_start"])
    total = next((e for e in stored if e.group == {"entity": entity}), None)
    if key == PRODUCT:
        found = [(e.group["entity"], e) for e in stored if set(e.group) == {"entity"} and e.group["entity"] != entity]
    else:
        found = [(str(e.group[key]), e) for e in stored if set(e.group) == {"entity", key}]
    out["total"] = None if total is None else _figure(total, min_n)
    out["segments"] = _ranked([{"value": value, "estimate": _figure(e, min_n),
                                "difference": _difference(e, total, min_n) if total else None}
                               for value, e in found])
    return out


def _reason_counts(e: queries.StoredEstimate) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """The stored reasons as ``nps.drivers.reason_changes`` counts: expected detractors (promoters) citing each
    code, over the estimate's expected detractors (promoters)."""
    counts = {"detractor": {code: r.get("detractors", 0.0) for code, r in e.reasons.items()},
              "promoter": {code: r.get("promoters", 0.0) for code, r in e.reasons.items()}}
    return counts, {"detractor": e.detractors, "promoter": e.promoters}


def _reason_gaps(theirs: queries.StoredEstimate, ours: queries.StoredEstimate, top: int = 3
                 ) -> dict[str, list[dict[str, Any]]]:
    """Why a competitor scores lower or higher than the entity: the reasons its detractors (``lower``) or its
    promoters (``higher``) cite more often than the entity's, in points of the class's share
    (``nps.drivers.reason_changes`` with the entity as the base instead of the window before)."""
    changes = reason_changes(*_reason_counts(theirs), *_reason_counts(ours))
    out: dict[str, list[dict[str, Any]]] = {}
    for side, cls in (("lower", "detractor"), ("higher", "promoter")):
        ahead = sorted((c for c in changes if c.cls == cls and c.change is not None and c.change > 0),
                       key=lambda c: -(c.change or 0.0))[:top]
        out[side] = [{"code": c.code, "share": c.share, "entity_share": c.previous_share, "points": c.change,
                      "count": c.count} for c in ahead]
    return out


def market(session: Session, entity: str, competitors: list[str], kind: str, min_n: int) -> dict[str, Any]:
    """ENTITY and its COMPETITORS in the headline's window of KIND (``_headline_window``), ranked by NPS: each
    one's stored estimate of that same window, the entity's lead over it (entity minus competitor,
    ``nps.compare.difference``) and the reasons behind the gap, both only where both sides reach ``min_n``."""
    window, note = _headline_window(session, entity, kind, min_n)
    out: dict[str, Any] = {"entity": entity, "min_n": min_n, "window": _window_of(window, note), "rows": []}
    if window is None:
        return out
    names = [entity, *[c for c in competitors if c != entity]]
    stored = {e.group["entity"]: e for e in queries.stored_estimates(
        session, window["window_kind"], names, window["window_start"]) if set(e.group) == {"entity"}}
    ours = stored.get(entity)
    rows = []
    for name in names:
        theirs = stored.get(name)
        both = name != entity and theirs is not None and ours is not None
        lead = _difference(ours, theirs, min_n) if both and ours and theirs else None
        rows.append({"name": name, "is_entity": name == entity,
                     "estimate": None if theirs is None else _figure(theirs, min_n), "lead": lead,
                     "reasons": _reason_gaps(theirs, ours) if lead and ours and theirs else None})
    out["rows"] = _ranked(rows)
    for rank, row in enumerate((r for r in out["rows"] if r["estimate"] and r["estimate"]["enough"]), start=1):
        row["rank"] = rank
    return out


# -- reviews --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewFilter:
    entity: str | None = None
    source: str | None = None
    cls: ReviewClass | None = None
    reason: str | None = None
    bot: bool | None = None
    language: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    min_p_detractor: float | None = None
    rating: float | None = None  # the native rating value (1 for one star)
    organic: bool = False  # only what the organic NPS counts (store.organic: the estimate stage's verdicts)


def _is_latest_score() -> Any:
    """One score per document: the newest model version's (highest id), as "no newer score of the same document".
    An anti-join on the document index; ``id IN (SELECT max(id) ... GROUP BY document_id)`` cost SQLite 3.6 s for
    5.6k reviews against 6 ms for this (bench/overview.py)."""
    newer = aliased(Score)
    return ~exists().where(newer.document_id == Score.document_id, newer.id > Score.id)


def _review_query(session: Session, flt: ReviewFilter) -> Select[Any]:
    query = (
        select(Document.id)
        .join(Source, Document.source_id == Source.id)
        .outerjoin(Entity, Document.entity_id == Entity.id)
    )
    if flt.entity:
        query = query.where(Entity.name == flt.entity)
    if flt.source:
        query = query.where(Source.name == flt.source)
    if flt.language:
        query = query.where(Document.language == flt.language)
    if flt.rating is not None:
        query = query.where(Document.rating == flt.rating)
    if flt.start:
        query = query.where(Document.published_at >= flt.start)
    if flt.end:
        query = query.where(Document.published_at < flt.end)
    if flt.reason:
        query = query.where(Document.id.in_(select(Reason.document_id).where(Reason.code == flt.reason)))
    bots = select(BotVerdict.document_id).where(BotVerdict.decision.is_(True))
    if flt.bot is not None:
        query = query.where(Document.id.in_(bots) if flt.bot else Document.id.not_in(bots))
    if flt.organic:
        query = query.where(Document.id.in_(organic_document_ids()))
    if flt.cls or flt.min_p_detractor is not None:
        query = query.join(Score, Score.document_id == Document.id).where(_is_latest_score())
        if flt.cls:
            query = query.where(_class_condition(flt.cls))
        if flt.min_p_detractor is not None:
            query = query.where(Score.p_detractor >= flt.min_p_detractor)
    return query


def _membership(session: Session, doc_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Campaigns each document belongs to."""
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for doc, camp_id, kind, status in session.execute(
        select(CampaignMember.document_id, Campaign.id, Campaign.kind, Campaign.status)
        .join(Campaign, Campaign.id == CampaignMember.campaign_id)
        .where(CampaignMember.document_id.in_(doc_ids)).order_by(Campaign.id)
    ):
        found[doc].append({"id": camp_id, "kind": kind, "status": status})
    return found


def _hydrate(session: Session, doc_ids: list[int], full_text: bool) -> list[dict[str, Any]]:
    """Documents with their newest score, their reasons, newest bot verdict and campaigns, in ``doc_ids`` order."""
    if not doc_ids:
        return []
    rows = {
        doc.id: (doc, source_name, entity_name)
        for doc, source_name, entity_name in session.execute(
            select(Document, Source.name, Entity.name)
            .join(Source, Document.source_id == Source.id)
            .outerjoin(Entity, Document.entity_id == Entity.id)
            .where(Document.id.in_(doc_ids))
        )
    }
    authors = dict(session.execute(select(Document.id, Author.display_name).join(
        Author, Document.author_id == Author.id).where(Document.id.in_(doc_ids))).all())
    scores = {s.document_id: s for s in session.scalars(
        select(Score).where(Score.document_id.in_(doc_ids)).order_by(Score.id))}
    verdicts = {v.document_id: v for v in session.scalars(
        select(BotVerdict).where(BotVerdict.document_id.in_(doc_ids)).order_by(BotVerdict.id))}
    reasons: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in session.scalars(select(Reason).where(Reason.document_id.in_(doc_ids)).order_by(Reason.id)):
        reasons[r.document_id].append({"code": r.code, "polarity": r.polarity, "evidence": r.evidence})
    campaigns = _membership(session, doc_ids)
    organic = dict(session.execute(select(DocumentOrganic.document_id, DocumentOrganic.excluded)
                                   .where(DocumentOrganic.document_id.in_(doc_ids))).all())
    out = []
    for doc_id in doc_ids:
        doc, source_name, entity_name = rows[doc_id]
        score = scores.get(doc_id)
        verdict = verdicts.get(doc_id)
        text = doc.text if full_text or len(doc.text) <= 400 else doc.text[:400] + "…"
        out.append({
            "id": doc.id,
            "url": doc.url,
            "entity": entity_name,
            "source": source_name,
            "title": doc.title,
            "author": authors.get(doc_id),
            "text": text,
            "rating": doc.rating,
            "rating_scale": doc.rating_scale,
            "rating_0_10": doc.rating_0_10,
            "language": doc.language,
            "region": doc.region,
            "touchpoint": doc.touchpoint,
            "published_at": doc.published_at,
            "score": None if score is None else {
                "model_version": score.model_version,
                "score": score.score,
                "p_promoter": score.p_promoter,
                "p_passive": score.p_passive,
                "p_detractor": score.p_detractor,
                "confidence": score.confidence,
                "text_only_score": score.text_only_score,
                "active_detractor": score.active_detractor,
                "class": predicted_class(score.p_promoter, score.p_passive, score.p_detractor),
            },
            "reasons": reasons.get(doc_id, []),
            "bot": None if verdict is None else {
                "model_version": verdict.model_version,
                "p_bot": verdict.p_bot,
                "decision": verdict.decision,
                "evidence": [str(e) for e in verdict.evidence or []],
            },
            "campaigns": campaigns.get(doc_id, []),
            "invited": doc.invited,
            "channel": (doc.extra or {}).get("channel"),
            "company_reply": None if not doc.company_reply else {"text": doc.company_reply.get("text"),
                                                                 "time": doc.company_replied_at},
            "organic": None if doc_id not in organic else {"counted": organic[doc_id] is None,
                                                           "excluded": organic[doc_id]},
        })
    return out


def reviews(session: Session, flt: ReviewFilter, *, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
    """(total matching, one page newest first)."""
    query = _review_query(session, flt)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(Document.published_at.desc().nulls_last(), Document.id.desc()).limit(limit).offset(offset)
    return total, _hydrate(session, list(session.scalars(page)), full_text=False)


def review(session: Session, doc_id: int) -> dict[str, Any] | None:
    if session.get(Document, doc_id) is None:
        return None
    return _hydrate(session, [doc_id], full_text=True)[0]


# -- the detractor worklist ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorklistFilter:
    entity: str | None = None
    status: tuple[str, ...] = ()  # empty: every status
    start: datetime | None = None
    min_p: float = 0.7  # P(detractor) a review needs when the text does not overrule the combined class


def _followup_candidates(session: Session, entity: str | None, start: datetime | None,
                         end: datetime | None = None) -> Select[Any]:
    """Organic reviews of ENTITY published in [start, end) that may be worked as detractors, with their newest
    score's ``p_promoter, p_passive, p_detractor, text_only_score`` after the document id: a superset in SQL
    (combined class detractor, or a text leaning that way) that ``_worked_as_detractor`` decides on."""
    base = _review_query(session, ReviewFilter(entity=entity, organic=True, start=start, end=end))
    return (base.add_columns(Score.p_promoter, Score.p_passive, Score.p_detractor, Score.text_only_score)
            .join(Score, Score.document_id == Document.id)
            .where(_is_latest_score(), or_(_class_condition("detractor"), Score.text_only_score < 7)))


def _worked_as_detractor(pp: float, pa: float, pd: float, text: float | None, min_p: float) -> bool:
    """Who the worklist follows up (and the reply rate counts): followup class detractor, and a combined
    detractor the text did not overrule only when P(detractor) reaches ``min_p``."""
    if followup_class(pp, pa, pd, text) != "detractor":
        return False
    return predicted_class(pp, pa, pd) != "detractor" or pd >= min_p


def worklist(session: Session, flt: WorklistFilter, *, limit: int, offset: int
             ) -> tuple[int, list[dict[str, Any]]]:
    """(total, one page) of organic reviews to follow up as detractors (``nps.classes.followup_class``: text and
    rating together, the text where they clearly disagree), active detractors (who warn others) first, then by
    status (open before contacted before done) and newest first; each with its author, link, worklist state and
    the company's public reply where it has one (``company_reply``: answered publicly)."""
    candidates = (
        _followup_candidates(session, flt.entity, flt.start)
        .add_columns(Score.active_detractor, Document.published_at, WorklistEntry.status)
        .outerjoin(WorklistEntry, WorklistEntry.document_id == Document.id)
    )
    rank = {s: i for i, s in enumerate(STATUSES)}
    picked = []
    for doc_id, pp, pa, pd, text, active, published, status in session.execute(candidates):
        status = status or "open"
        if flt.status and status not in flt.status:
            continue
        if not _worked_as_detractor(pp, pa, pd, text, flt.min_p):
            continue
        picked.append((not active, rank[status], -(published.timestamp() if published else 0), -doc_id))
    picked.sort()
    page = [-key[3] for key in picked[offset:offset + limit]]
    items = _hydrate(session, page, full_text=False)
    entries = {e.document_id: e for e in session.scalars(
        select(WorklistEntry).where(WorklistEntry.document_id.in_(page)))}
    for item in items:
        entry = entries.get(item["id"])
        item["worklist"] = {"status": entry.status if entry else "open", "owner": entry and entry.owner,
                            "note": entry and entry.note, "updated_at": entry and entry.updated_at,
                            "updated_by": entry and entry.updated_by}
    return len(picked), items


def reply_rate(session: Session, entity: str, start: datetime | None = None, end: datetime | None = None,
               min_p: float = WorklistFilter.min_p) -> dict[str, Any]:
    """The loop closed, measured: of ENTITY's organic reviews published in [start, end) that the worklist follows
    up as detractors (the same rule: ``_worked_as_detractor`` over ``_followup_candidates``), how many got the
    company's public reply (``documents.company_reply``), that share, and the median days from review to reply
    over the replies whose time the source gave (``timed``; a reply stamped before its review counts as 0)."""
    candidates = _followup_candidates(session, entity, start, end).add_columns(
        Document.published_at, Document.company_replied_at, Document.company_reply.is_not(None))
    detractors = replied = 0
    days = []
    for _, pp, pa, pd, text, published, replied_at, has_reply in session.execute(candidates):
        if not _worked_as_detractor(pp, pa, pd, text, min_p):
            continue
        detractors += 1
        replied += bool(has_reply)
        if has_reply and published and replied_at:
            days.append(max(0.0, (replied_at - published).total_seconds() / 86400))
    return {"entity": entity, "start": start, "end": end, "detractors": detractors, "replied": replied,
            "share": replied / detractors if detractors else None,
            "median_days": statistics.median(days) if days else None, "timed": len(days)}


# -- campaigns and alerts -------------------------------------------------------------------------------


def _campaign_dict(camp: Campaign, entity_name: str, members: list[int]) -> dict[str, Any]:
    return {
        "id": camp.id,
        "entity": entity_name,
        "kind": camp.kind,
        "window_start": camp.window_start,
        "window_end": camp.window_end,
        "member_documents": members,
        "member_authors": [str(a) for a in camp.member_authors or []],
        "strength": camp.strength,
        "p_value": camp.p_value,
        "evidence": camp.evidence or {},
        "status": camp.status,
    }


def campaigns(
    session: Session, *, entity: str | None = None, kind: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    query = select(Campaign, Entity.name).join(Entity, Campaign.entity_id == Entity.id)
    if entity:
        query = query.where(Entity.name == entity)
    if kind:
        query = query.where(Campaign.kind == kind)
    if status:
        query = query.where(Campaign.status == status)
    found = session.execute(query.order_by(Campaign.window_start.desc())).all()
    members = members_of(session, [c.id for c, _ in found])
    return [_campaign_dict(c, name, members[c.id]) for c, name in found]


def campaign_members(session: Session, campaign: dict[str, Any]) -> list[dict[str, Any]]:
    """The reviews a campaign excluded, with their verdicts and reasons (why each one is out)."""
    stored = set(session.scalars(select(Document.id).where(Document.id.in_(campaign["member_documents"]))))
    return _hydrate(session, [d for d in campaign["member_documents"] if d in stored], full_text=False)


def alert_dict(alert: Alert, entity_name: str | None) -> dict[str, Any]:
    """An alert row as the API, the feeds and the webhooks show it (with its entity's name)."""
    return {
        "id": alert.id,
        "kind": alert.kind,
        "severity": alert.severity,
        "entity": entity_name,
        "window_start": alert.window_start,
        "window_end": alert.window_end,
        "cause_key": alert.cause_key,
        "title": alert.title or f"{alert.kind} ({alert.severity})",
        "payload": alert.payload or {},
        "created_at": alert.created_at,
        "acknowledged_at": alert.acknowledged_at,
        "acknowledged_by": alert.acknowledged_by,
    }


def alerts(
    session: Session,
    *,
    entity: str | None = None,
    kind: str | None = None,
    severity: str | None = None,
    acknowledged: bool | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Newest first."""
    query = select(Alert, Entity.name).outerjoin(Entity, Alert.entity_id == Entity.id)
    if entity:
        query = query.where(Entity.name == entity)
    if kind:
        query = query.where(Alert.kind == kind)
    if severity:
        query = query.where(Alert.severity == severity)
    if acknowledged is not None:
        query = query.where(Alert.acknowledged_at.is_not(None) if acknowledged else Alert.acknowledged_at.is_(None))
    query = query.order_by(Alert.created_at.desc(), Alert.id.desc()).limit(limit)
    return [alert_dict(a, name) for a, name in session.execute(query)]


def alert(session: Session, alert_id: int) -> dict[str, Any] | None:
    row = session.execute(
        select(Alert, Entity.name).outerjoin(Entity, Alert.entity_id == Entity.id).where(Alert.id == alert_id)
    ).first()
    return None if row is None else alert_dict(*row)


# -- reason breakdown -----------------------------------------------------------------------------------


def reason_breakdown(
    session: Session, *, entity: str | None = None, start: datetime | None = None, end: datetime | None = None
) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Reason-code counts among organic detractor reviews and among organic promoter reviews published in
    [start, end), and how many organic reviews of each class there are in it (the shares' denominators)."""
    counts: dict[str, dict[str, int]] = {}
    totals: dict[str, int] = {}
    for cls in ("detractor", "promoter"):
        docs = _review_query(session, ReviewFilter(entity=entity, cls=cls, organic=True, start=start, end=end))
        rows = session.execute(
            select(Reason.code, func.count(func.distinct(Reason.document_id)))
            .where(Reason.document_id.in_(docs))
            .group_by(Reason.code)
            .order_by(func.count(func.distinct(Reason.document_id)).desc(), Reason.code)
        )
        counts[cls] = {code: count for code, count in rows}
        totals[cls] = session.scalar(select(func.count()).select_from(docs.subquery())) or 0
    return counts, totals


def survey_comparison(
    session: Session, thresholds: Any, *, entity: str | None = None, by: list[str] | None = None,
    window: str | None = None,
) -> tuple[list[SurveyComparison], dict[str, dict[str, float]]]:
    """Survey vs stored organic NPS per segment and window, the same composition as `onps survey compare`:
    store.queries reads, nps.compare pairs the windows, computes both intervals, the difference and the
    correlation. ``window`` None or "all" compares all time."""
    keys = ["entity", *(by or [])]
    kind = None if window in (None, "all") else window
    responses = queries.survey_responses(session, entity)
    organic = [e for e in queries.stored_estimates(session, kind or "all", entity) if set(e.group) == set(keys)]
    if not responses or not organic:
        return [], {}
    return compare_survey(responses, organic, keys, kind, thresholds)


def survey_trend(session: Session, thresholds: Any, entity: str, kind: str) -> list[dict[str, Any]]:
    """ENTITY's survey NPS per window of KIND (``nps.compare.survey_estimates``, the estimate `onps survey
    compare` pairs with the organic one), shaped like ``estimates`` rows so the trend draws it on the same axes;
    empty when no survey answers are stored for it."""
    responses = queries.survey_responses(session, entity)
    if not responses:
        return []
    return [{"entity": entity, "window_kind": kind, "window_start": e.window_start, "window_end": e.window_end,
             "n": e.n, "nps": e.nps, "low": e.low, "high": e.high, "method": e.method}
            for e in survey_estimates(responses, ["entity"], kind, thresholds) if e.window_start is not None]
