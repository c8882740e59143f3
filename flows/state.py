"""What every `onps` command shares: the config file chosen on the command line, loaded once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from flows import exitcodes

if TYPE_CHECKING:  # loading the config (pydantic, the schema) waits until a command needs it: `onps --help` not
    from config.artifacts import ModelUnavailable
    from config.schema import OnpsConfig

console = Console(stderr=True)


@dataclass
class AppState:
    config_path: Path | None = None
    _config: OnpsConfig | None = field(default=None, repr=False)

    @property
    def config(self) -> OnpsConfig:
        """The validated config; an invalid one ends the command with exit code 2 and the located errors."""
        if self._config is None:
            from config.load import ConfigError, load

            try:
                self._config = load(self.config_path)
            except ConfigError as exc:
                console.print(f"[red]error:[/red] {exc}")
                raise typer.Exit(exitcodes.USAGE) from exc
        return self._config


def state(ctx: typer.Context) -> AppState:
    """The AppState of the running command (the root callback puts it on the context)."""
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState()
    return root.obj


def model_unavailable(exc: ModelUnavailable) -> typer.Exit:
    """End a command whose model cannot be opened: the error names the file and the command that builds it."""
    console.print(f"[red]error:[/red] {exc}")
    return typer.Exit(exitcodes.MODEL_UNAVAILABLE)
