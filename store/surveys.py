"""Writing imported survey answers: each answer once, whichever file it came in (``nps.survey_import``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select

from nps.survey_import import answer_key
from store.engine import session_scope
from store.schema import SurveyResponse
from store.upsert import upsert

CHUNK = 500


def save_survey(db_url: str, rows: list[dict[str, Any]], batch: str, entity_id: int | None) -> int:
    """Write ROWS (from the file whose content hash is BATCH) in one transaction; returns how many answers were
    new. An answer already stored, from this file or another, is not stored again."""
    occurrences: Counter[str] = Counter()
    records = []
    for row in rows:
        content = answer_key(entity_id, row, 0)
        key = answer_key(entity_id, row, occurrences[content])
        occurrences[content] += 1
        records.append({k: v for k, v in row.items() if k != "respondent"}
                       | {"answer_key": key, "batch": batch, "entity_id": entity_id})
    keys = [r["answer_key"] for r in records]
    with session_scope(db_url) as session:
        def stored() -> int:  # in chunks: a large export has more keys than SQLite takes parameters
            return sum(session.execute(select(func.count()).where(SurveyResponse.answer_key.in_(keys[i:i + CHUNK])))
                       .scalar_one() for i in range(0, len(keys), CHUNK))

        before = stored()
        upsert(session, SurveyResponse.__table__, records, key=("answer_key",))
        return stored() - before
