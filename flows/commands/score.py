"""`onps score IN.jsonl -o OUT.jsonl [--text-only]`: the batch contract outside evaluators use.

Each output line is the input's ``id`` plus ``lang, score, p_promoter, p_passive, p_detractor, confidence,
reasons`` (and the scorer's other fields), the bot verdict, and ``invited`` / ``channel`` (how the review was
collected) and ``author_anonymous`` where the author key was no author. The whole file is one stream: a bot
verdict reads each record against all the others, so it does not depend on line order. A bad input line is
reported with its number on stderr and in OUT.errors.jsonl; the other lines are still scored; the exit code is
1 when any line was bad.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from config.artifacts import ModelUnavailable
from flows import exitcodes
from flows.analyse import check_record, understand
from flows.state import model_unavailable, state

err = Console(stderr=True)
INPUT_FIELDS = ("title", "text", "rating", "rating_scale", "author", "author_name", "author_facts", "published_at",
                "source", "entity", "region", "url")


def errors_path(output: Path) -> Path:
    """OUT.jsonl -> OUT.errors.jsonl."""
    return output.with_name(output.name.removesuffix(".jsonl") + ".errors.jsonl")


def read_lines(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line number, record or None, problem or None) for every non-blank line."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                yield number, None, f"not UTF-8 ({exc.reason} at byte {exc.start})"
                continue
            except json.JSONDecodeError as exc:
                yield number, None, f"not JSON ({exc.msg} at column {exc.colno})"
                continue
            except RecursionError:
                yield number, None, "JSON nested too deeply to be a record"
                continue
            problem = check_record(record)
            yield number, (None if problem else record), problem


def output_line(row: dict[str, Any]) -> dict[str, Any]:
    """The scored fields of a row, without the input's own fields (the id stays first)."""
    return {"id": row["id"], **{k: v for k, v in row.items() if k != "id" and k not in INPUT_FIELDS}}


def register(app: typer.Typer) -> None:
    @app.command(name="score")
    def _score(
        ctx: typer.Context,
        path: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="Input JSON lines."),
        output: Path = typer.Option(..., "-o", "--output", help="Output JSON lines (one per valid input line)."),
        text_only: bool = typer.Option(False, "--text-only", help="Ignore native ratings; score the text alone."),
    ) -> None:
        """Score reviews/posts: language, 0-10 score, NPS class probabilities, confidence, reasons.

        Bad lines are reported (stderr and OUT.errors.jsonl) and skipped; exit code 1 when there were any."""
        cfg = state(ctx).config
        bad_path = errors_path(output)
        bad = 0
        records: list[dict[str, Any]] = []
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with bad_path.open("w", encoding="utf-8") as errors, \
                Progress(*columns, console=err, transient=True) as progress:
            for number, record, problem in read_lines(path):
                if problem is not None:
                    bad += 1
                    err.print(f"[red]{path}:{number}:[/red] {problem}")
                    errors.write(json.dumps({"line": number, "error": problem}, ensure_ascii=False) + "\n")
                    continue
                assert record is not None
                records.append({**record, "id": str(record["id"])})
            task = progress.add_task("scoring", total=len(records))
            try:
                rows = understand(records, cfg, text_only, advance=lambda n: progress.advance(task, n))
            except ModelUnavailable as exc:
                raise model_unavailable(exc) from exc
        with output.open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(output_line(row), ensure_ascii=False) + "\n")
        scored = len(rows)
        if not bad:
            bad_path.unlink()
        listed = f"; {bad} bad line(s), listed in {bad_path}" if bad else ""
        err.print(f"scored {scored} line(s) into {output}{listed}")
        if bad:
            raise typer.Exit(exitcodes.BAD_INPUT)
