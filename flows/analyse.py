"""The one composition of the understanding stages over document records (docs/CONTRACTS.md).

`onps score` and `onps estimate` call ``understand``; it composes nlp only for now, and the bot filter and the
campaign detector add their fields here (one call each), so every command sees the same rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from config.schema import OnpsConfig


def understand(records: Sequence[dict[str, Any]], cfg: OnpsConfig, text_only: bool = False) -> list[dict[str, Any]]:
    """Each record with the scorer's fields added (``lang`` becomes the identified language; a touchpoint the
    source declares is kept, the one read from the text fills in where there is none)."""
    from flows.stages import scorer_for

    understandings = scorer_for(cfg).derive(records, text_only=text_only)
    return [{**record, **u.to_json(), "touchpoint": record.get("touchpoint") or u.touchpoint}
            for record, u in zip(records, understandings, strict=True)]


def check_record(record: Any) -> str | None:
    """What is wrong with one input record for scoring, or None; the message says what to fix."""
    if not isinstance(record, dict):
        return "a record must be a JSON object"
    if record.get("id") in (None, "") or isinstance(record.get("id"), (dict, list)):
        return 'a record needs an "id" (string or number)'
    text, title = record.get("text"), record.get("title")
    if not isinstance(text, str) or title is not None and not isinstance(title, str):
        return '"text" (and "title" when given) must be strings'
    if not (text.strip() or (title or "").strip()):
        return '"text" is empty: nothing to score'
    for key in ("rating", "rating_scale"):
        value = record.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not math.isfinite(value) or value < 0):
            return f'"{key}" must be a non-negative number, got {value!r}'
    rating, scale = record.get("rating"), record.get("rating_scale")
    if rating is not None and scale is not None and (scale <= 0 or rating > scale):
        return f'"rating" {rating!r} is outside its "rating_scale" {scale!r}'
    return None
