"""Records a stage could not process, set aside with their error so the rest of the batch and the run go on.

A quarantined document is tried again on the next run (the stage's pending query still finds it); the row is
deleted once the stage processes it, and its ``attempts`` count the runs it has failed in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from store.clock import utcnow
from store.schema import Quarantine


def quarantine(session: Session, stage: str, errors: Mapping[int, str], run_id: int | None = None) -> None:
    """Set the documents of ERRORS (document id -> error) aside for STAGE, or count one more failed attempt."""
    now = utcnow()
    for doc_id, error in errors.items():
        row = session.scalar(select(Quarantine).where(Quarantine.stage == stage, Quarantine.document_id == doc_id))
        if row is None:
            session.add(Quarantine(stage=stage, document_id=doc_id, error=error[:2000], run_id=run_id, attempts=1,
                                   created_at=now, updated_at=now))
        else:
            row.error, row.attempts, row.updated_at, row.run_id = error[:2000], row.attempts + 1, now, run_id
    session.flush()


def release(session: Session, stage: str, doc_ids: Iterable[int]) -> None:
    """The documents STAGE has now processed are no longer set aside."""
    ids = list(doc_ids)
    if ids:
        session.execute(delete(Quarantine).where(Quarantine.stage == stage, Quarantine.document_id.in_(ids)))


def quarantined(session: Session, stage: str | None = None) -> list[dict[str, object]]:
    """What is set aside now (for one stage, or all), newest first: the run report and `onps runs` show it."""
    query = select(Quarantine).order_by(Quarantine.updated_at.desc(), Quarantine.id.desc())
    if stage is not None:
        query = query.where(Quarantine.stage == stage)
    return [{"stage": q.stage, "document_id": q.document_id, "error": q.error, "attempts": q.attempts}
            for q in session.scalars(query)]
