"""`onps demo generate | serve | run`: the bundled demo's content, its sites on 127.0.0.1, and the end-to-end run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import overload

import typer
from rich.console import Console
from rich.table import Table

from demo.config import DEFAULT_PORT
from flows import exitcodes
from flows.cli_errors import CommandError

out = Console()
err = Console(stderr=True)

SEED_HELP = "Random seed: the same seed gives the same documents and the same ground truth."
SCALE_HELP = "Volume multiplier: 1 gives about 1,500 documents; 70 about 100,000 (for benchmarks)."


REFERENCE_HELP = "Last day of the 12 weeks the content spans (default 2026-11-15, fixed so runs repeat)."


@overload
def _utc(day: datetime, hour: int = 23) -> datetime: ...
@overload
def _utc(day: None, hour: int = 23) -> None: ...
def _utc(day: datetime | None, hour: int = 23) -> datetime | None:
    return None if day is None else day.replace(hour=hour, tzinfo=UTC)


def _generate(seed: int, scale: float, reference: datetime | None = None):  # noqa: ANN202 (DemoContent, lazy import)
    from demo.generate import REFERENCE_DATE, generate

    if scale <= 0:
        raise CommandError(f"--scale must be positive, got {scale}")
    with err.status(f"generating demo content (seed {seed}, scale {scale:g}) ..."):
        return generate(seed=seed, scale=scale, reference=_utc(reference) or REFERENCE_DATE)


def _truth_table(content) -> Table:  # noqa: ANN001 (DemoContent)
    table = Table(title=f"ground truth (seed {content.seed}, scale {content.scale:g}, "
                        f"12 weeks to {content.reference:%Y-%m-%d})")
    for column in ("brand", "true NPS", "genuine", "bots", "smear", "star NPS, all", "star NPS, genuine"):
        table.add_column(column, justify="left" if column == "brand" else "right")
    for b in content.truth.brands.values():
        table.add_row(b.name, f"{b.true_nps:+.1f}", str(b.n_genuine), str(b.n_bots), str(b.n_smear),
                      "-" if b.star_nps_all is None else f"{b.star_nps_all:+.1f}",
                      "-" if b.star_nps_genuine is None else f"{b.star_nps_genuine:+.1f}")
    return table


def register(app: typer.Typer) -> None:
    demo = typer.Typer(
        help=(
            "The bundled demo: three fictional brands, their review sites, app feeds, forum and blog served on "
            "127.0.0.1 in the real formats, with known ground truth (true NPS, bots, one smear campaign).\n\n"
            "`onps demo generate` writes the content and truth; `onps demo serve` serves it; `onps demo run` "
            "(what `make run` calls) serves, crawls, scores and estimates, then prints recovered vs true."
        ),
        no_args_is_help=True,
    )
    app.add_typer(demo, name="demo")

    @demo.command(help="Generate the demo content and its ground truth into a folder (content.jsonl, truth.json).")
    def generate(
        out_dir: Path = typer.Option(Path("var/demo"), "--out", "-o", help="Folder to write (created if missing)."),
        seed: int = typer.Option(7, help=SEED_HELP),
        scale: float = typer.Option(1.0, help=SCALE_HELP),
        reference: datetime | None = typer.Option(None, formats=["%Y-%m-%d"], help=REFERENCE_HELP),
    ) -> None:
        content = _generate(seed, scale, reference)
        try:
            folder = content.save(out_dir)
        except OSError as exc:
            raise CommandError(f"cannot write {out_dir}: {exc}; choose another folder with --out") from exc
        out.print(_truth_table(content))
        camp = content.truth.campaign
        out.print(f"smear campaign against {camp.entity}: {len(camp.member_ids)} reviews, "
                  f"{camp.window_start:%Y-%m-%d %H:%M} to {camp.window_end:%Y-%m-%d %H:%M} UTC")
        out.print(f"wrote {len(content.docs)} documents and the truth to {folder}/")

    @demo.command(help="Serve the demo sites in the foreground on 127.0.0.1 until Ctrl-C.")
    def serve(
        port: int = typer.Option(DEFAULT_PORT, help="Port (examples/demo/onps.toml expects this one; 0 picks any)."),
        content_dir: Path | None = typer.Option(
            None, "--content", help="Serve a folder written by `onps demo generate` instead of generating afresh."
        ),
        seed: int = typer.Option(7, help=SEED_HELP),
        scale: float = typer.Option(1.0, help=SCALE_HELP),
        reference: datetime | None = typer.Option(None, formats=["%Y-%m-%d"], help=REFERENCE_HELP),
        until: datetime | None = typer.Option(
            None, formats=["%Y-%m-%d"],
            help="Serve only what was published by the end of this day (to show an incremental crawl later)."),
    ) -> None:
        from demo.model import load_content
        from demo.server import make_server

        if content_dir is not None:
            try:
                content = load_content(content_dir)
            except (FileNotFoundError, ValueError, KeyError) as exc:
                raise CommandError(str(exc)) from exc
        else:
            content = _generate(seed, scale, reference)
        try:
            server, base_url = make_server(content, port, cutoff=_utc(until, hour=0) + timedelta(days=1)
                                           if until else None)
        except OSError as exc:
            raise CommandError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}; "
                               "pick another with --port (then run the demo with that base URL)") from exc
        err.print(f"serving {len(content.docs)} demo documents on {base_url}/ (index of sites there); Ctrl-C stops")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            err.print("stopped")
        finally:
            server.server_close()

    @demo.command(help="Serve the demo, crawl it, score, filter and estimate, then print recovered vs true.")
    def run(
        seed: int = typer.Option(7, help=SEED_HELP),
        scale: float = typer.Option(1.0, help=SCALE_HELP),
        port: int = typer.Option(DEFAULT_PORT, help="Port for the demo sites during the run (0 picks a free one)."),
    ) -> None:
        from flows.demo_run import run_demo

        raise typer.Exit(run_demo(seed=seed, scale=scale, port=port) or exitcodes.OK)
