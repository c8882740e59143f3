"""Read ``onps.toml``, apply environment overrides and validate, with errors that name the key and the line."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from config.schema import OnpsConfig

DEFAULT_PATH = Path("onps.toml")
ENV_PREFIX = "ONPS_"


class ConfigError(Exception):
    """A config that cannot be used; the message lists every problem as FILE:LINE: key: what to fix."""


def locate(text: str, loc: tuple[str | int, ...]) -> int | None:
    """Best line number (1-based) in the TOML text for a validation error's location.

    tomllib keeps no positions, so the location is found again in the text: a ``[[table]]`` header counted by
    its index, then the key inside it.
    """
    lines = text.splitlines()
    start, end = 0, len(lines)
    parts = list(loc)
    line_no: int | None = None
    while parts:
        part = parts.pop(0)
        if isinstance(part, int):
            continue
        if parts and isinstance(index := parts[0], int):
            parts.pop(0)
            header = re.compile(rf"^\s*\[\[\s*(?:[\w.]+\.)?{re.escape(part)}\s*\]\]")
            hits = [i for i in range(start, end) if header.match(lines[i])]
            if index < len(hits):
                start = hits[index]
                line_no = start + 1
                nxt = [i for i in range(start + 1, end) if re.match(r"^\s*\[", lines[i])]
                end = nxt[0] if nxt else end
                continue
        table = re.compile(rf"^\s*\[\s*(?:[\w.]+\.)?{re.escape(part)}\s*\]")
        key = re.compile(rf"^\s*{re.escape(part)}\s*=")
        for i in range(start, end):
            if table.match(lines[i]) or key.match(lines[i]):
                start, line_no = i, i + 1
                if table.match(lines[i]):
                    nxt = [j for j in range(i + 1, len(lines)) if re.match(r"^\s*\[", lines[j])]
                    end = nxt[0] if nxt else len(lines)
                break
    return line_no


def env_overrides(environ: dict[str, str]) -> dict[str, dict[str, tuple[str, str]]]:
    """``ONPS_DATABASE_URL`` -> {"database": {"url": (value, name)}}; ``ONPS_CRAWL__MAX_PAGES`` -> {"crawl": ...}.
    Each value keeps the variable's name, so an error in it is reported against the variable, not the file."""
    found: dict[str, dict[str, tuple[str, str]]] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == "ONPS_CONFIG":
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        section, _, key = rest.partition("__") if "__" in rest else rest.partition("_")
        # only the config's own sections: other ONPS_* variables (test switches, say) are not settings
        if section in OnpsConfig.model_fields and key:
            found.setdefault(section, {})[key] = (value, name)
    return found


def parse(text: str, path: Path, environ: dict[str, str] | None = None) -> OnpsConfig:
    """Validate TOML text; raise ConfigError with every problem located in the file."""
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    from_env: dict[tuple[str, str], str] = {}
    for section, values in env_overrides(dict(os.environ) if environ is None else environ).items():
        table = data.setdefault(section, {})
        if isinstance(table, dict):
            table.update({key: value for key, (value, _) in values.items()})
            from_env.update({(section, key): name for key, (_, name) in values.items()})
    try:
        return OnpsConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            key = ".".join(str(p) for p in loc) or "(top level)"
            variable = from_env.get((str(loc[0]), str(loc[1]))) if len(loc) >= 2 else None
            line = None if variable else locate(text, loc)
            where = f"environment variable {variable}" if variable else f"{path}:{line}" if line else str(path)
            problems.append(f"{where}: {key}: {err['msg']}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems)) from exc


def load(path: str | Path | None = None, environ: dict[str, str] | None = None) -> OnpsConfig:
    """Load the config from PATH, $ONPS_CONFIG or ./onps.toml; with no file, the documented defaults."""
    env = dict(os.environ) if environ is None else environ
    chosen = Path(path or env.get("ONPS_CONFIG") or DEFAULT_PATH)
    if chosen.is_dir():
        raise ConfigError(f"{chosen} is a directory; pass the config file itself, e.g. --config {chosen / 'onps.toml'}")
    if not chosen.exists():
        if path is not None or "ONPS_CONFIG" in env:
            raise ConfigError(f"config file {chosen} not found; pass --config PATH or create onps.toml")
        return parse("", chosen, env)
    try:
        text = chosen.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{chosen}: not UTF-8 text ({exc}); save the file as UTF-8") from exc
    return parse(text, chosen, env)
