"""`onps config check` and `onps config show`: validate the config before anything runs on it."""

from __future__ import annotations

import json

import typer
from rich.console import Console

from flows.state import state

out = Console()


def register(app: typer.Typer) -> None:
    config = typer.Typer(help="The configuration file (onps.toml).", no_args_is_help=True)
    app.add_typer(config, name="config")

    @config.command(help="Validate the config; errors name the key and the line. Exit 2 when invalid.")
    def check(ctx: typer.Context) -> None:
        cfg = state(ctx).config
        out.print(
            f"[green]ok[/green]: {len(cfg.entities)} entities, {len(cfg.sources)} sources, "
            f"database {cfg.database.url}, scorer {cfg.models.scorer}"
        )

    @config.command(help="Print the effective config (file + environment + defaults) as JSON.")
    def show(ctx: typer.Context) -> None:
        print(json.dumps(state(ctx).config.model_dump(mode="json"), indent=2))
