"""How fast the demo makes and serves content: generation at scale 1 and at about 100,000 documents, and the
loopback server's pages per second, each beside a baseline from the same run.

Run: .venv/bin/python bench/demo.py   (writes bench/results/demo.md)
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from demo.brands import BRANDS  # noqa: E402
from demo.generate import generate  # noqa: E402
from demo.server import serving  # noqa: E402

BIG_SCALE = 70  # about 100,000 documents
SERVE_ROUNDS = 3


def timed(fn, *args, **kwargs):  # noqa: ANN001, ANN201 (any callable)
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def pages_per_second(client: httpx.Client, paths: list[str]) -> float:
    start = time.perf_counter()
    for _ in range(SERVE_ROUNDS):
        for path in paths:
            client.get(path).raise_for_status()
    return SERVE_ROUNDS * len(paths) / (time.perf_counter() - start)


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " ")).parse_args()
    small, t_small = timed(generate, seed=7, scale=1)
    big, t_big = timed(generate, seed=7, scale=BIG_SCALE)
    rate_small, rate_big, n_big = len(small.docs) / t_small, len(big.docs) / t_big, len(big.docs)
    del big  # 10^5 live objects would slow every garbage collection while serving below
    with serving(small) as base, httpx.Client(base_url=base) as client:
        robots = pages_per_second(client, ["/robots.txt"] * 50)
        trustpilot = pages_per_second(client, [f"/review/{b.domain}?page=1" for b in BRANDS] * 10)
        appstore = pages_per_second(client, [f"/us/rss/customerreviews/id={b.app_id}/sortby=mostrecent/json"
                                             for b in BRANDS] * 10)
        jsonld = pages_per_second(client, [f"/shop/{b.slug}/reviews?page=1" for b in BRANDS] * 10)
    lines = [
        "## Demo content",
        "",
        "Command: `.venv/bin/python bench/demo.py`. Machine: 2-core x86_64, 24 GiB, no GPU, shared with other",
        f"jobs (Python {platform.python_version()}). Baseline: generation at scale 1 and `/robots.txt` requests,",
        "measured in the same run.",
        "",
        "| what | n | seconds | per second | vs baseline |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| generate, scale 1 (baseline) | {len(small.docs)} docs | {t_small:.2f} | {rate_small:,.0f} docs | 1.00 |",
        f"| generate, scale {BIG_SCALE} | {n_big} docs | {t_big:.2f} | {rate_big:,.0f} docs "
        f"| {rate_big / rate_small:.2f} |",
        f"| serve `/robots.txt` (baseline) | {SERVE_ROUNDS * 50} requests | | {robots:,.0f} pages | 1.00 |",
        f"| serve Trustpilot page (20 reviews) | {SERVE_ROUNDS * 30} requests | | {trustpilot:,.0f} pages "
        f"| {trustpilot / robots:.2f} |",
        f"| serve app-store feed page (50 entries) | {SERVE_ROUNDS * 30} requests | | {appstore:,.0f} pages "
        f"| {appstore / robots:.2f} |",
        f"| serve JSON-LD page (20 reviews) | {SERVE_ROUNDS * 30} requests | | {jsonld:,.0f} pages "
        f"| {jsonld / robots:.2f} |",
        "",
    ]
    out = ROOT / "bench" / "results" / "demo.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
