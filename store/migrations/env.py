"""Alembic environment: the URL comes from the caller (store.migrate), the metadata from store.schema."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import context
from sqlalchemy import Connection, text

from store.engine import engine_for
from store.schema import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


MIGRATION_LOCK = 0x6F6E7073  # "onps": the PostgreSQL advisory lock two first starts queue on


@contextmanager
def migration_lock(connection: Connection) -> Iterator[None]:
    """Two `onps db upgrade` (or two first nightlies) at once: the second waits here, then reads the schema's
    revision as the first left it, instead of both applying the same migration and one dying on a duplicate
    table or column. PostgreSQL: a session advisory lock. A SQLite file: an exclusive flock on the file itself
    (SQLite's own locks are fcntl locks, which flock does not touch), held until the migrations are committed."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        connection.commit()  # the lock is the session's; alembic must start its own transaction
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            connection.commit()
        return
    database = connection.engine.url.database if connection.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        yield  # an in-memory database has one connection; a URI filename is left to SQLite's own locking
        return
    with open(database, "ab") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_migrations_online() -> None:
    engine = engine_for(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection, migration_lock(connection):
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
