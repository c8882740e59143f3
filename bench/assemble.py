"""Write BENCHMARKS.md from the sections the bench scripts leave in bench/results/.

Each bench script writes its own section (figures, the command that produced them, the machine); this script
only puts them in a fixed order under one heading, so BENCHMARKS.md is never edited by hand.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORDER = ["score", "filter", "estimate", "intervals", "crawl", "nightly", "api"]
HEADER = """# Benchmarks

Latest figures, measured by the scripts in `bench/` (not by tests). Each section names the command that produced
it and the machine. Speed is reported beside a baseline measured in the same run (as a ratio), since machines are
noisy. Regenerate a section by running its script, then `python bench/assemble.py`.
"""


def assemble(results: Path = ROOT / "bench" / "results") -> str:
    sections = sorted(results.glob("*.md"), key=lambda p: (ORDER.index(p.stem) if p.stem in ORDER else 99, p.stem))
    return HEADER + "".join("\n" + p.read_text(encoding="utf-8").strip() + "\n" for p in sections)


if __name__ == "__main__":
    (ROOT / "BENCHMARKS.md").write_text(assemble(), encoding="utf-8")
    print(f"wrote {ROOT / 'BENCHMARKS.md'}")
