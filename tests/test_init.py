"""`onps init` writes a config a new user can start from: valid as written, every source kind shown in a form its
spider accepts, and an existing file is never overwritten by accident."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import get_args

from typer.testing import CliRunner

from config.schema import SourceConfig, SpiderKind
from flows.cli import app

runner = CliRunner()


def _commented_sources(text: str) -> list[dict[str, object]]:
    """The commented ``[[sources]]`` blocks as a user gets them by deleting the leading '# '."""
    blocks = re.findall(r"^# \[\[sources\]\].*?\n((?:#  ?\S.*\n)+)", text, flags=re.M)
    out = []
    for block in blocks:
        lines = [re.sub(r"^# ?", "", line) for line in block.splitlines()]
        out.append(tomllib.loads("\n".join(line for line in lines if line.strip() and not line.startswith(" "))))
    return out


def test_init_writes_a_config_that_checks_and_names_every_source_kind(tmp_path: Path) -> None:
    path = tmp_path / "brand" / "onps.toml"
    written = runner.invoke(app, ["init", str(path)])
    assert written.exit_code == 0, written.output
    checked = runner.invoke(app, ["--config", str(path), "config", "check"])
    assert checked.exit_code == 0, checked.output
    assert "3 entities, 1 sources" in checked.output

    text = path.read_text()
    live = tomllib.loads(text)["sources"]
    examples = _commented_sources(text)
    for example in examples:
        SourceConfig.model_validate(example)  # uncommented as it stands, each example is a valid source
    kinds = [s["kind"] for s in live] + [e["kind"] for e in examples]
    assert sorted(kinds) == sorted(get_args(SpiderKind))  # one example per kind, none left out


def test_init_keeps_an_existing_file_unless_forced(tmp_path: Path) -> None:
    path = tmp_path / "onps.toml"
    path.write_text("[database]\nurl = 'sqlite:///mine.db'\n")
    kept = runner.invoke(app, ["init", str(path)], env={"COLUMNS": "400"})
    assert kept.exit_code == 2 and "--force" in kept.output
    assert "mine.db" in path.read_text()
    assert runner.invoke(app, ["init", str(path), "--force"]).exit_code == 0
    assert "[[entities]]" in path.read_text()
    into_dir = runner.invoke(app, ["init", str(tmp_path)], env={"COLUMNS": "400"})
    assert into_dir.exit_code == 2 and "is a directory" in into_dir.output
