"""The demo's configuration: examples/demo/onps.toml, pointed at wherever the demo server actually listens.

The file names the default port so it can be read and checked on its own; a test or a run that serves on a
free port gets the same config with the base URL swapped, so there is only one demo config to keep right.
"""

from __future__ import annotations

from pathlib import Path

from config.load import parse
from config.schema import OnpsConfig

DEMO_TOML = Path(__file__).resolve().parents[1] / "examples" / "demo" / "onps.toml"
DEFAULT_PORT = 8765
DEFAULT_BASE_URL = f"http://127.0.0.1:{DEFAULT_PORT}"  # what the file's source URLs start with


def demo_config(base_url: str = DEFAULT_BASE_URL, environ: dict[str, str] | None = None) -> OnpsConfig:
    """The validated demo config with every source URL moved to BASE_URL (environment overrides apply)."""
    if not DEMO_TOML.exists():
        raise FileNotFoundError(f"{DEMO_TOML} is missing; the demo runs from a checkout of organic-nps")
    text = DEMO_TOML.read_text(encoding="utf-8")
    return parse(text.replace(DEFAULT_BASE_URL, base_url.rstrip("/")), DEMO_TOML, environ)
