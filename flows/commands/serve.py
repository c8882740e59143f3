"""`onps serve` (issue #6)."""

from __future__ import annotations

import typer

from flows.state import not_built


def register(app: typer.Typer) -> None:
    @app.command(name="serve", help="onps serve -- not built yet.")
    def _serve() -> None:
        raise not_built("serve", 6)
