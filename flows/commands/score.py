"""`onps score IN.jsonl -o OUT.jsonl [--text-only]` (issue #4)."""

from __future__ import annotations

import typer

from flows.state import not_built


def register(app: typer.Typer) -> None:
    @app.command(name="score", help="onps score IN.jsonl -o OUT.jsonl [--text-only] -- not built yet.")
    def _score() -> None:
        raise not_built("score", 4)
