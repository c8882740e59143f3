"""`onps estimate IN.jsonl --by FIELD[,FIELD...] [--window week] [--format json|table] [--text-only]`.

The whole path from raw documents to one organic NPS per group, through the same composition the nightly flow
uses (``flows.analyse``: scorer, reasons, bot filter, campaigns), then ``nps.organic.estimate_groups``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from config.artifacts import ModelUnavailable
from flows import exitcodes
from flows.analyse import flag_campaigns, understand
from flows.cli_errors import CommandError
from flows.commands.score import read_lines
from flows.options import window_option
from flows.state import model_unavailable, state
from nlp.score import cached_scorer
from nps.organic import estimate_groups, exclusion

out = Console()
err = Console(stderr=True)
FORMATS = ("json", "table")


def read_records(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The valid records of a JSON-lines file (the `onps score` checks, flows.analyse.check_record) and each bad
    line as 'line N: what'."""
    records, problems = [], []
    for number, record, problem in read_lines(path):
        if problem or record is None:
            problems.append(f"line {number}: {problem}")
            continue
        records.append({**record, "id": str(record["id"])})
    return records, problems


def _table(estimates: list[dict[str, Any]], by: list[str]) -> Table:
    table = Table(title="Organic NPS and eNPS (95% interval; employees' eNPS on rows of their own)")
    for col in [*by, "metric", "window", "n", "NPS", "95% interval", "P / Pa / D", "active D", "WoM", "excluded",
                "method"]:
        table.add_column(col)
    for e in estimates:
        window = e["window"]["start"][:10] if e["window"] else "all"
        table.add_row(
            *(str(e["group"].get(k) if e["group"].get(k) is not None else "-") for k in by),
            "eNPS" if e["metric"] == "enps" else "NPS", window,
            f"{e['n']:g}", f"{e['nps']:+.1f}", f"[{e['low']:+.1f}, {e['high']:+.1f}]",
            f"{e['promoters']:.1f} / {e['passives']:.1f} / {e['detractors']:.1f}",
            f"{e['detractor_split']['active']:.1f}", f"{e['wom']['index']:+.1f}",
            ", ".join(f"{k} {v}" for k, v in e["excluded"].items()) or "-", e["method"],
        )
    return table


def register(app: typer.Typer) -> None:
    @app.command(name="estimate", help="Organic NPS per group of documents, from raw JSON lines to intervals. "
                                        'Lines with "audience": "employee" (employer reviews) get an eNPS of '
                                        'their own per group, never mixed with the customers\' NPS.')
    def estimate(
        ctx: typer.Context,
        path: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSON lines as for `onps score`."),
        by: str = typer.Option("entity", "--by", help="Group by these fields, comma-separated (e.g. entity,source)."),
        window: str | None = window_option(),
        fmt: str = typer.Option("json", "--format", help="json (one estimate per line) or table."),
        text_only: bool = typer.Option(False, "--text-only", help="Ignore native ratings; score the text alone."),
    ) -> None:
        cfg = state(ctx).config
        fields = [f.strip() for f in by.split(",") if f.strip()]
        if fmt not in FORMATS:
            raise CommandError(f"--format must be json or table, got {fmt!r}")
        records, problems = read_records(path)
        for problem in problems:
            err.print(f"[red]{path}:[/red] {problem}")
        if not records:
            err.print("no valid records; nothing to estimate.")
            raise typer.Exit(exitcodes.BAD_INPUT)
        try:
            scorer = cached_scorer(cfg.models)
            understood = understand(records, cfg, text_only, with_levels=True)
        except ModelUnavailable as exc:
            raise model_unavailable(exc) from exc
        rows = [{**row, "model_error": scorer.model_error(row, text_only)}
                for row in flag_campaigns(understood, cfg)]
        estimates = estimate_groups(rows, fields, window, cfg.thresholds, train_prior=scorer.train_prior,
                                    level_prior=scorer.level_prior)
        lines = [e.to_dict() for e in estimates]
        if fmt == "json":
            for line in lines:
                print(json.dumps(line, ensure_ascii=False))
        else:
            out.print(_table(lines, fields))
        totals = Counter(v for v in exclusion(rows, window, cfg.thresholds.copy_min_words) if v)
        err.print(f"{len(records)} records, {len(estimates)} group(s); excluded before grouping: "
                  + (", ".join(f"{k} {v}" for k, v in totals.items()) or "none"))
        if problems:
            raise typer.Exit(exitcodes.BAD_INPUT)
