"""The run report: what each stage did, per source, what failed, what was excluded, how the NPS moved.

It lives in the ``runs`` row of the run (``counts`` per stage, ``errors``, and the full ``report``), written
stage by stage as the run goes, so a run killed half-way still shows how far it got, and `onps runs` can say
what happened last night without a Prefect server.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text
from sqlalchemy import select

from flows.stages import STAGES, StageResult
from store.clock import utcnow
from store.engine import session_scope
from store.schema import CrawlRun

FINISHED = ("completed", "failed", "skipped", "interrupted")


def start_run(db_url: str, flow: str, params: dict[str, Any]) -> int:
    """A new ``runs`` row in state running; its id tags what the run writes."""
    with session_scope(db_url) as session:
        run = CrawlRun(flow=flow, status="running", counts={}, errors=[],
                       report={"params": params, "stages": {}})
        session.add(run)
        session.flush()
        return run.id


def record_stage(db_url: str, run_id: int, result: StageResult) -> None:
    """Store one finished stage in the run's report (replacing an earlier entry for the same stage)."""
    with session_scope(db_url) as session:
        run = session.get(CrawlRun, run_id)
        if run is None:
            raise LookupError(f"run {run_id} is not in the runs table")
        report = dict(run.report or {})
        report["stages"] = {**report.get("stages", {}), result.stage: result.to_json()}
        run.report = report
        run.counts = {**(run.counts or {}), result.stage: result.counts}
        run.errors = [*(run.errors or []), *({"stage": result.stage, "error": e} for e in result.errors)]


def finish_run(db_url: str, run_id: int, status: str, **sections: Any) -> None:
    """Close the run: its final status and any further report sections (excluded, nps_changes, notes...)."""
    with session_scope(db_url) as session:
        run = session.get(CrawlRun, run_id)
        if run is None:
            raise LookupError(f"run {run_id} is not in the runs table")
        run.status = status
        run.finished_at = utcnow()
        run.report = {**(run.report or {}), **sections}


def mark_interrupted(db_url: str, run_id: int, by_run: int) -> None:
    """A run whose process died keeps status running forever unless the run that took its lease says so."""
    with session_scope(db_url) as session:
        run = session.get(CrawlRun, run_id)
        if run is not None and run.status == "running":
            run.status = "interrupted"
            run.finished_at = utcnow()
            run.report = {**(run.report or {}), "interrupted": f"process gone; resumed by run {by_run}"}


def last_completed_start(db_url: str, flows: Sequence[str]) -> datetime | None:
    """When the last completed run of FLOWS started: everything stored since then is new to the estimates.

    A failed or killed run does not move this mark, so the next run redoes the windows it may have missed.
    """
    with session_scope(db_url) as session:
        return session.execute(
            select(CrawlRun.started_at)
            .where(CrawlRun.flow.in_(list(flows)), CrawlRun.status == "completed")
            .order_by(CrawlRun.started_at.desc())
            .limit(1)
        ).scalar_one_or_none()


def load_run(db_url: str, run_id: int) -> dict[str, Any]:
    with session_scope(db_url) as session:
        run = session.get(CrawlRun, run_id)
        if run is None:
            raise LookupError(f"run {run_id} is not in the runs table; `onps runs` lists the runs")
        return run_dict(run)


def recent_runs(db_url: str, limit: int = 20) -> list[dict[str, Any]]:
    with session_scope(db_url) as session:
        runs = session.execute(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)).scalars()
        return [run_dict(r) for r in runs]


def run_dict(run: CrawlRun) -> dict[str, Any]:
    return {
        "id": run.id, "flow": run.flow, "status": run.status, "started_at": run.started_at,
        "finished_at": run.finished_at, "counts": run.counts or {}, "errors": run.errors or [],
        "report": run.report or {},
    }


# -- rendering --------------------------------------------------------------------------------------------

STATUS_STYLE = {"done": "green", "failed": "red", "skipped": "dim",
                "completed": "green", "running": "cyan", "interrupted": "red"}


def _counts_text(counts: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "-"


def render_run(run: dict[str, Any]) -> Group:
    """The report of one run as rich renderables: stages, sources, errors, exclusions, NPS changes."""
    report = run["report"]
    took = ""
    if run["finished_at"]:
        took = f" in {(run['finished_at'] - run['started_at']).total_seconds():.1f} s"
    style = STATUS_STYLE.get(run["status"], "white")
    head = Text.assemble(
        (f"run {run['id']} ", "bold"), f"({run['flow']}) ", (run["status"], style),
        f", started {run['started_at']:%Y-%m-%d %H:%M:%S} UTC{took}",
    )
    parts: list[Any] = [head]
    stages = report.get("stages", {})
    table = Table(title="stages", title_justify="left", show_edge=False)
    for column in ("stage", "status", "counts", "seconds"):
        table.add_column(column, justify="right" if column == "seconds" else "left")
    for name in [*STAGES, *(s for s in stages if s not in STAGES)]:
        stage = stages.get(name)
        if stage is None:
            table.add_row(name, Text("not run", "dim"), "-", "-")
            continue
        table.add_row(name, Text(stage["status"], STATUS_STYLE.get(stage["status"], "white")),
                      _counts_text(stage["counts"]), f"{stage['seconds']:.2f}")
    parts.append(table)
    sources: dict[str, dict[str, int]] = {}
    for stage in stages.values():
        for source, counts in stage.get("by_source", {}).items():
            sources.setdefault(source, {}).update(counts)
    if sources:
        by_source = Table(title="per source", title_justify="left", show_edge=False)
        by_source.add_column("source")
        by_source.add_column("counts")
        for source, counts in sorted(sources.items()):
            by_source.add_row(source, _counts_text(counts))
        parts.append(by_source)
    if report.get("excluded"):
        parts.append(Text("excluded from the organic NPS (all time, entities this run touched): "
                          + _counts_text(report["excluded"])))
    changes = report.get("nps_changes") or []
    if changes:
        moves = Table(title="NPS changes", title_justify="left", show_edge=False)
        for column in ("entity", "window", "before", "now", "interval"):
            moves.add_column(column)
        for c in changes:
            before = "-" if c.get("before") is None else f"{c['before']:+.1f}"
            moves.add_row(c["entity"], c["window"], before, f"{c['nps']:+.1f}",
                          f"[{c['low']:+.1f}, {c['high']:+.1f}]")
        parts.append(moves)
    crawl = stages.get("crawl", {}).get("detail", {})
    if crawl.get("page_error_count"):
        first = crawl["page_errors"][0]
        parts.append(Text(f"crawl: {crawl['page_error_count']} page(s) could not be read (first: {first})", "yellow"))
    for note in report.get("notes", []):
        parts.append(Text(note, "yellow"))
    for err in run["errors"]:
        parts.append(Text(f"error in {err['stage']}: {err['error']}", "red"))
    return Group(*parts)


def render_runs(runs: Sequence[dict[str, Any]]) -> Table:
    """One line per run, newest first (`onps runs`)."""
    table = Table(show_edge=False)
    for column in ("run", "flow", "status", "started (UTC)", "seconds", "scored", "bots", "quarantined", "errors"):
        table.add_column(column, no_wrap=column in ("flow", "status"))
    for run in runs:
        seconds = (run["finished_at"] - run["started_at"]).total_seconds() if run["finished_at"] else None
        table.add_row(
            str(run["id"]), run["flow"], Text(run["status"], STATUS_STYLE.get(run["status"], "white")),
            f"{run['started_at']:%m-%d %H:%M}", "-" if seconds is None else f"{seconds:.1f}",
            str(run["counts"].get("score", {}).get("scored", "-")),
            str(run["counts"].get("bots", {}).get("bots", "-")),
            str(sum((run["report"].get("quarantined") or {}).values())), str(len(run["errors"])),
        )
    return table


def print_run(console: Console, run: dict[str, Any]) -> None:
    console.print(render_run(run))
