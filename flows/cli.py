"""The `onps` command line: one entry point, one module per sub-command in flows/commands/."""

from __future__ import annotations

from pathlib import Path

import typer

from flows.commands import alerts, config_cmd, crawl, db, demo, estimate, nightly, score, serve, survey
from flows.state import AppState

app = typer.Typer(
    name="onps",
    help=(
        "organic-nps: an organic Net Promoter Score from reviews and forum posts.\n\n"
        "The data flows one way: crawl -> score -> filter -> estimate -> serve. "
        "Start with `onps config check`, then `onps db upgrade`, then `onps nightly` (or `make run` for the demo)."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None, "--config", "-c", help="Config file (default: $ONPS_CONFIG, else ./onps.toml, else built-in defaults)."
    ),
) -> None:
    ctx.obj = AppState(config_path=config)


for module in (config_cmd, db, crawl, score, estimate, nightly, survey, alerts, serve, demo):
    module.register(app)


def main() -> None:
    app()
