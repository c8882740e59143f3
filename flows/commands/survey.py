"""`onps survey import FILE.csv` (issue #6)."""

from __future__ import annotations

import typer

from flows.state import not_built


def register(app: typer.Typer) -> None:
    survey = typer.Typer(help="Survey NPS: import answers from CSV and compare them with the organic NPS.")
    app.add_typer(survey, name="survey")

    @survey.command(name="import", help="Import survey answers (0-10) from a CSV file.")
    def import_() -> None:
        raise not_built("survey import", 6)
