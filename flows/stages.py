"""The nightly stages as plain functions: each reads what the stage before it stored and writes its own tables.

Why plain functions: the Prefect tasks in flows/tasks.py only call these, so the logic is tested (and
benchmarked) without the orchestrator, and the same code runs in process, on Dask workers, or from a worker of a
Prefect server. Why "pending" queries instead of a run's own list of ids: a run killed half-way leaves no
bookkeeping to repair; the next run asks the store what still lacks a score for the current model version (or a
verdict for the current bot model) and does exactly that, so a resumed run neither loses nor repeats work. Every
write is an upsert on the table's natural key, in one transaction per batch.

Each stage reads through store/ (the pending queries, the streams, the stored estimates: the same functions the
web layer and the CLI read), calls the pure nlp/, models/ and nps/ functions, and writes through store/ again;
no SQL is written here.

Every model a stage needs is required: one that is missing or cannot be loaded raises
`config.artifacts.ModelUnavailable` (naming the file and the command that builds it), so the stage is reported
failed and the run ends failed, never "completed" with a stage quietly left out. The imports kept inside
functions (the crawler, the scorer, the bot filter, webhook delivery) are for start-up time only: `onps runs` and
the other commands that import this module for its StageResult do not load Scrapy and the models (seconds).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from config.schema import OnpsConfig
from flows.isolation import error_text, isolated
from models.campaigns import detect_campaigns
from nps.alerts import campaign_alerts, estimate_alerts, source_alerts, within_horizon
from nps.authors import resolve_authors
from nps.organic import campaign_candidates, estimate_groups, exclusion, invited_view
from store.alerts_store import save_alerts
from store.campaigns import save_campaigns
from store.engine import session_scope
from store.estimates import estimate_row, save_estimates, stored_total_nps
from store.organic import save_organic
from store.quarantine import quarantine, release
from store.queries import (
    affected_entities,
    entity_ids,
    run_stage_detail,
    run_started,
    stored_campaigns,
    stored_estimates,
)
from store.scores import pending_score_ids, save_scores
from store.streams import document_records, entity_stream, stored_understandings
from store.verdicts import judge_context, pending_judge_units, save_verdicts

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
        return {k: getattr(c, k) for k in (*COUNTS, "recoded", "bad_dates", "own_posts", "recovered", "owed",
                                           "given_up") if k in COUNTS or getattr(c, k)}

    by_source = {name: shown(c) for name, c in report.sources.items()}
    totals = report.totals
    errors = [f"{e.source}: {e.url}: {e.reason}{' (owed: fetched again next run)' if e.owed else ''}"
              for e in report.errors]
    entity_of = {source.name: source.entity for source in cfg.sources}
    failed = [{**f, "entity": entity_of.get(f["source"])} for f in report.failed_sources()]
    return StageResult("crawl", counts=shown(totals), by_source=by_source,
                       detail={"page_errors": errors[:200], "page_error_count": len(errors),
                               "failed_sources": failed})


# -- score ------------------------------------------------------------------------------------------------


def scorer_for(cfg: OnpsConfig) -> Any:
    """The scorer for this config, loaded once per process (`nlp.score.cached_scorer`)."""
    from nlp.score import cached_scorer

    return cached_scorer(cfg.models)


def scorer_version(cfg: OnpsConfig) -> str:
    return str(scorer_for(cfg).model_version)


def score_batch(db_url: str, cfg: OnpsConfig, ids: Sequence[int]) -> StageResult:
    """Score one batch and store scores and reasons in one transaction (all of the batch or none of it)."""
    scorer = scorer_for(cfg)
    version = str(scorer.model_version)  # the key the pending query looks for, whatever each result says
    with session_scope(db_url) as session:
        records = document_records(session, ids)
        understood, failed = isolated(lambda batch: scorer.derive(batch, text_only=False), records)
        scored, reasons = save_scores(session, version, understood)
        quarantine(session, "score", failed)
        release(session, "score", scored)
    counts = {"scored": len(scored), "reasons": reasons,
              **({"quarantined": len(failed)} if failed else {})}
    return StageResult("score", counts=counts, by_source=per_source([r for r, _ in understood], "scored"),
                       errors=[f"document {doc}: {error}" for doc, error in failed.items()])


@dataclass
class Plan:
    """The batches a batched stage still has to do."""

    batches: list[list[int]] = field(default_factory=list)


def score_plan(db_url: str, cfg: OnpsConfig) -> Plan:
    """The batches still to score (loading the scorer first: a missing one raises `ModelUnavailable`)."""
    version = scorer_version(cfg)
    with session_scope(db_url) as session:
        return Plan(batches(pending_score_ids(session, version), cfg.models.batch_size))


@timed
def score_new_documents(db_url: str, cfg: OnpsConfig, run_id: int) -> StageResult:
    """Score every document that has no score from the current model version, batch by batch."""
    plan = score_plan(db_url, cfg)
    result = StageResult("score", counts={"scored": 0})
    for batch in plan.batches:
        result = result.merge(score_batch(db_url, cfg, batch))
    return result


# -- bots -------------------------------------------------------------------------------------------------


def bot_filter_for(cfg: OnpsConfig) -> Any:
    """The bot filter for this config, loaded once per process (`models.bots.cached_bot_filter`)."""
    from models.bots import cached_bot_filter

    return cached_bot_filter(cfg.models, cfg.thresholds)


def bot_version(cfg: OnpsConfig) -> str:
    return str(bot_filter_for(cfg).model_version)


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
        changed = save_verdicts(session, bot_filter.model_version, judged)
        quarantine(session, "bots", failed)
        release(session, "bots", [int(r["id"]) for r in records])
    bots = [r for r, j in zip(records, judgements, strict=True) if j.bot]
    by_source = per_source(records, "judged")
    for source, n in Counter(r.get("source") or "?" for r in bots).items():
        by_source[source]["bots"] = n
    counts = {"judged": len(records), "bots": len(bots), "changed": changed,
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
    score_model, bot_model = scorer_version(cfg), bot_version(cfg)
    with session_scope(db_url) as session:
        return Plan(pending_judge_units(session, score_model, bot_model, reach))


@timed
def judge_bots(db_url: str, cfg: OnpsConfig, run_id: int) -> StageResult:
    """Give every scored document without a verdict from the current bot model its verdict."""
    plan = judge_plan(db_url, cfg)
    result = StageResult("bots", counts={"judged": 0, "bots": 0})
    for batch in plan.batches:
        result = result.merge(judge_batch(db_url, cfg, batch))
    return result


# -- campaigns ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which documents a run's later stages look at: touched (crawled or scored) since ``since`` (a nightly run:
    the start of the last completed run), or published since ``published_since`` (a backfill). Both None:
    everything."""

    since: datetime | None = None
    published_since: datetime | None = None


def touched(db_url: str, scope: Scope) -> tuple[dict[str, int], dict[str, datetime | None]]:
    """Every entity's id, and the entities SCOPE touched with the earliest publication date among their documents
    (``store.queries.affected_entities``)."""
    with session_scope(db_url) as session:
        return entity_ids(session), affected_entities(session, scope.since, scope.published_since)


@timed
def detect_campaigns_stage(db_url: str, cfg: OnpsConfig, run_id: int, scope: Scope) -> StageResult:
    """Look for smear and stuffing campaigns (and genuine incident waves) in every entity the run touched.

    The detector compares a burst with the entity's own history, so it reads the entity's whole scored stream,
    not only the new documents. Findings are upserted on (entity, kind, window start): a re-run refreshes the
    members and strength of a campaign it found before and keeps the status an analyst gave it.
    """
    score_model = scorer_version(cfg)
    bot_model = bot_version(cfg)
    ids, entities = touched(db_url, scope)
    found: Counter[str] = Counter()
    members = 0
    findings_out = []
    errors: list[str] = []
    for entity in entities:
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
        save_campaigns(session, entity_id, findings, run_id)
    return findings


# -- estimates ------------------------------------------------------------------------------------------------


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
    ids, entities = touched(db_url, scope)
    written, excluded, changes = 0, Counter[str](), []
    groupings = [["entity"], *(["entity", s] for s in cfg.estimate.segments)]
    for entity, first in entities.items():
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
                        rows.append(estimate_row(ids[entity], est, window or "all", channel, run_id))
                        if by == ["entity"] and window is None and channel is None:
                            excluded.update(est.excluded)
            changes += nps_changes(session, ids[entity], entity, rows, cfg.estimate.window)
            written += save_estimates(session, rows)
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
        before = stored_total_nps(session, entity_id, row["window_kind"], row["window_start"])
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
    ids, entities = touched(db_url, scope)
    drafts, fresh = [], []
    for entity in entities:
        with session_scope(db_url) as session:
            estimates = stored_estimates(session, cfg.estimate.window, entity)
            campaigns = stored_campaigns(session, entity)
            newest = max([e.window_end for e in estimates] + [c["window_end"] for c in campaigns], default=None)
            found = within_horizon(estimate_alerts(estimates, cfg.alerts.rules)
                                   + campaign_alerts(campaigns, cfg.alerts.rules), newest, cfg.alerts.horizon_days)
            fresh += save_alerts(session, found, ids)
            drafts += found
    with session_scope(db_url) as session:  # the operator's side: sources this run could not crawl
        failures = run_stage_detail(session, run_id, "crawl").get("failed_sources", [])
        found = source_alerts(failures, cfg.alerts.rules, run_started(session, run_id))
        fresh += save_alerts(session, found, ids)
        drafts += found
    sent: Counter[str] = Counter()
    if cfg.alerts.webhooks:  # also with nothing new: what earlier runs could not deliver is owed
        from web.webhooks import publish

        with session_scope(db_url) as session:
            sent = publish(session, fresh, cfg.alerts.webhooks, cfg.alerts.webhook_max_runs)
    kinds = Counter(d.kind for d in drafts)
    return StageResult("alerts", counts={"raised": len(fresh), "current": len(drafts), **kinds,
                                         "webhooks_ok": sent["delivered"],
                                         "webhooks_failed": sent["queued"] + sent["given_up"],
                                         **{f"webhooks_{k}": v for k, v in sent.items() if k != "delivered"}},
                       detail={"alerts": sorted({d.title for d in drafts})[:20]})
