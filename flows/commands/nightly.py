"""`onps nightly`, `onps backfill`, `onps runs`, `onps retrain`, `onps deploy`.

Prefect is imported only inside the commands, after flows.orchestrator has set its defaults (home under var/,
quiet logs): Prefect reads its settings once, at import.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from flows import exitcodes
from flows.cli_errors import CommandError
from flows.orchestrator import DASK_PROCESSES
from flows.state import state

out = Console()
err = Console(stderr=True)


def _db_url(ctx: typer.Context, database_url: str | None) -> str:
    return database_url or state(ctx).config.database.url


def _finish(db_url: str, run_id: int) -> None:
    """Print the run's report and end with the exit code its status deserves."""
    from flows.report import load_run, print_run

    run = load_run(db_url, run_id)
    print_run(out, run)
    if run["status"] == "skipped":  # not a failure: nothing was attempted
        raise typer.Exit(exitcodes.SKIPPED)
    if run["status"] != "completed":
        raise typer.Exit(exitcodes.RUN_FAILED)


def _run(ctx: typer.Context, database_url: str | None, crawl: bool, since: str | None, **options: Any) -> None:
    """The nightly flow (or a backfill from SINCE) on the config's store, then its report and exit code. The config
    is validated before Prefect starts, and Prefect is configured before it is imported."""
    cfg = state(ctx).config
    from flows.orchestrator import configure

    configure()
    from flows.nightly import run_nightly

    db_url = database_url or cfg.database.url
    config_path = str(state(ctx).config_path) if state(ctx).config_path else None
    _finish(db_url, run_nightly(config_path, db_url, crawl, since, progress=err.is_terminal, **options))


def nightly(
    ctx: typer.Context,
    crawl: bool = typer.Option(True, "--crawl/--no-crawl", help="Crawl the configured sources first."),
    dask_workers: int = typer.Option(0, min=0, help="Spread scoring and bot batches over a local Dask "
                                                    "cluster of N workers (0: in process)."),
    dask_address: str | None = typer.Option(None, help="Use an existing Dask scheduler (tcp://host:8786)."),
    dask_processes: bool = typer.Option(DASK_PROCESSES, "--dask-processes/--dask-threads",
                                        help="Local Dask workers as processes (each loads the models) or "
                                             "threads of this process."),
    database_url: str | None = typer.Option(None, "--db", help="Override the config's database URL."),
) -> None:
    _run(ctx, database_url, crawl, None, dask_workers=dask_workers, dask_address=dask_address,
         dask_processes=dask_processes)

def backfill(
    ctx: typer.Context,
    since: str = typer.Option(..., help="First publication date to recompute, YYYY-MM-DD."),
    crawl: bool = typer.Option(False, "--crawl/--no-crawl", help="Crawl first as well."),
    database_url: str | None = typer.Option(None, "--db", help="Override the config's database URL."),
) -> None:
    try:
        date.fromisoformat(since)
    except ValueError as exc:
        raise CommandError(f"--since {since!r} is not a date; write it as YYYY-MM-DD") from exc
    _run(ctx, database_url, crawl, since, flow_label="backfill")

def runs(
    ctx: typer.Context,
    run_id: int | None = typer.Option(None, "--id", help="Show this run's report."),
    last: int = typer.Option(20, min=1, help="How many runs to list."),
    database_url: str | None = typer.Option(None, "--db", help="Override the config's database URL."),
) -> None:
    from flows.report import load_run, print_run, recent_runs, render_runs

    db_url = _db_url(ctx, database_url)
    if run_id is not None:
        try:
            print_run(out, load_run(db_url, run_id))
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        return
    listed = recent_runs(db_url, last)
    if not listed:
        err.print("no runs yet; start one with `onps nightly`")
        return
    out.print(render_runs(listed))

def retrain(
    dry_run: bool = typer.Option(False, "--dry-run", help="Train and compare, but promote nothing."),
) -> None:
    from flows.retrain import TRAINERS, retrain_one

    table = Table("trainer", "status", "in use", "candidate", "detail", show_edge=False)
    failed = False
    scratch = Path(tempfile.mkdtemp(prefix="onps-retrain-"))  # kept: a refused candidate stays to inspect
    for trainer in TRAINERS:
        with err.status(f"training {trainer.module} (python -m {trainer.module}); this takes a while"):
            outcome = retrain_one(trainer, scratch, dry_run)
        failed |= outcome.status == "failed"
        table.add_row(outcome.module, outcome.status,
                      "-" if outcome.current is None else f"{outcome.current:.4f}",
                      "-" if outcome.candidate is None else f"{outcome.candidate:.4f}", outcome.detail)
    out.print(table)
    if failed:
        raise typer.Exit(exitcodes.RUN_FAILED)

def deploy(
    ctx: typer.Context,
    work_pool: str | None = typer.Option(None, help="Register on this work pool for workers to pick up."),
    serve: bool = typer.Option(False, "--serve", help="Serve the deployment from this process."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the deployment; register nothing."),
) -> None:
    cfg = state(ctx).config
    from flows.orchestrator import configure

    configure()
    import os

    from flows import deploy as deployments

    config_path = state(ctx).config_path
    deployment = deployments.nightly_deployment(cfg, config_path, work_pool)
    out.print(f"deployment [bold]{deployment.name}[/bold] of flow nightly ({deployment.entrypoint}), cron "
              f"[bold]{cfg.schedule.cron}[/bold] ({cfg.schedule.timezone}), parameters "
              f"{deployment.parameters}")
    if dry_run:
        return
    if not os.environ.get("PREFECT_API_URL"):
        raise CommandError("a deployment needs a Prefect server: start one with `prefect server "
                           "start` and set PREFECT_API_URL=http://127.0.0.1:4200/api (or use --dry-run)")
    if serve:
        deployments.serve(cfg, config_path)
        return
    if not work_pool:
        raise CommandError("choose --serve (this process runs the schedule) or --work-pool NAME "
                           "(workers run it: `prefect work-pool create NAME --type process`)")
    out.print(f"registered deployment {deployments.apply_deployment(deployment)}")


def register(app: typer.Typer) -> None:
    app.command(help="Run the nightly flow: crawl -> score -> bot verdicts -> campaigns -> estimates -> alerts "
                     "-> report. Runs in process with no server unless PREFECT_API_URL is set.")(nightly)
    app.command(help="Recompute campaigns, estimates and alerts for every window since DATE (and score or "
                     "judge anything still pending).")(backfill)
    app.command(help="List past runs (newest first), or show one run's full report with --id.")(runs)
    app.command(help="Retrain the scorer, the employee head and the bot filter, evaluate them on held-out data, "
                     "and promote only a model that does not score worse than the one in use.")(retrain)
    app.command(help="Create the nightly deployment on the config's cron schedule: --serve runs it from this "
                     "process, --work-pool registers it for `prefect worker start --pool NAME`. Needs a Prefect "
                     "server (PREFECT_API_URL).")(deploy)
