"""Write BENCHMARKS.md from the sections the bench scripts leave in bench/results/.

Each bench script writes its own section (figures, the command that produced them, the machine); this script
only puts them in a fixed order under one heading, so BENCHMARKS.md is never edited by hand.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORDER = ["score", "filter", "estimate", "intervals", "crawl", "nightly", "api"]
HEADER = """# Benchmarks

Latest figures, measured by the scripts in `bench/` (not by tests). Each section names the command that produced
it and the machine. Speed is reported beside a baseline measured in the same run (as a ratio), since machines are
noisy. Regenerate a section by running its script, then `python bench/assemble.py`.
"""


def as_section(text: str) -> str:
    """Shift a section's headings so its top level is ``##`` (scripts may start theirs at ``#`` or ``##``)."""
    lines = text.strip().splitlines()
    levels = [len(line) - len(line.lstrip("#")) for line in lines if re.match(r"#+ ", line)]
    shift = 2 - min(levels) if levels else 0
    return "\n".join(("#" * shift + line if shift > 0 and re.match(r"#+ ", line) else line) for line in lines)


def assemble(results: Path = ROOT / "bench" / "results") -> str:
    sections = sorted(results.glob("*.md"), key=lambda p: (ORDER.index(p.stem) if p.stem in ORDER else 99, p.stem))
    return HEADER + "".join("\n" + as_section(p.read_text(encoding="utf-8")) + "\n" for p in sections)


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    (ROOT / "BENCHMARKS.md").write_text(assemble(), encoding="utf-8")
    print(f"wrote {ROOT / 'BENCHMARKS.md'}")
