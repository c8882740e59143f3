"""`onps demo serve / onps demo generate` (issue #2)."""

from __future__ import annotations

import typer

from flows.state import not_built


def register(app: typer.Typer) -> None:
    @app.command(name="demo", help="onps demo serve / onps demo generate -- not built yet.")
    def _demo() -> None:
        raise not_built("demo", 2)
