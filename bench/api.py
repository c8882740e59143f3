"""Latency of the estimates endpoint over a seeded store, through real HTTP (uvicorn on 127.0.0.1).

The store holds ENTITIES x (1 + SEGMENTS) x WEEKS weekly estimates (defaults: 50 x 5 x 104 = 26,000 rows, two
years of a mid-size portfolio). Each query is what a client or the dashboard asks for: one entity's trend, one
entity's segments over a quarter, every entity's totals. The baseline, measured in the same run, is /health (one
``SELECT 1``, no key check): ratios say what the estimate query and the key check add to the fixed cost of a
request. Requests go one at a time over a keep-alive connection, so the figures are latencies, not throughput.

Run: .venv/bin/python bench/api.py [--entities 50] [--weeks 104] [--segments 4] [--requests 200] [--postgres]
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn
from rich.progress import track
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from store.engine import session_scope  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.schema import Entity, NpsEstimate  # noqa: E402
from web.app import create_app  # noqa: E402
from web.keys import create_key  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "api.md"
FIRST_WEEK = datetime(2024, 10, 7, tzinfo=UTC)


def seed(url: str, entities: int, weeks: int, segments: int) -> str:
    """Bulk-insert the estimates; return a read key."""
    with session_scope(url) as s:
        ents = [Entity(name=f"brand-{i:03d}") for i in range(entities)]
        s.add_all(ents)
        s.flush()
        rows = []
        for e in ents:
            for seg in [{}] + [{"source": f"source-{j}"} for j in range(segments)]:
                key = ";".join(f"{k}={v}" for k, v in sorted(seg.items()))
                for w in range(weeks):
                    nps = (e.id * 7 + w) % 60 - 20.0
                    rows.append({"entity_id": e.id, "segment": seg, "segment_key": key, "window_kind": "week",
                                 "window_start": FIRST_WEEK + timedelta(weeks=w),
                                 "window_end": FIRST_WEEK + timedelta(weeks=w + 1), "n": 150.0, "nps": nps,
                                 "low": nps - 11, "high": nps + 11, "promoters": 60.0, "passives": 45.0,
                                 "detractors": 45.0, "excluded": {"bots": 3}, "method": "adjusted-wald",
                                 "extra": {}})
        for i in range(0, len(rows), 5000):
            s.execute(insert(NpsEstimate), rows[i:i + 5000])
        return create_key(s, "bench", "read")[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure(client: httpx.Client, path: str, key: str | None, n: int, label: str) -> dict[str, float]:
    headers = {"X-API-Key": key} if key else {}
    for _ in range(10):  # warm-up: connection, caches, first-query planning
        client.get(path, headers=headers).raise_for_status()
    times, size = [], 0
    for _ in track(range(n), description=label, transient=True):
        start = time.perf_counter()
        reply = client.get(path, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        reply.raise_for_status()
        size = len(reply.content)
    times.sort()
    return {"p50": statistics.median(times), "p95": times[int(0.95 * (len(times) - 1))], "bytes": size}


def run_backend(name: str, url: str, args: argparse.Namespace) -> list[str]:
    upgrade(url)
    started = time.perf_counter()
    key = seed(url, args.entities, args.weeks, args.segments)
    seeded_s = time.perf_counter() - started
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(url), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    mid = f"brand-{args.entities // 2:03d}"
    quarter = (FIRST_WEEK + timedelta(weeks=args.weeks - 13)).isoformat()
    queries = [
        ("baseline: /health", "/health", None, args.requests),
        ("one entity's weekly trend", f"/api/estimates?entity={mid}&segment=total&window=week", key,
         args.requests),
        ("one entity, all segments, last 13 weeks",
         f"/api/estimates?entity={mid}&window=week&from={quarter.replace('+', '%2B')}", key, args.requests),
        # thousands of rows per answer: a tenth of the requests keeps the run short; p95 is rougher for it
        ("every entity's weekly totals", "/api/estimates?segment=total&window=week&limit=10000", key,
         max(20, args.requests // 10)),
    ]
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            results = [(label, n, measure(client, path, k, n, f"{name}: {label}"))
                       for label, path, k, n in queries]
    finally:
        server.should_exit = True
        thread.join(10)
    base = results[0][2]["p50"]
    rows = (args.weeks * args.entities * (1 + args.segments))
    lines = [f"### {name} ({rows:,} estimates, seeded in {seeded_s:.1f} s)", "",
             "| query | requests | p50 ms | p95 ms | p50 / baseline | response bytes |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for label, n, r in results:
        lines.append(f"| {label} | {n} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p50'] / base:.1f}x | "
                     f"{r['bytes']:,} |")
    return lines + [""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=50)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--segments", type=int, default=4)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--postgres", action="store_true", help="Also run on a throw-away PostgreSQL cluster.")
    args = parser.parse_args()
    command = "python bench/api.py " + " ".join(sys.argv[1:])
    load_before = os.getloadavg()[0]
    sections = []
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        sections += run_backend("SQLite", f"sqlite:///{tmp / 'bench.db'}", args)
        if args.postgres:
            from tests import pg

            admin = stack.enter_context(pg.cluster())
            sections += run_backend("PostgreSQL", pg.fresh_database(admin), args)
    text = "\n".join([
        "## API latency: /api/estimates", "",
        f"Command: `{command.strip()}`  ",
        f"Machine: 2-core x86_64, 24 GiB, no GPU, shared with other jobs while measured (1-minute load average "
        f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end: expect noisy p95s); "
        f"Python {platform.python_version()}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.  ",
        "Sequential requests over one keep-alive connection to uvicorn on 127.0.0.1 "
        "(client and server on the same 2 cores); the key check (one indexed SELECT by SHA-256) is included. "
        "Baseline: /health in the same run.", "", *sections])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
