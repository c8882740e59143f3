"""`onps` imports a command's module only when that command runs, and the command list says what each one does."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import typer
import typer.main

from flows.cli import COMMANDS, load_command

ROOT = Path(__file__).resolve().parents[1]


def test_the_command_list_matches_the_commands_themselves() -> None:
    registered: set[str] = set()
    for module in {m for m, _ in COMMANDS.values()}:
        sub = typer.Typer()
        importlib.import_module(f"flows.commands.{module}").register(sub)
        registered |= set(typer.main.get_group(sub).commands)
    assert registered == set(COMMANDS)
    for name, (_, short_help) in COMMANDS.items():
        assert load_command(name).get_short_help_str(limit=1000) == short_help, name


def test_help_imports_none_of_the_heavy_libraries() -> None:
    code = ("import sys, flows.cli; from typer.testing import CliRunner; "
            "r = CliRunner().invoke(flows.cli.app, ['--help']); assert r.exit_code == 0, r.output; "
            "import json; print(json.dumps(sorted(m for m in ('scrapy', 'scipy', 'sqlalchemy', 'pydantic', "
            "'numpy', 'sklearn', 'prefect', 'fastapi') if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert json.loads(out.stdout) == []
