"""How long `onps --help` takes: the lazy command list against importing every command module up front.

The baseline, measured in the same run on the same machine, is what the command line did before it deferred its
sub-commands: import every module in flows/commands/ (Scrapy, SciPy, SQLAlchemy, pydantic, ...) and then print
the help. Each variant runs REPEATS times in a fresh interpreter (nothing cached in the process); the figures are
the median and the worst wall time of the whole process, start to exit.

Run: .venv/bin/python bench/cli_help.py [--repeats 7] [--out bench/results/cli_help.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = ("config_cmd", "db", "crawl", "score", "estimate", "nightly", "survey", "alerts", "worklist", "serve",
           "demo")
HELP = "import sys; sys.argv = ['onps', '--help']; from flows.cli import main; main()"
VARIANTS = {
    "eager (every command module imported first: the old cli)":
        "".join(f"import flows.commands.{m}; " for m in MODULES) + HELP,
    "lazy (flows.cli as it is)": HELP,
}


def wall(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                   stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cli_help.md")
    args = parser.parse_args()
    for code in VARIANTS.values():
        wall(code)  # warm the file system cache once, so neither variant pays for a cold disk
    rows = []
    for name, code in VARIANTS.items():
        times = [wall(code) for _ in range(args.repeats)]
        rows.append(f"| {name} | {statistics.median(times):.2f} | {max(times):.2f} |")
    text = "\n".join([
        f"`onps --help`, {args.repeats} fresh processes each; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}. Command: `python bench/cli_help.py`.",
        "", "| variant | median s | worst s |", "| --- | --- | --- |", *rows, ""])
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
