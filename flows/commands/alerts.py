"""`onps alerts [--all] [--ack ID]`: the alert list the nightly flow fills, and acknowledging one."""

from __future__ import annotations

import getpass

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from flows.cli_errors import CommandError
from flows.state import state
from store.alerts_store import acknowledge, list_alerts
from store.engine import session_scope
from store.schema import Entity

out = Console()
SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


def register(app: typer.Typer) -> None:
    @app.command(help="List open alerts (campaigns, incidents, NPS drops, detractor surges, rising reasons).")
    def alerts(
        ctx: typer.Context,
        show_all: bool = typer.Option(False, "--all", help="Include acknowledged alerts."),
        ack: int | None = typer.Option(None, "--ack", help="Acknowledge the alert with this id."),
        by: str = typer.Option(getpass.getuser(), "--by", help="Who acknowledges (default: your user name)."),
    ) -> None:
        url = state(ctx).config.database.url
        with session_scope(url) as session:
            if ack is not None:
                alert = acknowledge(session, ack, by)
                if alert is None:
                    raise CommandError(f"no alert with id {ack}; `onps alerts --all` lists them.")
                out.print(f"alert {ack} acknowledged by {alert.acknowledged_by} at "
                          f"{alert.acknowledged_at:%Y-%m-%d %H:%M} UTC")
                return
            names = dict(session.execute(select(Entity.id, Entity.name)).all())
            rows = list_alerts(session, include_acknowledged=show_all)
            if not rows:
                out.print("no alerts" if show_all else "no open alerts (`--all` shows acknowledged ones too)")
                return
            table = Table(title="Alerts" if show_all else "Open alerts")
            for col in ("id", "severity", "kind", "entity", "window", "title", "created", "acknowledged"):
                table.add_column(col)
            for a in rows:
                table.add_row(
                    str(a.id),
                    f"[{SEVERITY_STYLE.get(a.severity, '')}]{a.severity}[/]",
                    a.kind,
                    names.get(a.entity_id or -1, "-"),
                    f"{a.window_start:%Y-%m-%d}" if a.window_start else "-",
                    a.title,
                    f"{a.created_at:%Y-%m-%d %H:%M}",
                    f"{a.acknowledged_by} {a.acknowledged_at:%Y-%m-%d}" if a.acknowledged_at else "",
                )
            out.print(table)
