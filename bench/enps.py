"""eNPS from employer reviews through the public contract, on employers the employee head never saw.

Run: .venv/bin/python bench/enps.py   (writes bench/results/enps.md and bench/results/enps.json)

The test employers of nlp.employee (ASOS, Accor in ../shared/data/glassdoor-uk) as JSON lines an HR team would
feed (`title` = headline, `text` = `Pros: ...\\nCons: ...`, stars, the recommend answer), through `onps score` and
`onps estimate --by entity,year` as subprocesses, two ways in the same run:
* ``employee``: the lines say ``"audience": "employee"`` (the employee head, its reasons, the employee class rule);
* ``baseline``: the same lines without ``audience``, i.e. read as customer reviews (what the product did before).
Figures: Spearman of the text-only score against the stars; per employer-year of 100+ reviews, the estimate's
error against the stars' eNPS of the group's reviews (5 promoter, 4 passive, 1-3 detractor), text-only and with
the stars given; and how many of those true values fall inside the estimate's 95% interval.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nlp.employee import TEST, load_split  # noqa: E402
from nps.classes import nps_from_shares, star_class  # noqa: E402

MIN_GROUP = 100
ONPS = [sys.executable, "-c", "from flows.cli import main; main()"]


def onps(*args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([*ONPS, *args], capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"onps {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def true_enps(records: list[dict[str, Any]]) -> float:
    """The stars' eNPS of RECORDS (the convention of nps.classes.star_class, which employee_class applies)."""
    classes = [star_class(r["rating"], r["rating_scale"]) for r in records]
    return nps_from_shares([classes.count("promoter"), classes.count("passive"), classes.count("detractor")])


def run_path(name: str, records: list[dict[str, Any]], folder: Path) -> dict[str, Any]:
    path = folder / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    started = time.time()
    scored_path = folder / f"{name}.scored.jsonl"
    onps("score", str(path), "-o", str(scored_path), "--text-only")
    scores = {line["id"]: line["score"] for line in map(json.loads, scored_path.read_text().splitlines())}
    stars = [r["rating"] for r in records]
    rho = float(spearmanr([scores[r["id"]] for r in records], stars)[0])
    truth_of = defaultdict(list)
    for r in records:
        truth_of[(r["entity"], r["year"])].append(r)
    out: dict[str, Any] = {"spearman_text_only": round(rho, 4)}
    for mode, extra in (("text_only", ["--text-only"]), ("rated", [])):
        lines = [json.loads(x) for x in onps("estimate", str(path), "--by", "entity,year", *extra).splitlines()
                 if x.startswith("{")]
        groups = []
        for line in lines:
            members = truth_of[(line["group"]["entity"], line["group"]["year"])]
            if len(members) < MIN_GROUP:
                continue
            truth = true_enps(members)
            groups.append({"entity": line["group"]["entity"], "year": line["group"]["year"], "n": line["n"],
                           "reviews": len(members), "metric": line.get("metric"), "truth": round(truth, 2),
                           "estimate": line["nps"], "low": line["low"], "high": line["high"],
                           "inside": line["low"] <= truth <= line["high"]})
        errors = [abs(g["estimate"] - g["truth"]) for g in groups]
        out[mode] = {"groups": groups, "mean_abs_error": round(float(np.mean(errors)), 2),
                     "max_abs_error": round(float(np.max(errors)), 2),
                     "coverage": round(float(np.mean([g["inside"] for g in groups])), 3),
                     "mean_half_width": round(float(np.mean([(g["high"] - g["low"]) / 2 for g in groups])), 2)}
    out["seconds"] = round(time.time() - started, 1)
    return out


def markdown(results: dict[str, Any]) -> str:
    rows = ["| path | Spearman text-only | text-only eNPS error (mean / max) | coverage | +- | with stars error | "
            "coverage |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for name in ("baseline", "employee"):
        r = results[name]
        t, s = r["text_only"], r["rated"]
        rows.append(f"| {name} | {r['spearman_text_only']:.3f} | {t['mean_abs_error']:.1f} / {t['max_abs_error']:.1f} "
                    f"| {t['coverage']:.0%} ({sum(g['inside'] for g in t['groups'])}/{len(t['groups'])}) "
                    f"| {t['mean_half_width']:.1f} | {s['mean_abs_error']:.1f} | {s['coverage']:.0%} |")
    detail = ["", "| employer-year | reviews | stars' eNPS | employee text-only [95%] | baseline text-only |",
              "| --- | --- | --- | --- | --- |"]
    for mine, base in zip(results["employee"]["text_only"]["groups"], results["baseline"]["text_only"]["groups"],
                          strict=True):
        detail.append(f"| {mine['entity']} {mine['year']} | {mine['reviews']} | {mine['truth']:+.1f} | "
                      f"{mine['estimate']:+.1f} [{mine['low']:+.1f}, {mine['high']:+.1f}] | {base['estimate']:+.1f} |")
    return "\n".join(rows + detail) + "\n"


def main() -> None:
    records = load_split().test
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        baseline = [{k: v for k, v in r.items() if k != "audience"} for r in records]
        results = {"employers": list(TEST), "n": len(records), "min_group": MIN_GROUP,
                   "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs (shared)",
                   "employee": run_path("employee", records, folder),
                   "baseline": run_path("baseline", baseline, folder)}
    out = ROOT / "bench" / "results"
    (out / "enps.json").write_text(json.dumps(results, indent=1) + "\n")
    text = (f"# eNPS on held-out employers ({', '.join(TEST)}; {len(records)} reviews)\n\n{HOW}\n"
            f"Command: `.venv/bin/python bench/enps.py`; machine: {results['machine']}.\n\n" + markdown(results))
    (out / "enps.md").write_text(text)
    print(text)


HOW = """Through the public contract (`onps score --text-only` and `onps estimate --by entity,year`, with and without
`--text-only`, as subprocesses) on the test employers of `nlp.employee` (../shared/data/glassdoor-uk; `title` =
headline, `text` = `Pros: ...\\nCons: ...`). Same run, same lines: `employee` says `"audience": "employee"`;
`baseline` drops it, i.e. reads the reviews as customer reviews (the static head, the customer kernel), which is what
the product did before. Truth: the stars' eNPS of each employer-year's reviews (5 promoter, 4 passive, 1-3
detractor); groups of 100+ reviews only. Head: trained by `python -m nlp.employee` (fit on ASDA and two small
employers, tuned on AXA-UK, Abcam, AJ-Bell, AQA).
"""

if __name__ == "__main__":
    main()
