"""`onps init [PATH]`: a commented onps.toml to start a real brand from (config/onps.template.toml)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import typer
from rich.console import Console

from flows.cli_errors import CommandError

err = Console(stderr=True)


def template() -> str:
    """The commented config `onps init` writes: one entity of each kind, a live Trustpilot source and a commented
    block for every other source kind with the URL form its spider expects."""
    return files("config").joinpath("onps.template.toml").read_text(encoding="utf-8")


def register(app: typer.Typer) -> None:
    @app.command(help="Write a commented onps.toml to start from: entities, competitors and one source of each kind "
                      "with the URL form its spider expects. Then `onps config check`.")
    def init(
        path: Path = typer.Argument(Path("onps.toml"), help="Where to write it."),
        force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
    ) -> None:
        if path.is_dir():
            raise CommandError(f"{path} is a directory; give the file to write, e.g. {path / 'onps.toml'}")
        if path.exists() and not force:
            raise CommandError(f"{path} exists; keep it, or pass --force to overwrite it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template(), encoding="utf-8")
        err.print(f"wrote {path}: name your entities, uncomment the sources you want, then "
                  f"`onps --config {path} config check`")
