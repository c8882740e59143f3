"""Opening a trained model artifact (the scorer heads, the bot filter): one rule for what a missing or broken
file says.

Why one place: every stage needs its model, so a model that cannot be opened is an error to fix, never a stage
to skip. The config names where each artifact is (``models.scorer_path``, ``models.bot_model_path``, else the
packaged one); this module opens it and, when it cannot, raises `ModelUnavailable` naming the file and the
command that builds it, which the nightly run reports as the stage's failure and `onps score` / `onps estimate`
print before ending with exit code 3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib


class ModelUnavailable(RuntimeError):
    """A model artifact is missing or cannot be loaded; the message names the file and how to build it."""


def load_artifact(path: Path, what: str, build: str) -> Any:
    """The object joblib stored at PATH, or `ModelUnavailable` saying which WHAT it is and the BUILD command."""
    if not path.exists():
        raise ModelUnavailable(f"{what} {path} is missing: build it with {build}")
    try:
        return joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - a truncated or foreign file fails in many ways; all say the same
        raise ModelUnavailable(f"{what} {path} cannot be loaded ({type(exc).__name__}: {exc}): rebuild it with "
                               f"{build}") from exc
