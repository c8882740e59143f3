"""What every `onps` command shares: the config file chosen on the command line, loaded once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from flows import exitcodes
from flows.cli_errors import CommandError

if TYPE_CHECKING:  # loading the config (pydantic, the schema) waits until a command needs it: `onps --help` not
    from config.artifacts import ModelUnavailable
    from config.schema import OnpsConfig

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
                raise CommandError(escape(str(exc)), exitcodes.USAGE) from exc
        return self._config


def state(ctx: typer.Context) -> AppState:
    """The AppState of the running command (the root callback puts it on the context)."""
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState()
    return root.obj


def model_unavailable(exc: ModelUnavailable) -> CommandError:
    """End a command whose model cannot be opened: the error names the file and the command that builds it."""
    return CommandError(escape(str(exc)), exitcodes.MODEL_UNAVAILABLE)
