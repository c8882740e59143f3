"""`onps crawl [URL] --kind K [--entity NAME] [--max-pages N] -o OUT.jsonl` (issue #3)."""

from __future__ import annotations

import typer

from flows.state import not_built


def register(app: typer.Typer) -> None:
    @app.command(name="crawl", help="onps crawl [URL] --kind K [--entity NAME] [--max-pages N] -o OUT.jsonl -- not built yet.")
    def _crawl() -> None:
        raise not_built("crawl", 3)
