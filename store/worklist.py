"""The detractor worklist's state: where following up each review stands, who owns it, what was noted.

The list itself (which reviews are detractors to follow up) is computed from the scores (web.reads.worklist, by
``nps.classes.followup_class``); only what people did with it is stored, one ``worklist_entries`` row per review
someone touched. The API, the dashboard and `onps worklist` all write through ``set_entry``.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from store.clock import utcnow
from store.schema import Document, WorklistEntry

STATUSES: tuple[str, ...] = ("open", "contacted", "resolved", "not_actionable")
# the same four, as a type the API schema lists; mypy wants the values spelt out, which would be a second list
Status = Literal[STATUSES]  # type: ignore[valid-type]
OWNER_MAX = 200


class WorklistError(ValueError):
    """A change the worklist refuses (unknown status, owner too long); the message says what to send instead."""


def set_entry(session: Session, document_id: int, *, by: str, status: str | None = None,
              owner: str | None = None, note: str | None = None) -> WorklistEntry | None:
    """Change a review's worklist state; None for a field leaves it as it was, "" clears owner or note.
    Returns None when there is no such review (nothing written)."""
    if status is not None and status not in STATUSES:
        raise WorklistError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    if owner is not None and len(owner) > OWNER_MAX:
        raise WorklistError(f"owner is at most {OWNER_MAX} characters")
    if session.get(Document, document_id) is None:
        return None
    entry = session.get(WorklistEntry, document_id)
    if entry is None:
        entry = WorklistEntry(document_id=document_id, status="open")
        session.add(entry)
    if status is not None:
        entry.status = status
    if owner is not None:
        entry.owner = owner.strip() or None
    if note is not None:
        entry.note = note.strip() or None
    entry.updated_at, entry.updated_by = utcnow(), by
    session.flush()
    return entry
