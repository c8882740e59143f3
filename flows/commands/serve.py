"""`onps serve` (the API, feeds and dashboard) and `onps apikey create|revoke|list` (who may use them)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import OperationalError, ProgrammingError

from flows.cli_errors import CommandError
from flows.state import state
from store.engine import session_scope
from web.keys import SCOPES, create_key, list_keys, revoke_key

out = Console()
err = Console(stderr=True)


def _no_database(url: str, exc: Exception) -> CommandError:
    return CommandError(f"cannot use the database at {url}: {getattr(exc, 'orig', exc)}\n"
                        "Run `onps db upgrade` first, or check database.url in onps.toml / ONPS_DATABASE_URL.")


def install_redaction() -> None:
    """Mask ``?key=`` values in uvicorn's access and error logs (web.logs)."""
    import logging

    from web.logs import RedactKeys

    for name in ("uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).addFilter(RedactKeys())


def register(app: typer.Typer) -> None:
    @app.command(name="serve", help="Serve the REST API (/docs), the alert feeds and the dashboard.")
    def serve(
        ctx: typer.Context,
        host: str | None = typer.Option(None, help="Interface to bind (default: api.host, 127.0.0.1)."),
        port: int | None = typer.Option(None, help="Port (default: api.port, 8000)."),
    ) -> None:
        import uvicorn

        from web.app import create_app

        config = state(ctx).config
        bind_host, bind_port = host or config.api.host, port or config.api.port
        err.print(f"serving on http://{bind_host}:{bind_port}/ (API docs at /docs); "
                  "create a key with `onps apikey create NAME --scope read`")
        server = uvicorn.Config(create_app(config), host=bind_host, port=bind_port, log_level="info")
        install_redaction()  # after uvicorn set its logging up, so the filter stays on its access logger
        uvicorn.Server(server).run()

    keys = typer.Typer(help="API keys: create, revoke, list. Keys are stored hashed; a new key is shown once.",
                       no_args_is_help=True)
    app.add_typer(keys, name="apikey")

    @keys.command(help="Create a key and print it once (it cannot be shown again).")
    def create(
        ctx: typer.Context,
        name: str = typer.Argument(..., help="Who or what uses the key (shown on acknowledgements)."),
        scope: str = typer.Option("read", help="feed (the alert feeds only: for a feed reader's ?key= URL) < read < "
                                  "write (acknowledge alerts) < admin."),
    ) -> None:
        if scope not in SCOPES:
            raise CommandError(f"--scope must be one of {', '.join(SCOPES)}, not {scope!r}")
        url = state(ctx).config.database.url
        try:
            with session_scope(url) as session:
                key, raw = create_key(session, name, scope)
        except (OperationalError, ProgrammingError) as exc:
            raise _no_database(url, exc) from exc
        err.print(f"created key {key.id} ({name}, {scope}); store it now, it will not be shown again:")
        out.print(raw, highlight=False, soft_wrap=True)

    @keys.command(help="Revoke a key by id (see `onps apikey list`); it stops working at once.")
    def revoke(ctx: typer.Context, key_id: int = typer.Argument(..., metavar="ID")) -> None:
        url = state(ctx).config.database.url
        try:
            with session_scope(url) as session:
                key = revoke_key(session, key_id)
                name = key.name if key else None
        except (OperationalError, ProgrammingError) as exc:
            raise _no_database(url, exc) from exc
        if name is None:
            raise CommandError(f"no key with id {key_id}; `onps apikey list` shows them")
        out.print(f"revoked key {key_id} ({name})")

    @keys.command(name="list", help="List keys (id, name, scope, created, revoked); never the keys themselves.")
    def list_(ctx: typer.Context) -> None:
        url = state(ctx).config.database.url
        try:
            with session_scope(url) as session:
                rows = [(k.id, k.name, k.scope, k.created_at, k.revoked_at) for k in list_keys(session)]
        except (OperationalError, ProgrammingError) as exc:
            raise _no_database(url, exc) from exc
        table = Table("id", "name", "scope", "created", "revoked")
        for key_id, name, scope, created, revoked in rows:
            table.add_row(str(key_id), name, scope, f"{created:%Y-%m-%d %H:%M}",
                          f"{revoked:%Y-%m-%d %H:%M}" if revoked else "")
        out.print(table)
