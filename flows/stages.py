"""The nightly stages as plain functions: each reads what the stage before it stored and writes its own tables.

Why plain functions: the Prefect tasks in flows/tasks.py only call these, so the logic is tested (and
benchmarked) without the orchestrator, and the same code runs in process, on Dask workers, or from a worker of a
Prefect server. Why "pending" queries instead of a run's own list of ids: a run killed half-way leaves no
bookkeeping to repair; the next run asks the store what still lacks a score for the current model version (or a
verdict for the current bot model) and does exactly that, so a resumed run neither loses nor repeats work. Every
write is an upsert on the table's natural key, in one transaction per batch.

Every model a stage needs is required: one that is missing or cannot be loaded raises
`config.artifacts.ModelUnavailable` (naming the file and the command that builds it), so the stage is reported
failed and the run ends failed, never "completed" with a stage quietly left out. The imports kept inside
functions (the crawler, the scorer, the bot filter, webhook delivery) are for start-up time only: `onps runs` and
the other commands that import this module for its StageResult do not load Scrapy and the models (seconds).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from config.schema import ModelsConfig, OnpsConfig
from flows.isolation import error_text, isolated
from models.campaigns import detect_campaigns
from nps.alerts import campaign_alerts, estimate_alerts
from nps.authors import resolve_authors
from nps.organic import campaign_candidates, estimate_groups, exclusion, invited_view, segment_key
from store.alerts_store import save_alerts
from store.clock import utcnow
from store.engine import session_scope
from store.organic import save_organic, set_members
from store.quarantine import quarantine, release
from store.queries import stored_campaigns, stored_estimates
from store.schema import Alert, BotVerdict, Campaign, Document, Entity, NpsEstimate, Reason, Score
from store.streams import (
    author_document_ids,
    author_ids_of,
    document_records,
    entity_document_ids,
    entity_stream,
    stored_understandings,
)
from store.upsert import upsert

STAGES = ("crawl", "score", "bots", "campaigns", "estimate", "alerts")


@dataclass
class StageResult:
    """What one stage (or one batch of it) did: counts overall and per source, errors, anything else to report."""

    stage: str
    status: str = "done"  # done | failed | skipped
    counts: dict[str, int] = field(default_factory=dict)
    by_source: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)

    def merge(self, other: StageResult) -> StageResult:
        """Add a batch's result to this one (counts summed, errors kept, the worse status wins)."""
        counts = Counter(self.counts) + Counter(other.counts)
        by_source = {k: dict(v) for k, v in self.by_source.items()}
        for source, values in other.by_source.items():
            by_source[source] = dict(Counter(by_source.get(source, {})) + Counter(values))
        rank = ["done", "skipped", "failed"]
        status = max(self.status, other.status, key=rank.index)
        return StageResult(
            self.stage, status, dict(counts), by_source, self.errors + other.errors,
            self.seconds + other.seconds, {**self.detail, **other.detail},
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def timed(fn: Callable[..., StageResult]) -> Callable[..., StageResult]:
    """Stamp a stage's wall time on its result."""

    def run(*args: Any, **kwargs: Any) -> StageResult:
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        result.seconds = round(time.perf_counter() - start, 3)
        return result

    # __wrapped__ as functools.wraps sets it (inspect and Prefect read it); typeshed's function type lacks it
    run.__name__, run.__doc__, run.__wrapped__ = fn.__name__, fn.__doc__, fn  # type: ignore[attr-defined]
    return run


def batches(ids: Sequence[int], size: int) -> list[list[int]]:
    """Consecutive slices of at most SIZE ids: the unit a Dask worker scores and commits."""
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


def per_source(records: Iterable[dict[str, Any]], key: str) -> dict[str, dict[str, int]]:
    counts = Counter(r.get("source") or "?" for r in records)
    return {source: {key: n} for source, n in counts.items()}


# -- crawl ------------------------------------------------------------------------------------------------


@timed
def crawl(db_url: str, cfg: OnpsConfig, run_id: int, progress: bool = False) -> StageResult:
    """Crawl every enabled source incrementally into the store (the crawlers' own dedupe keeps it idempotent).

    Bad pages are errors of the crawl report, not of the stage: the stage fails only when the crawler does.
    """
    from crawlers.report import COUNTS
    from crawlers.run import crawl_sources

    report = crawl_sources(cfg, db_url, run_id, progress=progress)
    def shown(c: Any) -> dict[str, int]:
        """The crawl counts, and the failed pages carried between runs (store.owed) when there are any."""
        return {k: getattr(c, k) for k in (*COUNTS, "recoded", "bad_dates", "recovered", "owed", "given_up")
                if k in COUNTS or getattr(c, k)}

    by_source = {name: shown(c) for name, c in report.sources.items()}
    totals = report.totals
    errors = [f"{e.source}: {e.url}: {e.reason}{' (owed: fetched again next run)' if e.owed else ''}"
              for e in report.errors]
    return StageResult("crawl", counts=shown(totals), by_source=by_source,
                       detail={"page_errors": errors[:200], "page_error_count": len(errors)})


# -- score ------------------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _load_scorer(models_json: str) -> Any:
    from nlp.score import load_scorer

    return load_scorer(ModelsConfig.model_validate_json(models_json))


def scorer_for(cfg: OnpsConfig) -> Any:
    """The scorer for this config, loaded once per process (a Dask worker keeps it between batches)."""
    return _load_scorer(cfg.models.model_dump_json())


def scorer_version(cfg: OnpsConfig) -> str:
    return str(scorer_for(cfg).model_version)


def pending_score_ids(db_url: str, model_version: str) -> list[int]:
    """Documents with no score from MODEL_VERSION: what is left to do, however the last run ended."""
    with session_scope(db_url) as session:
        scored = exists().where(Score.document_id == Document.id, Score.model_version == model_version)
        return list(session.execute(select(Document.id).where(~scored).order_by(Document.id)).scalars())


def score_batch(db_url: str, cfg: OnpsConfig, ids: Sequence[int]) -> StageResult:
    """Score one batch and store scores and reasons in one transaction (all of the batch or none of it)."""
    scorer = scorer_for(cfg)
    version = str(scorer.model_version)  # the key the pending query looks for, whatever each result says
    with session_scope(db_url) as session:
        records = document_records(session, ids)
        understood, failed = isolated(lambda batch: scorer.derive(batch, text_only=False), records)
        score_rows, reason_rows = [], []
        for record, u in understood:
            doc_id = int(record["id"])
            score_rows.append({
                "document_id": doc_id, "model_version": version, "score": u.score,
                "p_promoter": u.p_promoter, "p_passive": u.p_passive, "p_detractor": u.p_detractor,
                "confidence": u.confidence, "text_only_score": u.text_only_score,
                "p_levels": None if u.p_levels is None else list(u.p_levels),
                "active_detractor": u.active_detractor, "touchpoint": u.touchpoint,
            })
            reason_rows += [
                {"document_id": doc_id, "code": r.code, "polarity": r.polarity, "evidence": r.evidence[:500]}
                for r in u.reasons
            ]
        upsert(session, Score.__table__, score_rows, key=("document_id", "model_version"),
               update=[c for c in score_rows[0] if c not in ("document_id", "model_version")] if score_rows else None)
        upsert(session, Reason.__table__, reason_rows, key=("document_id", "code", "polarity", "evidence"))
        quarantine(session, "score", failed)
        release(session, "score", [row["document_id"] for row in score_rows])
    counts = {"scored": len(score_rows), "reasons": len(reason_rows),
              **({"quarantined": len(failed)} if failed else {})}
    return StageResult("score", counts=counts, by_source=per_source([r for r, _ in understood], "scored"),
                       errors=[f"document {doc}: {error}" for doc, error in failed.items()])


@dataclass
class Plan:
    """The batches a batched stage still has to do."""

    batches: list[list[int]] = field(default_factory=list)


def score_plan(db_url: str, cfg: OnpsConfig) -> Plan:
    """The batches still to score (loading the scorer first: a missing one raises `ModelUnavailable`)."""
    return Plan(batches(pending_score_ids(db_url, scorer_version(cfg)), cfg.models.batch_size))


@timed
def score_new_documents(db_url: str, cfg: OnpsConfig, run_id: int) -> StageResult:
    """Score every document that has no score from the current model version, batch by batch."""
    plan = score_plan(db_url, cfg)
    result = StageResult("score", counts={"scored": 0})
    for batch in plan.batches:
        result = result.merge(score_batch(db_url, cfg, batch))
    return result


# -- bots -------------------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _load_bot_filter(models_json: str, thresholds_json: str) -> Any:
    from config.schema import ThresholdsConfig
    from models.bots import load_bot_filter

    return load_bot_filter(ModelsConfig.model_validate_json(models_json),
                           ThresholdsConfig.model_validate_json(thresholds_json))


def bot_filter_for(cfg: OnpsConfig) -> Any:
    return _load_bot_filter(cfg.models.model_dump_json(), cfg.thresholds.model_dump_json())


def bot_version(cfg: OnpsConfig) -> str:
    return str(bot_filter_for(cfg).model_version)


def pending_judge_units(db_url: str, score_model: str, bot_model: str, reach_days: float) -> list[list[int]]:
    """The documents to (re)judge, one list per entity: every scored document without a verdict from BOT_MODEL,
    and the entity's documents published from REACH_DAYS before the earliest of those on.

    A verdict reads the entity's stream up to a little after the review (models.features), so a document that
    arrives late (an out-of-order crawl, a page fetched again) changes the verdicts of the reviews after it: they
    are judged again, and the verdicts come out as if the stream had arrived in order.
    """
    with session_scope(db_url) as session:
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
    records = []
    for chunk in batches(sorted(others), 5000):
        part = document_records(session, chunk)
        scores = dict(session.execute(select(Score.document_id, Score.score).where(
            Score.document_id.in_(chunk), Score.model_version == score_model)).all())
        records += [{**r, "score": scores[int(r["id"])]} for r in part if int(r["id"]) in scores]
    return records


def judge_batch(db_url: str, cfg: OnpsConfig, ids: Sequence[int]) -> StageResult:
    """Judge one entity's documents against the rest of its stream; store the verdicts in one transaction.

    A verdict that did not change keeps its row (and its time), so only real changes make later stages
    re-estimate windows."""
    bot_filter = bot_filter_for(cfg)
    score_model = scorer_version(cfg)
    rules = cfg.author_rules()
    with session_scope(db_url) as session:
        records = document_records(session, ids)
        context = judge_context(session, ids, score_model)
        resolved = resolve_authors([*records, *context], rules)
        records, context = resolved[: len(records)], resolved[len(records):]
        understandings = dict(zip((int(r["id"]) for r in records),
                                  stored_understandings(session, records, score_model), strict=True))
        judged, failed = judged_isolated(bot_filter, records, understandings, context)
        records, judgements = [r for r, _ in judged], [j for _, j in judged]
        stored = {v.document_id: v for v in session.scalars(select(BotVerdict).where(
            BotVerdict.document_id.in_(list(ids)), BotVerdict.model_version == bot_filter.model_version))}
        rows = []
        for r, j in zip(records, judgements, strict=True):
            row = {"document_id": int(r["id"]), "model_version": j.model_version, "p_bot": j.p_bot,
                   "decision": bool(j.bot), "evidence": list(j.evidence), "created_at": utcnow()}
            before = stored.get(row["document_id"])
            if before is None or abs(before.p_bot - j.p_bot) > 1e-9 or before.decision != j.bot \
                    or list(before.evidence or []) != row["evidence"]:
                rows.append(row)
        upsert(session, BotVerdict.__table__, rows, key=("document_id", "model_version"),
               update=("p_bot", "decision", "evidence", "created_at"))
        quarantine(session, "bots", failed)
        release(session, "bots", [int(r["id"]) for r in records])
    bots = [r for r, j in zip(records, judgements, strict=True) if j.bot]
    by_source = per_source(records, "judged")
    for source, n in Counter(r.get("source") or "?" for r in bots).items():
        by_source[source]["bots"] = n
    counts = {"judged": len(records), "bots": len(bots), "changed": len(rows),
              **({"quarantined": len(failed)} if failed else {})}
    return StageResult("bots", counts=counts, by_source=by_source,
                       errors=[f"document {doc}: {error}" for doc, error in failed.items()])


def judged_isolated(bot_filter: Any, records: list[dict[str, Any]], understandings: dict[int, Any],
                    context: list[dict[str, Any]]) -> tuple[list[tuple[dict[str, Any], Any]], dict[int, str]]:
    """`bot_filter.judge` over RECORDS against CONTEXT, one poison record set aside (flows.isolation). A poison
    record in the context (another entity's or author's stored review) is left out of the context: it is
    quarantined when its own unit is judged, and must not take this unit down with it."""

    def against(stream: list[dict[str, Any]]) -> Any:
        return lambda batch: bot_filter.judge(batch, [understandings[int(r["id"])] for r in batch], stream)

    try:
        return list(zip(records, against(context)(records), strict=True)), {}
    except Exception:  # noqa: BLE001 - find what causes it, below
        clean_context = [r for r, _ in isolated(lambda one: bot_filter.judge(one), context)[0]]
    return isolated(against(clean_context), records)


def judge_plan(db_url: str, cfg: OnpsConfig) -> Plan:
    """The documents still to judge, one unit per entity (the filter reads the scores and the entity's stream)."""
    reach = max(bot_filter_for(cfg).copy_days, 1.0)
    return Plan(pending_judge_units(db_url, scorer_version(cfg), bot_version(cfg), reach))


@timed
def judge_bots(db_url: str, cfg: OnpsConfig, run_id: int) -> StageResult:
    """Give every scored document without a verdict from the current bot model its verdict."""
    plan = judge_plan(db_url, cfg)
    result = StageResult("bots", counts={"judged": 0, "bots": 0})
    for batch in plan.batches:
        result = result.merge(judge_batch(db_url, cfg, batch))
    return result


# -- which entities and windows a run touches ---------------------------------------------------------------


def affected_entities(db_url: str, since: datetime | None, published_since: datetime | None = None
                      ) -> dict[str, datetime | None]:
    """Entities with documents crawled or scored since SINCE (all of them when None), or published since
    PUBLISHED_SINCE (a backfill), each with the earliest publication date among those documents, so later
    stages recompute only the windows that changed."""
    with session_scope(db_url) as session:
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


# -- campaigns ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which documents a run's later stages look at: touched (crawled or scored) since ``since`` (a nightly run:
    the start of the last completed run), or published since ``published_since`` (a backfill). Both None:
    everything."""

    since: datetime | None = None
    published_since: datetime | None = None


def entity_ids(db_url: str) -> dict[str, int]:
    with session_scope(db_url) as session:
        return dict(session.execute(select(Entity.name, Entity.id)).all())


@timed
def detect_campaigns_stage(db_url: str, cfg: OnpsConfig, run_id: int, scope: Scope) -> StageResult:
    """Look for smear and stuffing campaigns (and genuine incident waves) in every entity the run touched.

    The detector compares a burst with the entity's own history, so it reads the entity's whole scored stream,
    not only the new documents. Findings are upserted on (entity, kind, window start): a re-run refreshes the
    members and strength of a campaign it found before and keeps the status an analyst gave it.
    """
    score_model = scorer_version(cfg)
    bot_model = bot_version(cfg)
    ids = entity_ids(db_url)
    found: Counter[str] = Counter()
    members = 0
    findings_out = []
    errors: list[str] = []
    for entity in affected_entities(db_url, scope.since, scope.published_since):
        try:
            findings = campaigns_of(db_url, cfg, run_id, entity, ids[entity], score_model, bot_model)
        except Exception as exc:  # noqa: BLE001 - one entity's failure never skips the entities after it
            errors.append(f"entity {entity}: {error_text(exc)}")
            continue
        for f in findings:
            found[f.kind] += 1
            members += len(f.member_ids)
            findings_out.append({"entity": entity, "kind": f.kind, "window_start": f.window_start.isoformat(),
                                 "window_end": f.window_end.isoformat(), "members": len(f.member_ids),
                                 "strength": round(float(f.strength), 3)})
    counts = {"found": sum(found.values()), **found, "members": members, **({"failed": len(errors)} if errors else {})}
    return StageResult("campaigns", counts=counts, detail={"campaigns": findings_out}, errors=errors)


def campaigns_of(db_url: str, cfg: OnpsConfig, run_id: int, entity: str, entity_id: int, score_model: str,
                 bot_model: str) -> list[Any]:
    """Detect and store one entity's campaigns in one transaction (all of its findings or none)."""
    with session_scope(db_url) as session:
        stream = entity_stream(session, entity, score_model, bot_model)
        candidates = campaign_candidates(resolve_authors(stream, cfg.author_rules()))
        findings = detect_campaigns(candidates, cfg.thresholds)
        rows = [
            {"entity_id": entity_id, "kind": f.kind, "window_start": f.window_start,
             "window_end": f.window_end, "member_authors": list(f.member_authors), "strength": float(f.strength),
             "p_value": float(f.p_value), "evidence": f.evidence, "run_id": run_id}
            for f in findings
        ]
        upsert(session, Campaign.__table__, rows, key=("entity_id", "kind", "window_start"),
               update=("window_end", "member_authors", "strength", "p_value", "evidence", "run_id"))
        stored = {(kind, start): id_ for kind, start, id_ in session.execute(
            select(Campaign.kind, Campaign.window_start, Campaign.id).where(Campaign.entity_id == entity_id))}
        for f in findings:
            set_members(session, stored[(f.kind, f.window_start)], [int(m) for m in f.member_ids])
    return findings


# -- estimates ------------------------------------------------------------------------------------------------

ALL_TIME = datetime(1970, 1, 1, tzinfo=UTC)  # window_start of the all-time estimate (the column is not null)


@timed
def estimate_windows(db_url: str, cfg: OnpsConfig, run_id: int, scope: Scope,
                     kinds: Sequence[str] | None = None) -> StageResult:
    """Organic NPS for every entity the run touched: all time and per window kind (``kinds``, default every kind
    in ``estimate.windows``), for the entity and each configured segment, upserted on (entity, segment, window)
    so a re-run replaces rather than adds."""
    scorer = scorer_for(cfg)
    train_prior, level_prior = scorer.train_prior, scorer.level_prior
    score_model = str(scorer.model_version)
    bot_model = bot_version(cfg)
    ids = entity_ids(db_url)
    written, excluded, changes = 0, Counter[str](), []
    groupings = [["entity"], *(["entity", s] for s in cfg.estimate.segments)]
    for entity, first in affected_entities(db_url, scope.since, scope.published_since).items():
        with session_scope(db_url) as session:
            stream = resolve_authors(entity_stream(session, entity, score_model, bot_model), cfg.author_rules())
            for record in stream:
                record["model_error"] = scorer.model_error(record)  # stored scores used the rating where one was
            organic = exclusion(stream, None, cfg.thresholds.copy_min_words)
            save_organic(session, stream, organic, run_id)
            invited = invited_view(stream)
            rows = []
            for window in (None, *(cfg.estimate.windows if kinds is None else kinds)):
                for by, rows_in, channel in [*((g, stream, None) for g in groupings),
                                             *((g, invited, "invited") for g in groupings if invited)]:
                    for est in estimate_groups(rows_in, by, window, cfg.thresholds, train_prior,
                                               level_prior=level_prior, with_invited=False):
                        if window is not None and first is not None and est.window_end and est.window_end <= first:
                            continue  # a window the run did not touch
                        segment = {k: v for k, v in est.group.items() if k != "entity"}
                        if est.audience != "customer":  # an eNPS is its own segment, never the entity's NPS
                            segment["audience"] = est.audience
                        if channel:
                            segment["channel"] = channel
                        rows.append({
                            "entity_id": ids[entity], "segment": segment,
                            "segment_key": segment_key(segment), "window_kind": window or "all",
                            "window_start": est.window_start or ALL_TIME,
                            "window_end": est.window_end or utcnow(), "n": est.n, "nps": est.nps,
                            "low": est.low, "high": est.high, "promoters": est.promoters,
                            "passives": est.passives, "detractors": est.detractors, "excluded": est.excluded,
                            "method": est.method, "run_id": run_id,
                            "extra": {"adjustment": est.adjustment, "reasons": est.reasons},
                        })
                        if by == ["entity"] and window is None and channel is None:
                            excluded.update(est.excluded)
            changes += nps_changes(session, ids[entity], entity, rows, cfg.estimate.window)
            upsert(session, NpsEstimate.__table__, rows,
                   key=("entity_id", "segment_key", "window_kind", "window_start"),
                   update=[c for c in rows[0] if c not in ("entity_id", "segment_key", "window_kind",
                                                         "window_start")] if rows else None)
            written += len(rows)
    return StageResult("estimate", counts={"estimates": written, "entities": len(changes and {
        c["entity"] for c in changes})}, detail={"excluded": dict(excluded), "nps_changes": changes})


def nps_changes(session: Session, entity_id: int, entity: str, rows: Sequence[dict[str, Any]],
                window: str) -> list[dict[str, Any]]:
    """The entity totals about to be written (all time, and the latest window) beside what was stored."""
    totals = [r for r in rows if r["segment_key"] == ""]
    latest = max((r for r in totals if r["window_kind"] == window), key=lambda r: r["window_start"], default=None)
    chosen = [r for r in totals if r["window_kind"] == "all"] + ([latest] if latest else [])
    out = []
    for row in chosen:
        before = session.execute(select(NpsEstimate.nps).where(
            NpsEstimate.entity_id == entity_id, NpsEstimate.segment_key == "",
            NpsEstimate.window_kind == row["window_kind"], NpsEstimate.window_start == row["window_start"],
        )).scalar_one_or_none()
        label = "all time" if row["window_kind"] == "all" else f"{row['window_kind']} of {row['window_start']:%Y-%m-%d}"
        out.append({"entity": entity, "window": label, "before": before, "nps": row["nps"], "low": row["low"],
                    "high": row["high"], "n": row["n"]})
    return out


# -- alerts ---------------------------------------------------------------------------------------------------


@timed
def raise_alerts(db_url: str, cfg: OnpsConfig, run_id: int, scope: Scope) -> StageResult:
    """Evaluate the configured alert rules over the stored estimates and campaigns of the entities the run
    touched; store one alert per cause (a cause already stored is refreshed, not repeated) and push the new ones
    to the configured webhooks."""
    ids = entity_ids(db_url)
    drafts, fresh = [], []
    for entity in affected_entities(db_url, scope.since, scope.published_since):
        with session_scope(db_url) as session:
            found = estimate_alerts(stored_estimates(session, cfg.estimate.window, entity), cfg.alerts.rules)
            found += campaign_alerts(stored_campaigns(session, entity), cfg.alerts.rules)
            fresh += save_alerts(session, found, ids)
            drafts += found
    delivered = failed = 0
    if fresh and cfg.alerts.webhooks:
        from web.webhooks import deliver

        with session_scope(db_url) as session:
            for alert in session.execute(select(Alert).where(Alert.id.in_(fresh))).scalars():
                results = deliver(alert, cfg.alerts.webhooks)
                delivered += sum(r.ok for r in results)
                failed += sum(not r.ok for r in results)
    kinds = Counter(d.kind for d in drafts)
    return StageResult("alerts", counts={"raised": len(fresh), "current": len(drafts), **kinds,
                                         "webhooks_ok": delivered, "webhooks_failed": failed},
                       detail={"alerts": sorted({d.title for d in drafts})[:20]})
