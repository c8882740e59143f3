"""`onps alerts` (issue #6)."""

from __future__ import annotations

import typer

from flows.state import not_built


def register(app: typer.Typer) -> None:
    @app.command(help="List open alerts (campaigns, NPS drops, detractor surges, rising reasons).")
    def alerts() -> None:
        raise not_built("alerts", 6)
