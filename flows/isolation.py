"""Run a stage's step over a batch so that one poison record never stops the others.

A stage calls `isolated(step, records)` where it would call `step(records)`: when the batch fails, each record
is tried on its own to find the ones that cause it, those are returned with their errors (the stage quarantines
them, store.quarantine), and the step runs once more over the rest together, so a record's result is the one the
whole clean batch gives (bot verdicts depend on the batch, scores do not).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
ERROR_CHARS = 2000


def error_text(exc: BaseException) -> str:
    """An exception as the one line the quarantine table and the run report keep."""
    return f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]


def isolated(step: Callable[[list[dict[str, Any]]], Sequence[T]], records: Sequence[dict[str, Any]]
             ) -> tuple[list[tuple[dict[str, Any], T]], dict[int, str]]:
    """(record, result) for every record the step can process, and document id -> error for the others."""
    batch = list(records)
    try:
        return list(zip(batch, step(batch), strict=True)), {}
    except Exception:  # noqa: BLE001 - any failure: find the records that cause it
        pass
    failed: dict[int, str] = {}
    for record in batch:
        try:
            step([record])
        except Exception as exc:  # noqa: BLE001 - kept with its error, never stops the batch
            failed[int(record["id"])] = error_text(exc)
    clean = [r for r in batch if int(r["id"]) not in failed]
    return (list(zip(clean, step(clean), strict=True)) if clean else []), failed
