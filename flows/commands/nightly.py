"""`onps nightly`, `onps backfill`, `onps retrain`, `onps deploy` (issue #7)."""

from __future__ import annotations

import typer

from flows.state import not_built


def register(app: typer.Typer) -> None:
    @app.command(help="Run the nightly flow: crawl -> score -> filter -> estimate -> alerts -> report.")
    def nightly() -> None:
        raise not_built("the nightly flow", 7)
