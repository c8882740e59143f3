"""Options that several commands take, declared once so their check and wording cannot drift apart."""

from __future__ import annotations

from typing import Any

import typer

from flows.cli_errors import CommandError
from nps.windows import WINDOWS


def _window_kind(value: str | None) -> str | None:
    if value is not None and value not in WINDOWS:
        raise CommandError(f"--window must be one of {', '.join(WINDOWS)}, got {value!r}")
    return value


def window_option() -> Any:
    """``--window KIND``: one of ``nps.windows.WINDOWS``, or left out for all time; any other kind is a usage
    error (exit 2) before the command reads anything."""
    return typer.Option(None, "--window", help=f"One of {', '.join(WINDOWS)}; default all time.",
                        callback=_window_kind)
