"""The worklist as CSV: the columns a reputation team pastes into its CRM or ticket tool.

One writer for the API (`/api/worklist.csv`), the dashboard's export link and `onps worklist list --format csv`,
so the three never differ. Cells that a spreadsheet would run as a formula (starting with = + - @) are quoted
with a leading apostrophe: review text is written by strangers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

COLUMNS = ("id", "published_at", "entity", "source", "author", "rating", "rating_scale", "class", "score",
           "active_detractor", "status", "owner", "note", "updated_by", "updated_at", "company_replied_at",
           "company_reply", "reasons", "url", "title", "text")


def _cell(value: Any) -> str:
    text = "" if value is None else value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def worklist_csv(items: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for item in items:
        score, state, reply = item.get("score") or {}, item["worklist"], item.get("company_reply") or {}
        writer.writerow([_cell(v) for v in (
            item["id"], item["published_at"], item["entity"], item["source"], item.get("author"), item["rating"],
            item["rating_scale"], score.get("class"), None if not score else round(score["score"], 2),
            score.get("active_detractor"), state["status"], state["owner"], state["note"], state["updated_by"],
            state["updated_at"], reply.get("time"), reply.get("text"), " ".join(r["code"] for r in item["reasons"]),
            item["url"], item["title"], item["text"])])
    return out.getvalue()
