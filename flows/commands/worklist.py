"""`onps worklist list` and `onps worklist set ID`: the detractor queue from a terminal.

The same queue as the dashboard's worklist page and `/api/worklist` (web.reads.worklist: organic detractors by
text and rating together, active detractors first), and the same writer (store.worklist.set_entry), so a status
set here shows there at once.
"""

from __future__ import annotations

import getpass
import json
from datetime import datetime

import typer
from rich.console import Console
from rich.table import Table

from flows.cli_errors import CommandError
from flows.state import state
from nps.record import parse_iso
from store.engine import session_scope
from store.worklist import STATUSES, WorklistError, set_entry

out = Console()


def register(app: typer.Typer) -> None:
    worklist = typer.Typer(help="The detractor worklist: who to follow up, and where each follow-up stands.",
                           no_args_is_help=True)
    app.add_typer(worklist, name="worklist")

    @worklist.command("list", help="Organic detractors to follow up, active detractors first, then open ones.")
    def list_(
        ctx: typer.Context,
        entity: str | None = typer.Option(None, "--entity", help="Only this entity."),
        status: list[str] = typer.Option([], "--status", help=f"Only these ({', '.join(STATUSES)}); repeat."),
        since: str | None = typer.Option(None, "--since", help="Only reviews published since (ISO date)."),
        min_p: float = typer.Option(0.7, "--min-p", min=0, max=1, help="P(detractor) where the text agrees."),
        limit: int = typer.Option(50, "--limit", min=1, help="At most this many (table and json)."),
        fmt: str = typer.Option("table", "--format", help="table, json or csv (csv: every match)."),
    ) -> None:
        from web import reads
        from web.export import worklist_csv

        if unknown := sorted(set(status) - set(STATUSES)):
            raise CommandError(f"unknown status {', '.join(unknown)}; use {', '.join(STATUSES)}")
        if fmt not in ("table", "json", "csv"):
            raise CommandError(f"--format must be table, json or csv, not {fmt!r}")
        try:
            start = parse_iso(since) if since else None
        except ValueError as exc:
            raise CommandError(f"--since: {exc}") from exc
        flt = reads.WorklistFilter(entity=entity, status=tuple(status), start=start, min_p=min_p)
        with session_scope(state(ctx).config.database.url) as session:
            total, items = reads.worklist(session, flt, limit=100_000 if fmt == "csv" else limit, offset=0)
        if fmt == "csv":
            print(worklist_csv(items), end="")
            return
        if fmt == "json":
            print(json.dumps(items, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v)))
            return
        table = Table(title=f"Detractor worklist: {len(items)} of {total}")
        for col in ("id", "date", "entity", "author", "stars", "status", "owner", "text"):
            table.add_column(col)
        for i in items:
            w = i["worklist"]
            table.add_row(str(i["id"]), f"{i['published_at']:%Y-%m-%d}" if i["published_at"] else "-",
                          i["entity"] or "-", i["author"] or "-",
                          "-" if i["rating"] is None else f"{i['rating']:g}/{i['rating_scale'] or 5:g}",
                          ("! " if (i["score"] or {}).get("active_detractor") else "") + w["status"],
                          w["owner"] or "", i["text"][:120])
        out.print(table)

    @worklist.command("set", help="Set a review's worklist status, owner or note.")
    def set_(
        ctx: typer.Context,
        review_id: int = typer.Argument(..., help="The review's id (the first column of `onps worklist list`)."),
        status: str | None = typer.Option(None, "--status", help=", ".join(STATUSES)),
        owner: str | None = typer.Option(None, "--owner", help="Who follows it up (\"\" clears it)."),
        note: str | None = typer.Option(None, "--note", help="What was done or agreed (\"\" clears it)."),
        by: str = typer.Option(getpass.getuser(), "--by", help="Who makes the change (default: your user name)."),
    ) -> None:
        if status is None and owner is None and note is None:
            raise CommandError("nothing to change: give --status, --owner or --note")
        with session_scope(state(ctx).config.database.url) as session:
            try:
                entry = set_entry(session, review_id, by=by, status=status, owner=owner, note=note)
            except WorklistError as exc:
                raise CommandError(str(exc)) from exc
            if entry is None:
                raise CommandError(f"no review with id {review_id}; `onps worklist list` shows the ids.")
            out.print(f"review {review_id}: {entry.status}" + (f", owner {entry.owner}" if entry.owner else "")
                      + (f", note: {entry.note}" if entry.note else ""))
