"""Idempotent writes: insert a row, or update it in place when its natural key already exists.

Both SQLite and PostgreSQL speak ``INSERT ... ON CONFLICT``; SQLAlchemy exposes each dialect's form.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def upsert(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    update: Sequence[str] | None = None,
) -> int:
    """Insert ROWS; on a clash of KEY, overwrite the UPDATE columns (none: keep the stored row).

    Returns the number of rows handed to the database. Rows are sent in one statement per 500, so a batch is
    one round trip, not one per row.
    """
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:
        raise NotImplementedError(f"upsert supports sqlite and postgresql, not {dialect}")
    for start in range(0, len(rows), 500):
        chunk = list(rows[start : start + 500])
        stmt = insert(table).values(chunk)
        if update:
            stmt = stmt.on_conflict_do_update(
                index_elements=list(key), set_={c: stmt.excluded[c] for c in update}
            )
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
        session.execute(stmt)
    return len(rows)
