"""`onps survey import FILE.csv` and `onps survey compare` (issue #6).

Import is all or nothing: every row is validated before anything is written, a bad row is reported with its line,
and the rows are written in one transaction. The batch is the file's content hash, so importing the same file
again adds nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from flows import exitcodes
from flows.cli_errors import CommandError
from flows.options import window_option
from flows.state import state
from nps.compare import compare_survey
from nps.record import parse_iso
from store import queries
from store.engine import session_scope
from store.registry import sync_config
from store.schema import SurveyResponse
from store.upsert import upsert

out = Console()
err = Console(stderr=True)


@dataclass(frozen=True)
class Mapping:
    """Which CSV column holds what."""

    score: str = "score"
    date: str = "date"
    segments: tuple[str, ...] = ()
    comment: str | None = None


@dataclass
class Parsed:
    """Valid rows (ready to store, keyed by their line) and every problem found, as 'line N: what'."""

    rows: list[dict[str, Any]]
    problems: list[str]
    missing_columns: list[str]
    columns: list[str]


def parse_score(text: str) -> int:
    """A 0-10 whole number ("9" or "9.0"); anything else is an error saying what was found."""
    if not text.strip():
        raise ValueError("score is empty: every answer needs a whole number 0-10 (leave out rows with no answer)")
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"score must be a whole number 0-10, got {text[:40]!r}") from None
    if not value.is_integer() or not 0 <= value <= 10:
        raise ValueError(f"score must be a whole number 0-10, got {text!r}")
    return int(value)


def parse_date(text: str) -> datetime:
    """ISO 8601 date or date-time (UTC when no zone): day-first or month-first dates are ambiguous, refused."""
    moment = parse_iso(text.strip())
    if moment is None:
        raise ValueError(f"date must be ISO 8601 (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ), got {text!r}")
    return moment


def _bad_encoding_lines(data: bytes) -> dict[int, str]:
    bad = {}
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad[number] = f"not UTF-8 (byte 0x{line[exc.start]:02x} at column {exc.start + 1}); save the file as UTF-8"
    return bad


def parse_survey_csv(data: bytes, mapping: Mapping) -> Parsed:
    """Validate every row of a survey CSV; a row's line is the physical line it starts on (header = line 1)."""
    bad_lines = _bad_encoding_lines(data)
    text = data.decode("utf-8-sig", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return Parsed([], ["the file is empty: expected a header line with column names"], [], [])
    header = [h.strip() for h in header]
    wanted = [mapping.score, mapping.date, *mapping.segments, *([mapping.comment] if mapping.comment else [])]
    missing = [c for c in wanted if c not in header]
    if missing:
        return Parsed([], [], missing, header)
    index = {name: header.index(name) for name in wanted}
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    last = reader.line_num
    for fields in reader:
        start, last = last + 1, reader.line_num
        if not fields or all(not f.strip() for f in fields):
            continue
        encoding = [bad_lines[n] for n in range(start, last + 1) if n in bad_lines]
        if encoding:
            problems.append(f"line {start}: {encoding[0]}")
            continue
        if len(fields) != len(header):
            problems.append(f"line {start}: expected {len(header)} fields, found {len(fields)}")
            continue
        try:
            score = parse_score(fields[index[mapping.score]])
            answered = parse_date(fields[index[mapping.date]])
        except ValueError as exc:
            problems.append(f"line {start}: {exc}")
            continue
        rows.append({
            "row_number": start,
            "score": score,
            "answered_at": answered,
            "segment": {s: fields[index[s]].strip() for s in mapping.segments},
            "comment": fields[index[mapping.comment]].strip() or None if mapping.comment else None,
        })
    if not rows and not problems:
        problems.append("no rows after the header: nothing to import")
    return Parsed(rows, problems, [], header)


def save_survey(db_url: str, rows: list[dict[str, Any]], batch: str, entity_id: int | None) -> int:
    """Write ROWS of BATCH in one transaction; returns how many were new (a re-import writes none)."""
    with session_scope(db_url) as session:
        before = session.execute(select(func.count()).where(SurveyResponse.batch == batch)).scalar_one()
        upsert(session, SurveyResponse.__table__,
               [{**r, "batch": batch, "entity_id": entity_id} for r in rows], key=("batch", "row_number"))
        after = session.execute(select(func.count()).where(SurveyResponse.batch == batch)).scalar_one()
    return after - before


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

    @survey.command(name="import", help="Import survey answers (0-10) from a CSV file; all rows or none.")
    def import_(
        ctx: typer.Context,
        path: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV file with a header line."),
        score_col: str = typer.Option("score", "--score-col", help="Column with the 0-10 answer."),
        date_col: str = typer.Option("date", "--date-col", help="Column with the ISO 8601 answer date."),
        segment_col: list[str] = typer.Option([], "--segment-col",
                                              help="Segment column (repeat, or comma-separated), e.g. region."),
        comment_col: str | None = typer.Option(None, "--comment-col", help="Free-text comment column."),
        entity: str | None = typer.Option(None, "--entity", help="Configured entity the survey is about."),
        skip_bad: bool = typer.Option(False, "--skip-bad", help="Import the valid rows even if some are bad."),
    ) -> None:
        cfg = state(ctx).config
        segments = tuple(s.strip() for value in segment_col for s in value.split(",") if s.strip())
        data = path.read_bytes()
        parsed = parse_survey_csv(data, Mapping(score_col, date_col, segments, comment_col))
        if parsed.missing_columns:
            raise CommandError(f"{path}: column(s) {', '.join(parsed.missing_columns)} not in the header "
                               f"({', '.join(parsed.columns) or 'no columns'}); name them with --score-col, "
                               "--date-col, --segment-col, --comment-col. Nothing was imported.")
        for problem in parsed.problems:
            err.print(f"[red]{path}:[/red] {problem}")
        if parsed.problems and (not skip_bad or not parsed.rows):
            err.print(f"{len(parsed.problems)} bad row(s); nothing was imported. Fix them, or pass --skip-bad "
                      "to import the valid rows only.")
            raise typer.Exit(exitcodes.BAD_INPUT)
        db_url = cfg.database.url
        entity_id = None
        if entity is not None:
            with session_scope(db_url) as session:
                ids = sync_config(session, cfg).entities
            if entity not in ids:
                raise CommandError(f"entity {entity!r} is not configured; known: "
                                   f"{', '.join(sorted(ids)) or 'none'} (add it to onps.toml).")
            entity_id = ids[entity]
        batch = hashlib.sha256(data).hexdigest()
        new = save_survey(db_url, parsed.rows, batch, entity_id)
        out.print(f"imported {new} new answer(s) of {len(parsed.rows)} valid row(s) from {path} "
                  f"(batch {batch[:12]}); {len(parsed.rows) - new} already imported"
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
