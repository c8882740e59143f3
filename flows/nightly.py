"""The nightly flow (and the backfill, the same flow over published dates): crawl -> score -> bot verdicts ->
campaigns -> estimates -> alerts -> run report.

The flow holds the ``pipeline`` lease for the whole run, so two overlapping runs (a scheduled one and a manual
one) never interleave their writes; the second one is recorded as skipped and says who holds the lease. A run
killed at any point is finished by the next one: the pending queries (store.scores, store.verdicts) find what is
left, and the windows to estimate are everything touched since the last *completed* run. Scoring and bot verdicts are
submitted batch by batch, so a Dask task runner spreads them over its workers; the other stages are one task
each (they read an entity's whole history).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import flow
from prefect.futures import as_completed

from config.load import load
from config.schema import OnpsConfig
from flows import locks, report, tasks
from flows.orchestrator import DASK_PROCESSES, task_runner, watch_ephemeral_server
from flows.stages import Plan, Scope, StageResult
from store.engine import session_scope
from store.migrate import upgrade
from store.quarantine import quarantined

LOCK = locks.PIPELINE
LEASE_TTL = timedelta(minutes=10)


def run_batched(stage: str, plan: Plan, batch_task: Any, db_url: str, cfg: OnpsConfig,
                heartbeat: locks.Heartbeat) -> StageResult:
    """Submit one task per batch (Dask spreads them); gather counts; a failed batch is an error, not the end."""
    started = datetime.now(UTC)
    result = StageResult(stage)
    futures = [batch_task.submit(db_url, cfg, batch) for batch in plan.batches]
    for future in as_completed(futures):
        try:
            part = future.result()
        except Exception as exc:  # a batch that failed after its retries is reported, the rest go on
            part = StageResult(stage, status="failed", errors=[f"{type(exc).__name__}: {exc}"])
        part.seconds = 0.0
        result = result.merge(part)
        heartbeat.check()
    result.seconds = round((datetime.now(UTC) - started).total_seconds(), 3)
    result.counts.setdefault("batches", len(plan.batches))
    return result


def failure(stage: str, exc: Exception, started: datetime) -> StageResult:
    """A stage that failed after its retries: recorded, and the run goes on with what is stored."""
    seconds = round((datetime.now(UTC) - started).total_seconds(), 3)
    return StageResult(stage, status="failed", errors=[f"{type(exc).__name__}: {exc}"], seconds=seconds)


def guarded(stage: str, call: Callable[[], StageResult]) -> StageResult:
    """Run a single-task stage; a failure is recorded rather than ending the run (a lost lease does end it)."""
    started = datetime.now(UTC)
    try:
        return call()
    except locks.LockLost:
        raise
    except Exception as exc:
        return failure(stage, exc, started)


def pipeline(cfg: OnpsConfig, db_url: str, run_id: int, scope: Scope, crawl: bool,
             heartbeat: locks.Heartbeat, progress: bool = False) -> None:
    """The stages in order, each recorded in the run's report as soon as it ends."""

    def record(result: StageResult) -> None:
        report.record_stage(db_url, run_id, result)
        heartbeat.check()

    def batched(stage: str, plan_task: Any, batch_task: Any) -> StageResult:
        started = datetime.now(UTC)
        try:
            plan = plan_task(db_url, cfg)
        except Exception as exc:
            return failure(stage, exc, started)
        return run_batched(stage, plan, batch_task, db_url, cfg, heartbeat)

    if crawl:
        record(guarded("crawl", lambda: tasks.crawl_task(db_url, cfg, run_id, progress)))
    else:
        record(StageResult("crawl", status="skipped"))
    record(batched("score", tasks.score_plan_task, tasks.score_batch_task))
    record(batched("bots", tasks.judge_plan_task, tasks.judge_batch_task))
    record(guarded("campaigns", lambda: tasks.campaigns_task(db_url, cfg, run_id, scope)))
    record(guarded("estimate", lambda: tasks.estimate_task(db_url, cfg, run_id, scope)))
    record(guarded("alerts", lambda: tasks.alerts_task(db_url, cfg, run_id, scope)))


def summarise(db_url: str, run_id: int) -> tuple[str, dict[str, Any]]:
    """Final status and the report's summary sections, from what the stages recorded."""
    stages = report.load_run(db_url, run_id)["report"].get("stages", {})
    failed = [name for name, s in stages.items() if s["status"] == "failed"]
    estimate = stages.get("estimate", {}).get("detail", {})
    excluded = dict(estimate.get("excluded", {}))
    notes: list[str] = []
    with session_scope(db_url) as session:
        held = Counter(str(q["stage"]) for q in quarantined(session))
    status = "failed" if failed else "completed"
    if held:  # set aside with their errors, tried again next run: `onps runs` lists them
        notes.append(f"{status} with {sum(held.values())} quarantined ("
                     + ", ".join(f"{stage} {n}" for stage, n in sorted(held.items())) + ")")
    return status, {
        "quarantined": dict(held),
        "excluded": excluded, "nps_changes": estimate.get("nps_changes", []), "notes": notes,
        "campaigns": stages.get("campaigns", {}).get("detail", {}).get("campaigns", []),
    }


@flow(name="nightly", persist_result=False, log_prints=False, validate_parameters=False)
def nightly(config_path: str | None = None, database_url: str | None = None, crawl: bool = True,
            published_since: str | None = None, flow_label: str = "nightly", progress: bool = False) -> int:
    """Run every stage once over what is new; return the id of the run's ``runs`` row.

    ``published_since`` (ISO date) turns it into a backfill: no crawl unless asked, and the windows of
    everything published since that date are recomputed. ``progress`` shows the crawl's progress bars.
    """
    cfg = load(config_path)
    db_url = database_url or cfg.database.url
    upgrade(db_url)
    since_date = datetime.fromisoformat(published_since).replace(tzinfo=UTC) if published_since else None
    params = {"config_path": config_path, "crawl": crawl, "published_since": published_since}
    run_id = report.start_run(db_url, flow_label, params)
    try:
        lease = locks.claim(db_url, LOCK, locks.holder_id(run_id), LEASE_TTL)
    except locks.LockHeld as exc:
        report.finish_run(db_url, run_id, "skipped", notes=[str(exc)])
        return run_id
    try:
        if lease.took_over and (stale := locks.holder_run_id(lease.took_over)) is not None:
            report.mark_interrupted(db_url, stale, run_id)
        watermark = None if since_date else report.last_completed_start(db_url, ("nightly", "backfill"))
        scope = Scope(since=watermark, published_since=since_date)
        with locks.Heartbeat(db_url, lease, LEASE_TTL) as heartbeat:
            pipeline(cfg, db_url, run_id, scope, crawl, heartbeat, progress)
        status, sections = summarise(db_url, run_id)
        report.finish_run(db_url, run_id, status, **sections)
    except BaseException as exc:
        report.finish_run(db_url, run_id, "failed", notes=[f"{type(exc).__name__}: {exc}"])
        raise
    finally:
        locks.release(db_url, lease)
    return run_id


def run_nightly(config_path: str | None = None, database_url: str | None = None, crawl: bool = True,
                published_since: str | None = None, dask_workers: int = 0, dask_address: str | None = None,
                flow_label: str = "nightly", dask_processes: bool = DASK_PROCESSES, progress: bool = False) -> int:
    """Run the flow with the chosen task runner (in process by default, Dask when asked)."""

    watch_ephemeral_server()  # no server left behind, however this process ends
    runner = task_runner(dask_workers, dask_address, dask_processes)
    return nightly.with_options(task_runner=runner)(
        config_path=config_path, database_url=database_url, crawl=crawl, published_since=published_since,
        flow_label=flow_label, progress=progress,
    )
