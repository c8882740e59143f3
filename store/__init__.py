"""The store: SQLAlchemy 2 schema, engine and sessions, idempotent upserts, Alembic migrations."""
