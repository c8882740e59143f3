"""`onps crawl URL --kind K [--entity NAME] [--max-pages N] [--api-base URL] -o OUT.jsonl` (try one source, JSON
lines) and `onps crawl` (every configured source into the store) (issues #3, #20)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import OperationalError, ProgrammingError

from crawlers.kinds import KINDS
from crawlers.report import CrawlReport
from crawlers.run import CrawlFailed, MissingCredential, crawl_sources, crawl_url
from crawlers.settings import RenderUnavailable
from flows import exitcodes
from flows.cli_errors import CommandError
from flows.state import state
from nps.record import web_url

out = Console()
err = Console(stderr=True)


def report_table(report: CrawlReport) -> Table:
    table = Table(title="crawl report" + (f" (run {report.run_id})" if report.run_id else ""))
    for column in ("source", "pages", "items", "new", "duplicates", "dropped", "too old", "bad dates", "recoded",
                   "own posts", "finished"):
        table.add_column(column, justify="left" if column in ("source", "finished") else "right")
    for name, c in report.sources.items():
        table.add_row(name, *map(str, (c.pages, c.items, c.new, c.duplicates, c.dropped, c.too_old, c.bad_dates,
                                       c.recoded, c.own_posts)), c.finish_reason)
    return table


def show(report: CrawlReport) -> int:
    """Print the report; exit 1 when pages or items were bad (the crawl itself finished)."""
    err.print(report_table(report))
    for error in report.errors[:50]:
        err.print(f"[yellow]{error.source}[/yellow] {error.url}: {error.reason}")
    if len(report.errors) > 50:
        err.print(f"... and {len(report.errors) - 50} more errors")
    return exitcodes.BAD_INPUT if report.errors else exitcodes.OK


@contextmanager
def crawl_errors() -> Iterator[None]:
    """Both crawl modes: a browser that cannot be used or a credential not in the environment is a usage error,
    a dead crawler process a failed run."""
    try:
        yield
    except (RenderUnavailable, MissingCredential) as exc:
        raise CommandError(str(exc)) from exc
    except CrawlFailed as exc:
        raise CommandError(str(exc), exitcodes.RUN_FAILED) from exc


def register(app: typer.Typer) -> None:
    @app.command(name="crawl")
    def _crawl(
        ctx: typer.Context,
        url: str | None = typer.Argument(None, help="Try one source: its start URL (needs --kind and -o)."),
        kind: str | None = typer.Option(None, "--kind", help=f"Spider for URL: {'|'.join(KINDS)}."),
        entity: str | None = typer.Option(None, "--entity", help="Entity the source is about; forum-like kinds "
                                          "keep only posts naming it."),
        max_pages: int | None = typer.Option(None, "--max-pages", min=1, help="Page budget (default crawl.max_pages)."),
        output: Path | None = typer.Option(None, "-o", "--output", help="JSON-lines file for the items of URL."),
        api_base: str | None = typer.Option(
            None, "--api-base", help="API sources (googleplay, mastodon, bluesky, youtube): send the service's calls "
            "to this host, same paths (a proxy, a mirror, your own Mastodon instance or Bluesky PDS, a test server)."),
    ) -> None:
        """Crawl review sites and forums: one URL into a JSON-lines file, or every configured source into the
        store (incremental and resumable). Exit 1 when some pages or items were bad (they are listed).

        URL is the page you copy from the browser: a Trustpilot review page, a Google Play app page
        (https://play.google.com/store/apps/details?id=APP&hl=en&gl=us), a Mastodon tag, account or status page,
        https://bsky.app/hashtag/TAG or /search?q=QUERY, a YouTube video or channel page. Credentials come from the
        environment: YOUTUBE_API_KEY; BLUESKY_HANDLE and BLUESKY_APP_PASSWORD; MASTODON_ACCESS_TOKEN where the
        instance asks for one."""
        cfg = state(ctx).config
        if url is None:
            if kind or entity or output or max_pages or api_base:
                raise CommandError("--kind, --entity, --max-pages, --api-base and -o go with a URL; "
                                   "`onps crawl` alone crawls the configured sources.")
            if not any(s.enabled for s in cfg.sources):
                raise CommandError(f"no enabled {escape('[[sources]]')} in the config; add one, or try a "
                                   "site with `onps crawl URL --kind K -o OUT.jsonl`.")
            with crawl_errors():
                try:
                    report = crawl_sources(cfg, cfg.database.url, progress=True)
                except (OperationalError, ProgrammingError) as exc:
                    raise CommandError(f"the database at {cfg.database.url} is not ready ({exc.orig}); "
                                       "run `onps db upgrade` first.") from exc
            raise typer.Exit(show(report))
        if kind not in KINDS or output is None:
            raise CommandError(f"a URL needs --kind ({'|'.join(KINDS)}) and -o OUT.jsonl")
        if api_base is not None and web_url(api_base) is None:
            raise CommandError(f"--api-base {escape(api_base[:80])!r} is not an absolute http(s) URL, "
                               "e.g. https://mastodon.example")
        with crawl_errors():
            report = crawl_url(url, kind, entity=entity, max_pages=max_pages, out_path=output, cfg=cfg,
                               progress=True, api_base=api_base)
        total = report.totals
        err.print(f"{total.new} items written to {output}")
        raise typer.Exit(show(report))
