"""Latency of the dashboard's overview, worklist and reviews pages over a seeded SQLite store, this tree against
a baseline tree (by default the commit before issue #15's work), both in the same run on the same store.

The store holds one brand with REVIEWS scored, reasoned, organic-checked reviews spread over nine years (the
Keytrade-on-Trustpilot case of issue #15: 5.6k reviews) beside a competitor with half as many, and the stored
estimates a nightly writes for them (weekly, monthly, rolling 28 days and all time). Each tree runs the real app
in a fresh interpreter (fastapi's TestClient: the whole request path, no network), REQUESTS times per page; the
figures are the median and the worst.

Run: .venv/bin/python bench/overview.py [--reviews 5600] [--requests 5] [--baseline 1262716]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from store.engine import session_scope  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.schema import Document, DocumentOrganic, Entity, NpsEstimate, Reason, Score, Source  # noqa: E402
from web.keys import create_key  # noqa: E402

START = datetime(2017, 1, 2, tzinfo=UTC)  # a Monday
CODES = ("delivery", "support", "app", "price", "fees", "trust", "quality", "speed")
PAGES = ("/?entity=Keytrade&window=week", "/?entity=Keytrade&window=all", "/worklist?entity=Keytrade",
         "/reviews?entity=Keytrade", "/api/worklist?entity=Keytrade")

MEASURE = """
import json, statistics, sys, time
from fastapi.testclient import TestClient
from web.app import create_app
url, key, pages, n = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
client = TestClient(create_app(url))
client.cookies.set("onps_key", key)
out = {}
for page in pages:
    times = []
    for _ in range(n + 1):
        start = time.perf_counter()
        answer = client.get(page, headers={"X-API-Key": key})
        times.append(time.perf_counter() - start)
        assert answer.status_code == 200, (page, answer.status_code, answer.text[:300])
    out[page] = [statistics.median(times[1:]), max(times[1:])]
print(json.dumps(out))
"""


def seed(url: str, reviews: int) -> str:
    upgrade(url)
    rnd = random.Random(15)
    days = (datetime(2026, 12, 1, tzinfo=UTC) - START).days
    with session_scope(url) as s:
        brand, rival = Entity(name="Keytrade", competitors=["Bolero"]), Entity(name="Bolero", competitors=["Keytrade"])
        s.add_all([brand, rival])
        s.flush()
        for entity, count in ((brand, reviews), (rival, reviews // 2)):
            src = Source(name=f"{entity.name.lower()}-trustpilot", kind="trustpilot", category="aggregator",
                         base_url="http://127.0.0.1/", entity_id=entity.id)
            s.add(src)
            s.flush()
            docs = []
            for i in range(count):
                when = START + timedelta(days=days * (i / count) ** 0.6, hours=rnd.random() * 24)
                stars = rnd.choice((1, 1, 2, 3, 4, 5, 5, 5))
                docs.append({"source_id": src.id, "external_id": f"{entity.name}-{i}", "entity_id": entity.id,
                             "url": f"http://127.0.0.1/r/{entity.name}/{i}", "text": f"review {i} " * 20,
                             "content_hash": f"{entity.name}-{i}", "published_at": when, "rating": float(stars),
                             "rating_scale": 5.0, "rating_0_10": (stars - 1) * 2.5, "language": "en",
                             "extra": {}})
            s.execute(insert(Document), docs)
            ids = list(s.scalars(select(Document.id).where(Document.source_id == src.id).order_by(Document.id)))
            scores, reasons, organic = [], [], []
            for doc_id, doc in zip(ids, docs, strict=True):
                det = {1: 0.85, 2: 0.7, 3: 0.5, 4: 0.15, 5: 0.05}[int(doc["rating"])]
                pro = (1 - det) * (0.8 if doc["rating"] == 5 else 0.3)
                scores.append({"document_id": doc_id, "model_version": "bench", "score": 10 * (1 - det),
                               "p_promoter": pro, "p_passive": 1 - det - pro, "p_detractor": det,
                               "confidence": max(det, pro), "text_only_score": 10 * (1 - det) + rnd.gauss(0, 1.5),
                               "active_detractor": det > 0.8 and rnd.random() < 0.2})
                for code in rnd.sample(CODES, rnd.choice((0, 1, 1, 2))):
                    reasons.append({"document_id": doc_id, "code": code,
                                    "polarity": "negative" if det > 0.5 else "positive", "evidence": "review"})
                organic.append({"document_id": doc_id, "excluded": None if rnd.random() > 0.1 else "bot"})
            for table, rows in ((Score, scores), (Reason, reasons), (DocumentOrganic, organic)):
                for k in range(0, len(rows), 5000):
                    s.execute(insert(table), rows[k:k + 5000])
            estimates = []
            for kind, step, length in (("week", 7, 7), ("rolling28", 7, 28), ("month", 30, 30)):
                for k in range(days // step):
                    begin = START + timedelta(days=k * step)
                    estimates.append({"entity_id": entity.id, "segment": {}, "segment_key": "", "window_kind": kind,
                                      "window_start": begin, "window_end": begin + timedelta(days=length),
                                      "n": 12.0 * length / 7, "nps": rnd.uniform(-40, 40), "low": -60.0,
                                      "high": 60.0, "promoters": 5.0, "passives": 3.0, "detractors": 4.0,
                                      "excluded": {}, "method": "dirichlet", "extra": {}})
            estimates.append({**estimates[0], "window_kind": "all", "window_start": datetime(1970, 1, 1, tzinfo=UTC),
                              "window_end": datetime(2026, 12, 1, tzinfo=UTC), "n": float(count)})
            s.execute(insert(NpsEstimate), estimates)
        return create_key(s, "bench", "read")[1]


def measure(tree: Path, url: str, key: str, requests: int, pages: tuple[str, ...]) -> dict[str, list[float]]:
    out = subprocess.run([sys.executable, "-c", MEASURE, url, key, json.dumps(pages), str(requests)], cwd=tree,
                         env={**os.environ, "PYTHONPATH": str(tree)}, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"measuring {tree} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reviews", type=int, default=5600)
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--baseline", default="1262716", help="Commit of the baseline tree.")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "overview.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        key = seed(url, args.reviews)
        base = Path(tmp) / "baseline"
        base.mkdir()
        archive = subprocess.run(["git", "archive", args.baseline], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
        old_pages = tuple(p for p in PAGES if not p.startswith("/worklist"))  # the baseline had no worklist page
        before = measure(base, url, key, args.requests, old_pages)
        after = measure(ROOT, url, key, args.requests, PAGES)
    rows = [f"| `{p}` | {before[p][0]:.2f} / {before[p][1]:.2f} | {after[p][0]:.2f} / {after[p][1]:.2f} |"
            if p in before else f"| `{p}` | (no such page) | {after[p][0]:.2f} / {after[p][1]:.2f} |"
            for p in PAGES]
    text = "\n".join([
        f"SQLite, {args.reviews} reviews for the brand and {args.reviews // 2} for its competitor over nine years, "
        f"{args.requests} requests per page after one warm-up; {platform.machine()}, {os.cpu_count()} cores "
        f"(shared), Python {platform.python_version()}. Command: `python bench/overview.py "
        f"--reviews {args.reviews} --requests {args.requests} --baseline {args.baseline}`.", "",
        f"| page | baseline {args.baseline} median / worst s | this tree median / worst s |",
        "| --- | --- | --- |", *rows, ""])
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
