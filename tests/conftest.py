"""Shared fixtures: a migrated database on SQLite and (when a server can start) on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from store.migrate import upgrade
from tests import pg

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DATA = SHARED / "data"
FIXTURES = SHARED / "fixtures"


def need_shared(path: Path) -> Path:
    """Skip when ../shared is not beside the checkout (the product runs without it; some tests read it)."""
    if not path.exists():
        pytest.skip(f"{path} not present")
    return path


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str | None]:
    try:
        with pg.cluster() as url:
            yield url
    except (FileNotFoundError, OSError) as exc:
        if os.environ.get("ONPS_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required here but could not start: {exc}")
        yield None


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'onps.db'}"
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A freshly migrated database; every test using it runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'onps.db'}"
    else:
        admin = request.getfixturevalue("pg_admin_url")
        if admin is None:
            pytest.skip("no PostgreSQL server binaries here (set ONPS_REQUIRE_POSTGRES=1 to make this fatal)")
        url = pg.fresh_database(admin)
    upgrade(url)
    return url
