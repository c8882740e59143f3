"""`onps db upgrade` and `onps db current`: the schema, through Alembic migrations."""

from __future__ import annotations

import typer
from rich.console import Console
from sqlalchemy.exc import OperationalError

from flows.cli_errors import CommandError
from flows.state import state
from store import migrate

out = Console()


def register(app: typer.Typer) -> None:
    db = typer.Typer(help="The database: create or migrate its schema.", no_args_is_help=True)
    app.add_typer(db, name="db")

    @db.command(help="Create the schema or migrate it to the newest revision. Safe to repeat.")
    def upgrade(ctx: typer.Context, revision: str = typer.Argument("head", help="Target revision.")) -> None:
        url = state(ctx).config.database.url
        try:
            now = migrate.upgrade(url, revision)
        except OperationalError as exc:
            raise CommandError(f"cannot reach the database at {url}: {exc.orig}\n"
                               "Check database.url in onps.toml or ONPS_DATABASE_URL.") from exc
        out.print(f"database at revision {now}")

    @db.command(help="Print the revision the database is at (empty: not created yet).")
    def current(ctx: typer.Context) -> None:
        out.print(migrate.current(state(ctx).config.database.url) or "(empty database)")
