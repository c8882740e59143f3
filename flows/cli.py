"""The `onps` command line: one entry point, one module per sub-command in flows/commands/.

A sub-command's module is imported only when that command runs (or shows its own --help): the modules pull in
Scrapy, SciPy, SQLAlchemy and the models, seconds of imports that `onps --help` or `onps config check` do not
need. ``COMMANDS`` names each command's module and the one-line help the command list shows (a test checks it
against the command's own help, so the two cannot drift).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperCommand, TyperGroup

from flows.cli_errors import CommandError
from flows.state import AppState

errors = Console(stderr=True)

COMMANDS: dict[str, tuple[str, str]] = {  # command -> (module in flows/commands/, its one-line help)
    "init": ("init_cmd", "Write a commented onps.toml to start from: entities, competitors and one source of each "
                         "kind with the URL form its spider expects."),
    "config": ("config_cmd", "The configuration file (onps.toml)."),
    "db": ("db", "The database: create or migrate its schema."),
    "crawl": ("crawl", "Crawl review sites and forums: one URL into a JSON-lines file, or every configured source "
                       "into the store (incremental and resumable)."),
    "score": ("score", "Score reviews/posts: language, 0-10 score, NPS class probabilities, confidence, reasons."),
    "estimate": ("estimate", "Organic NPS per group of documents, from raw JSON lines to intervals."),
    "nightly": ("nightly", "Run the nightly flow: crawl -> score -> bot verdicts -> campaigns -> estimates -> "
                           "alerts -> report."),
    "backfill": ("nightly", "Recompute campaigns, estimates and alerts for every window since DATE (and score or "
                            "judge anything still pending)."),
    "runs": ("nightly", "List past runs (newest first), or show one run's full report with --id."),
    "retrain": ("nightly", "Retrain the scorer, the employee head and the bot filter, evaluate them on held-out "
                           "data, and promote only a model that does not score worse than the one in use."),
    "deploy": ("nightly", "Create the nightly deployment on the config's cron schedule: --serve runs it from this "
                          "process, --work-pool registers it for `prefect worker start --pool NAME`."),
    "survey": ("survey", "Survey NPS: import answers from CSV and compare them with the organic NPS."),
    "alerts": ("alerts", "List open alerts (campaigns, incidents, NPS drops, detractor surges, rising reasons)."),
    "worklist": ("worklist", "The detractor worklist: who to follow up, and where each follow-up stands."),
    "serve": ("serve", "Serve the REST API (/docs), the alert feeds and the dashboard."),
    "apikey": ("serve", "API keys: create, revoke, list."),
    "demo": ("demo", "The bundled demo: three fictional brands, their review sites, app feeds, forum and blog "
                     "served on 127.0.0.1 in the real formats, with known ground truth (true NPS, bots, one smear "
                     "campaign)."),
}


def load_command(name: str) -> Any:
    """The real click command NAME, from its module's ``register``."""
    sub = typer.Typer()
    importlib.import_module(f"flows.commands.{COMMANDS[name][0]}").register(sub)
    return typer.main.get_group(sub).commands[name]


class DeferredCommand(TyperCommand):
    """Stands in for a command in the command list; parsing its arguments loads the real one."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        return load_command(self.name or "").make_context(info_name, args, parent=parent, **extra)


class LazyGroup(TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in COMMANDS if n not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        return DeferredCommand(name=cmd_name, help=COMMANDS[cmd_name][1])

    def invoke(self, ctx: Any) -> Any:
        """Every command's ``CommandError`` (from its body or an option's check) ends here: one error line, the
        error's exit code."""
        try:
            return super().invoke(ctx)
        except CommandError as exc:
            errors.print(f"[red]error:[/red] {exc.message}")
            raise typer.Exit(exc.code) from exc


app = typer.Typer(
    name="onps",
    help=(
        "organic-nps: an organic Net Promoter Score from reviews and forum posts.\n\n"
        "The data flows one way: crawl -> score -> filter -> estimate -> serve. "
        "Start with `onps config check`, then `onps db upgrade`, then `onps nightly` (or `make run` for the demo)."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=LazyGroup,
)


@app.callback()
def root(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None, "--config", "-c", help="Config file (default: $ONPS_CONFIG, else ./onps.toml, else built-in defaults)."
    ),
) -> None:
    ctx.obj = AppState(config_path=config)


def main() -> None:
    app()
