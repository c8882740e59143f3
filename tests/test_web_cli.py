"""`onps apikey create|revoke|list` against a real store, and the key it prints working on the API."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from flows.cli import app
from web.app import create_app


@pytest.fixture(autouse=True)
def _no_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Built-in defaults plus ONPS_DATABASE_URL: no onps.toml from the working directory or the environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ONPS_CONFIG", raising=False)


def _onps(url: str, *args: str):  # noqa: ANN202 - typer's Result
    return CliRunner().invoke(app, list(args), env={"ONPS_DATABASE_URL": url})


def test_created_key_works_until_revoked_and_is_never_listed(sqlite_url: str) -> None:
    made = _onps(sqlite_url, "apikey", "create", "ops-bot", "--scope", "write")
    assert made.exit_code == 0, made.output
    raw = made.stdout.strip().splitlines()[-1]
    assert raw.startswith("onps_")
    client = TestClient(create_app(sqlite_url))
    assert client.get("/api/alerts", headers={"X-API-Key": raw}).status_code == 200

    listed = _onps(sqlite_url, "apikey", "list")
    assert "ops-bot" in listed.stdout and "write" in listed.stdout and raw not in listed.stdout

    assert _onps(sqlite_url, "apikey", "revoke", "1").exit_code == 0
    assert client.get("/api/alerts", headers={"X-API-Key": raw}).status_code == 401
    assert _onps(sqlite_url, "apikey", "revoke", "42").exit_code == 2


def test_bad_scope_and_missing_schema_say_what_to_do(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    bad = _onps(url, "apikey", "create", "x", "--scope", "root")
    assert bad.exit_code == 2 and "read, write, admin" in bad.output
    unmigrated = _onps(url, "apikey", "list")
    assert unmigrated.exit_code == 2 and "onps db upgrade" in unmigrated.output


def test_access_log_never_shows_an_api_key() -> None:
    """uvicorn's access line for a feed read with ?key= is written with the key masked."""
    import logging

    import uvicorn

    from flows.commands.serve import install_redaction
    from web.app import create_app

    uvicorn.Config(create_app("sqlite://"), log_level="info")  # sets uvicorn's logging up, as `onps serve` does
    install_redaction()
    lines: list[str] = []
    sink = logging.Handler()
    sink.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    access = logging.getLogger("uvicorn.access")  # uvicorn's loggers do not propagate: listen on it directly
    access.addHandler(sink)
    try:
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET",
                    "/feeds/alerts.atom?key=onps_s3cr3t&entity=Acme", "1.1", 200)
    finally:
        access.removeHandler(sink)
    assert len(lines) == 1 and "onps_s3cr3t" not in lines[0] and "key=***&entity=Acme" in lines[0]
