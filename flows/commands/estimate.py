"""`onps estimate IN.jsonl --by FIELD[,FIELD] [--window week] [--format json|table]` (issue #6)."""

from __future__ import annotations

import typer

from flows.state import not_built


def register(app: typer.Typer) -> None:
    @app.command(name="estimate", help="onps estimate IN.jsonl --by FIELD[,FIELD] [--window week] [--format json|table] -- not built yet.")
    def _estimate() -> None:
        raise not_built("estimate", 6)
