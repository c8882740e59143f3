"""`onps survey import FILE.csv` and `onps survey compare`.

Import is all or nothing: every row is validated before anything is written (``nps.survey_import``), a bad row is
reported with its line, and the rows are written in one transaction (``store.surveys``). Each answer is stored
once by its own identity, so importing the same answers again, from this file or another, adds nothing.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from flows import exitcodes
from flows.cli_errors import CommandError
from flows.options import window_option
from flows.state import state
from nps.compare import compare_survey
from nps.survey_import import DELIMITER_NAMES, Mapping, parse_survey_csv
from store import queries
from store.engine import session_scope
from store.registry import sync_config
from store.surveys import save_survey

out = Console()
err = Console(stderr=True)


def _group_table(title: str, pairs: list[dict[str, Any]]) -> Table:
    table = Table(title=title)
    for col in ("segment", "window", "survey n", "survey NPS (95%)", "organic n", "organic NPS (95%)",
                "difference (95%)", "significant", "gap reasons"):
        table.add_column(col)
    for p in pairs:
        s, o = p["survey"], p["organic"]
        table.add_row(
            ", ".join(f"{k}={v}" for k, v in p["group"].items()),
            (p["window_start"] or "all time")[:10],
            f"{s['n']:g}", f"{s['nps']:+.1f} [{s['low']:+.1f}, {s['high']:+.1f}]",
            f"{o['n']:g}", f"{o['nps']:+.1f} [{o['low']:+.1f}, {o['high']:+.1f}]",
            f"{p['difference']:+.1f} [{p['difference_low']:+.1f}, {p['difference_high']:+.1f}]",
            "yes" if p["significant"] else "no",
            ", ".join(p["gap_reasons"]) or "-",
        )
    return table


def register(app: typer.Typer) -> None:
    survey = typer.Typer(help="Survey NPS: import answers from CSV and compare them with the organic NPS.",
                         no_args_is_help=True)
    app.add_typer(survey, name="survey")

    @survey.command(name="import", help="Import survey answers (0-10) from a CSV file; all rows or none. Each "
                                        "answer is stored once, whichever file it comes in.")
    def import_(
        ctx: typer.Context,
        path: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV file with a header line."),
        entity: str = typer.Option(..., "--entity", help="Configured entity the survey is about (required: an "
                                   "answer about nobody would never be shown)."),
        score_col: str = typer.Option("score", "--score-col", help="Column with the 0-10 answer."),
        date_col: str = typer.Option("date", "--date-col", help="Column with the answer date."),
        date_format: str | None = typer.Option(None, "--date-format", help="strptime format of the dates, e.g. "
                                               "%d/%m/%Y; default ISO 8601 (YYYY-MM-DD)."),
        delimiter: str | None = typer.Option(None, "--delimiter", help="Field separator; default: sniffed from "
                                             "the header (comma, semicolon, tab or pipe)."),
        segment_col: list[str] = typer.Option([], "--segment-col",
                                              help="Segment column (repeat, or comma-separated), e.g. region."),
        comment_col: str | None = typer.Option(None, "--comment-col", help="Free-text comment column."),
        respondent_col: str | None = typer.Option(None, "--respondent-col", help="Column identifying who answered: "
                                                  "an answer is then the respondent, date and score."),
        skip_bad: bool = typer.Option(False, "--skip-bad", help="Import the valid rows even if some are bad."),
    ) -> None:
        cfg = state(ctx).config
        separator = delimiter.replace("\\t", "\t") if delimiter is not None else None  # \t typed as two characters
        if separator is not None and len(separator) != 1:
            raise CommandError(f"--delimiter must be one character (\\t for tab), got {delimiter!r}")
        segments = tuple(s.strip() for value in segment_col for s in value.split(",") if s.strip())
        db_url = cfg.database.url
        with session_scope(db_url) as session:
            ids = sync_config(session, cfg).entities
        if entity not in ids:
            raise CommandError(f"entity {entity!r} is not configured; known: "
                               f"{', '.join(sorted(ids)) or 'none'} (add it to [[entities]] in onps.toml).")
        data = path.read_bytes()
        parsed = parse_survey_csv(data, Mapping(score_col, date_col, segments, comment_col, respondent_col),
                                  separator, date_format)
        how = (f"{DELIMITER_NAMES.get(parsed.delimiter, repr(parsed.delimiter))}-separated, dates "
               f"{date_format or 'ISO 8601'}")
        if parsed.missing_columns:
            raise CommandError(f"{path}: column(s) {', '.join(parsed.missing_columns)} not in the header "
                               f"({', '.join(parsed.columns) or 'no columns'}; read as {how}); name them with "
                               "--score-col, --date-col, --segment-col, --comment-col, or set --delimiter. "
                               "Nothing was imported.")
        for problem in parsed.problems:
            err.print(f"[red]{path}:[/red] {problem}")
        if parsed.problems and (not skip_bad or not parsed.rows):
            err.print(f"{len(parsed.problems)} bad row(s); nothing was imported (read as {how}). Fix them, or pass "
                      "--skip-bad to import the valid rows only.")
            raise typer.Exit(exitcodes.BAD_INPUT)
        batch = hashlib.sha256(data).hexdigest()
        new = save_survey(db_url, parsed.rows, batch, ids[entity])
        out.print(f"imported {new} new answer(s) of {len(parsed.rows)} valid row(s) from {path} ({how}; "
                  f"batch {batch[:12]}); {len(parsed.rows) - new} already imported"
                  + (f"; {len(parsed.problems)} bad row(s) skipped" if parsed.problems else ""))
        if parsed.problems:
            raise typer.Exit(exitcodes.BAD_INPUT)

    @survey.command(help="Survey NPS vs organic NPS per segment and window, with both intervals.")
    def compare(
        ctx: typer.Context,
        entity: str | None = typer.Option(None, "--entity", help="Only this entity."),
        by: str = typer.Option("", "--by", help="Segment keys present in both, comma-separated (e.g. region)."),
        window: str | None = window_option(),
        fmt: str = typer.Option("table", "--format", help="table or json."),
    ) -> None:
        cfg = state(ctx).config
        keys = ["entity", *(k.strip() for k in by.split(",") if k.strip())]

        def read() -> tuple[list[Any], list[Any], bool]:
            with session_scope(cfg.database.url) as session:
                stored = queries.stored_estimates(session, window or "all", entity)
                return (queries.survey_responses(session, entity),
                        [e for e in stored if set(e.group) == set(keys)], bool(stored))

        responses, organic, any_stored = read()
        if not responses:
            err.print("no survey answers imported yet; run `onps survey import FILE.csv --entity NAME` first.")
            raise typer.Exit(exitcodes.OK)
        if not any_stored and window is not None:
            from flows.locks import LockHeld
            from flows.on_demand import estimate_on_demand

            err.print(f"no {window} estimates stored yet: estimating them now (a run of its own, see `onps runs`)")
            try:
                estimate_on_demand(cfg.database.url, cfg, window)
            except LockHeld as exc:
                raise CommandError(str(exc), exitcodes.SKIPPED) from exc
            responses, organic, any_stored = read()
        if not organic:
            missing = [k for k in keys[1:] if k not in cfg.estimate.segments]
            err.print(f"no organic estimates for window {window or 'all'} and segments {', '.join(keys)}; "
                      + (f"add {', '.join(missing)} to [estimate] segments in the config; the next nightly "
                         "estimates them." if missing else
                         "no scored reviews of this entity are stored yet: run `onps nightly`."))
            raise typer.Exit(exitcodes.OK)
        pairs, correlations = compare_survey(responses, organic, keys, window, cfg.thresholds)
        result = [p.to_dict() for p in pairs]
        if fmt == "json":
            print(json.dumps({"comparisons": result, "correlations": correlations}, indent=2))
            return
        out.print(_group_table("Survey vs organic NPS", result))
        if not pairs:
            out.print("no segment and window has both survey answers and an organic estimate.")
        for label, c in correlations.items():
            out.print(f"correlation over {c['windows']} windows for {label}: r = {c['r']:+.2f} (p = {c['p']:.3f})")
