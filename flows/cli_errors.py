"""How a command refuses: it raises ``CommandError(message, code)`` and the `onps` group (``flows.cli``) prints
``error: message`` on stderr and exits with CODE (``flows.exitcodes``), so the error line and its exit are written
once, not by hand in every command.
"""

from __future__ import annotations

from flows import exitcodes


class CommandError(Exception):
    """A command cannot go on: MESSAGE (rich markup; escape what comes from input) says why, CODE is the exit."""

    def __init__(self, message: str, code: int = exitcodes.USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
