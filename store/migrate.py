"""Schema migrations with Alembic, driven from code so `onps db upgrade` needs no alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from store.engine import engine_for, normalise_url

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> str:
    """Bring the database at URL to REVISION; safe to repeat. Returns the revision now current."""
    command.upgrade(alembic_config(url), revision)
    return current(url)


def current(url: str) -> str:
    """The revision the database is at, or '' for an empty database."""
    engine = engine_for(url)
    if not inspect(engine).has_table("alembic_version"):
        return ""
    with engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
    return row[0] if row else ""


def revise(url: str, message: str) -> None:
    """Autogenerate a new migration from the difference between store.schema and the database (developers)."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
