"""Idempotent writes: insert a row, or update it in place when its natural key already exists.

Both SQLite and PostgreSQL speak ``INSERT ... ON CONFLICT``; SQLAlchemy exposes each dialect's form.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect_insert(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    """``INSERT`` in the dialect's own form, the one that has ``ON CONFLICT`` (the generic one has not)."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"upsert supports sqlite and postgresql, not {dialect}")


@lru_cache(maxsize=256)
def _statement(
    dialect: str, table: Table, key: tuple[str, ...], update: tuple[str, ...], where: ColumnElement[bool] | None,
) -> postgresql.Insert | sqlite.Insert:
    """One statement per (table, key, update, where): SQLAlchemy caches its compiled form, so a batch costs one
    compile, and executemany ("insertmanyvalues") sends the rows in large pages, not one round trip each.
    WHERE is keyed by identity: callers keep it as a module constant so every call reuses one statement."""
    stmt = dialect_insert(dialect, table)
    if update:
        return stmt.on_conflict_do_update(
            index_elements=list(key), set_={c: stmt.excluded[c] for c in update}, where=where,
        )
    return stmt.on_conflict_do_nothing(index_elements=list(key))


def upsert(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    update: Sequence[str] | None = None,
    update_where: ColumnElement[bool] | None = None,
) -> int:
    """Insert ROWS; on a clash of KEY, overwrite the UPDATE columns (none: keep the stored row).

    UPDATE_WHERE, a condition on the stored row, limits the overwrite to rows that meet it (the others stay as
    they are): an alert refreshes its figures only while nobody has acknowledged it.

    Rows may differ in which columns they carry; each group of rows with the same columns is one executemany.
    Returns the number of rows handed to the database.
    """
    if not rows:
        return 0
    stmt = _statement(session.get_bind().dialect.name, table, tuple(key), tuple(update or ()), update_where)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    for group in groups.values():
        session.execute(stmt, group)
    return len(rows)
