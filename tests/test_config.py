"""onps.toml: defaults, environment overrides, and errors that name the key and the line."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import get_args

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

import crawlers.spiders
from config.load import ConfigError, load, parse
from config.schema import SourceConfig
from crawlers.spiders import spider_class
from crawlers.spiders.api import ApiSpider
from crawlers.spiders.base import SourceSpider
from flows.cli import app

GOOD = """
[database]
url = "sqlite:///var/x.db"

[[entities]]
name = "Velora"
aliases = { de = ["Velora GmbH"], en = ["Velora"] }
competitors = ["Nordkap"]

[[entities]]
name = "Nordkap"

[[sources]]
name = "velora-shop"
kind = "schemaorg"
url = "http://127.0.0.1:8765/shop/velora"
entity = "Velora"

[[sources]]
name = "forum"
kind = "discourse"
url = "http://127.0.0.1:8765/forum"
max_pages = 0
"""


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = load(environ={})
    assert cfg.database.url == "sqlite:///var/onps.db"
    assert cfg.crawl.obey_robots is True
    assert {r.kind for r in cfg.alerts.rules} >= {"campaign", "nps_drop", "detractor_surge", "reason_rising"}


def test_error_names_key_and_line() -> None:
    with pytest.raises(ConfigError) as exc:
        parse(GOOD, Path("onps.toml"), environ={})
    message = str(exc.value)
    line = GOOD.splitlines().index("max_pages = 0") + 1
    assert f"onps.toml:{line}: sources.1.max_pages" in message


def test_unknown_key_and_dangling_reference_are_errors() -> None:
    text = GOOD.replace("max_pages = 0", "").replace('competitors = ["Nordkap"]', 'competitors = ["Nobody"]')
    with pytest.raises(ConfigError, match="unknown entity 'Nobody'"):
        parse(text, Path("onps.toml"), environ={})
    typo = GOOD.replace("max_pages = 0", "").replace('url = "sqlite', 'ur1 = "sqlite')
    with pytest.raises(ConfigError, match=r"onps.toml:3: database.ur1: Extra inputs are not permitted"):
        parse(typo, Path("onps.toml"), environ={})


def test_database_echo_is_no_setting() -> None:
    # It was documented and never reached an engine (they are opened by URL); a config that sets it is told so.
    text = GOOD.replace("max_pages = 0", "").replace('[database]\n', '[database]\necho = true\n')
    with pytest.raises(ConfigError, match=r"database.echo: Extra inputs are not permitted"):
        parse(text, Path("onps.toml"), environ={})


def test_environment_overrides_the_file() -> None:
    text = GOOD.replace("max_pages = 0", "")
    cfg = parse(text, Path("onps.toml"), environ={"ONPS_DATABASE_URL": "postgresql://db/onps",
                                                  "ONPS_CRAWL__MAX_PAGES": "7", "ONPS_REQUIRE_POSTGRES": "1"})
    assert cfg.database.url == "postgresql://db/onps"
    assert cfg.crawl.max_pages == 7
    assert cfg.entity("Velora").all_aliases() == ["Velora", "Velora GmbH"]


def test_config_check_command_exit_codes(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text(GOOD.replace("max_pages = 0", ""))
    bad.write_text(GOOD)
    runner = CliRunner()
    ok = runner.invoke(app, ["--config", str(good), "config", "check"])
    assert ok.exit_code == 0, ok.output
    assert "2 entities, 2 sources" in ok.output
    failed = runner.invoke(app, ["--config", str(bad), "config", "check"])
    assert failed.exit_code == 2
    missing = runner.invoke(app, ["--config", str(tmp_path / "nope.toml"), "config", "check"])
    assert missing.exit_code == 2


def test_db_upgrade_command_creates_schema(tmp_path: Path) -> None:
    cfg = tmp_path / "onps.toml"
    cfg.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/sub/onps.db"\n')
    result = CliRunner().invoke(app, ["--config", str(cfg), "db", "upgrade"])
    assert result.exit_code == 0, result.output
    versions = Path(__file__).resolve().parents[1] / "store" / "migrations" / "versions"
    newest = sorted(versions.glob("[0-9]*.py"))[-1].name[:4]
    assert f"revision {newest}" in result.output
    assert (tmp_path / "sub" / "onps.db").exists()


def test_config_check_refuses_a_bad_database_url_and_a_source_url_that_is_no_url(tmp_path: Path) -> None:
    """Both used to pass `onps config check` and crash later with a traceback; now exit 2 naming the key."""
    base = GOOD.replace("max_pages = 0", "")
    runner = CliRunner()
    cases = {"database.url": base.replace('url = "sqlite:///var/x.db"', 'url = "not a url"'),
             "sources.0.url": base.replace('url = "http://127.0.0.1:8765/shop', 'url = "htp//127.0.0.1:8765/shop')}
    for key, text in cases.items():
        path = tmp_path / f"{key}.toml"
        path.write_text(text)
        result = runner.invoke(app, ["--config", str(path), "config", "check"])
        assert result.exit_code == 2 and key in result.output, (key, result.output)
        assert "Traceback" not in result.output


def test_config_check_refuses_what_would_crash_later(tmp_path: Path) -> None:
    """An unknown database backend, a cron or zone Prefect cannot schedule, a parent cycle: each passed the check
    and crashed a later command; now exit 2 with the key, the file line and what to write instead."""
    base = GOOD.replace("max_pages = 0", "")
    cases = {
        "database.url": (base.replace("sqlite:///var/x.db", "sqlitex:///var/x.db"), 3, "sqlite:///var/onps.db"),
        "schedule.cron": (base + '[schedule]\ncron = "61 * * *"\n', base.count("\n") + 2, "0 3 * * *"),
        "schedule.timezone": (base + '[schedule]\ntimezone = "Europe/Bruxelles"\n', base.count("\n") + 2,
                              "Europe/Brussels"),
        "parent cycle Velora -> Nordkap -> Velora": (
            base.replace('name = "Nordkap"', 'name = "Nordkap"\nparent = "Velora"').replace(
                'competitors = ["Nordkap"]', 'competitors = ["Nordkap"]\nparent = "Nordkap"'), None, "brand"),
    }
    runner = CliRunner()
    for key, (text, line, hint) in cases.items():
        path = tmp_path / "onps.toml"
        path.write_text(text)
        result = runner.invoke(app, ["--config", str(path), "config", "check"], env={"COLUMNS": "400"})
        assert result.exit_code == 2 and key in result.output and hint in result.output, (key, result.output)
        if line:
            assert f"onps.toml:{line}: {key}" in result.output
    folder = runner.invoke(app, ["--config", str(tmp_path), "config", "check"], env={"COLUMNS": "400"})
    assert folder.exit_code == 2 and "is a directory" in folder.output and "Traceback" not in folder.output


def test_an_environment_error_names_the_variable_not_a_file_line(tmp_path: Path) -> None:
    path = tmp_path / "onps.toml"
    path.write_text(GOOD.replace("max_pages = 0", "max_pages = 3"))  # a max_pages in the file, none in [crawl]
    with pytest.raises(ConfigError) as caught:
        load(path, environ={"ONPS_CRAWL__MAX_PAGES": "many"})
    assert "environment variable ONPS_CRAWL__MAX_PAGES: crawl.max_pages" in str(caught.value)
    assert "onps.toml:" not in str(caught.value)


def test_every_kind_the_config_accepts_has_its_spider_and_no_spider_is_left_out() -> None:
    accepted = set(get_args(SourceConfig.model_fields["kind"].annotation))
    for kind in accepted:
        cls = spider_class(kind)
        assert issubclass(cls, SourceSpider) and cls.name == kind
        assert SourceConfig(name=kind, kind=kind, url="https://example.com/").category
    defined = set()
    for module in pkgutil.iter_modules(crawlers.spiders.__path__, "crawlers.spiders."):
        for cls in vars(importlib.import_module(module.name)).values():
            if isinstance(cls, type) and issubclass(cls, SourceSpider) and cls.__module__ == module.name:
                defined.add(cls)
    assert defined - {SourceSpider, ApiSpider} == {spider_class(kind) for kind in accepted}
    with pytest.raises(ValidationError, match="schemaorg"):
        SourceConfig(name="x", kind="nosuch", url="https://example.com/")
