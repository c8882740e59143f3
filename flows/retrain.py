"""`onps retrain`: retrain the packaged models, evaluate them, and promote only those that are not worse.

Each trainer is a module run as ``python -m MODULE --out DIR`` that writes its artifact, its card and a
``*.metrics.json`` beside them (models/train.py does). The candidate is trained into a scratch folder; its
held-out metric is compared with the one in the card of the model in use; only a candidate at least as good
replaces the artifacts (a model that scores worse is refused, and the folder it was trained in is kept so it can
be inspected). Why a subprocess: training is heavy and long, and its memory goes back to the system when done.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Trainer:
    """A training entry point, where its artifacts live, and the held-out metric that decides promotion."""

    module: str
    artifacts: Path
    metrics_file: str
    metric: str  # key in each held-out set's metrics
    held_out: tuple[str, ...]  # set names whose metric is averaged (never trained on)


TRAINERS = (
    Trainer("models.train", ROOT / "models" / "artifacts", "bot_filter.metrics.json", "roc_auc",
            ("salminen_test", "yelp_test")),
    Trainer("nlp.train", ROOT / "nlp" / "artifacts", "scorer.metrics.json", "macro_f1", ("test",)),
    # the employee head: Spearman on its dev employers, scored by the model fit on the train employers only
    Trainer("nlp.employee", ROOT / "nlp" / "artifacts", "scorer-employee.metrics.json", "spearman", ("dev",)),
)


@dataclass
class Outcome:
    module: str
    status: str  # promoted | refused | failed | first model
    current: float | None = None
    candidate: float | None = None
    detail: str = ""


def held_out_score(metrics: dict[str, Any], trainer: Trainer) -> float:
    """Mean of the trainer's metric over its held-out sets, from a metrics.json."""
    sets = metrics.get("sets", metrics)
    values = [float(sets[name][trainer.metric]) for name in trainer.held_out if name in sets]
    if not values:
        raise ValueError(f"{trainer.metrics_file} has none of the held-out sets {trainer.held_out} "
                         f"with {trainer.metric!r}; the trainer's output format changed")
    return sum(values) / len(values)


def decide(current: dict[str, Any] | None, candidate: dict[str, Any], trainer: Trainer) -> Outcome:
    """Promote when there is no current model, or the candidate's held-out score is not lower."""
    new = held_out_score(candidate, trainer)
    if current is None:
        return Outcome(trainer.module, "first model", None, new)
    old = held_out_score(current, trainer)
    if new < old:
        return Outcome(trainer.module, "refused", old, new,
                       f"{trainer.metric} {new:.4f} < {old:.4f} of the model in use")
    return Outcome(trainer.module, "promoted", old, new)


def read_metrics(folder: Path, trainer: Trainer) -> dict[str, Any] | None:
    path = folder / trainer.metrics_file
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def promote(candidate: Path, artifacts: Path) -> list[str]:
    """Copy every file the trainer wrote over the artifacts in use; returns their names."""
    artifacts.mkdir(parents=True, exist_ok=True)
    copied = []
    for path in sorted(candidate.iterdir()):
        if path.is_file():
            shutil.copy2(path, artifacts / path.name)
            copied.append(path.name)
    return copied


def retrain_one(trainer: Trainer, scratch: Path, dry_run: bool = False) -> Outcome:
    """Train into SCRATCH/<module>, evaluate, and promote unless worse (or DRY_RUN)."""
    out = scratch / trainer.module
    out.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-m", trainer.module, "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        return Outcome(trainer.module, "failed", detail=(done.stderr or done.stdout)[-2000:])
    candidate = read_metrics(out, trainer)
    if candidate is None:
        return Outcome(trainer.module, "failed", detail=f"the trainer wrote no {trainer.metrics_file} in {out}")
    outcome = decide(read_metrics(trainer.artifacts, trainer), candidate, trainer)
    if outcome.status in ("promoted", "first model") and not dry_run:
        outcome.detail = "copied " + ", ".join(promote(out, trainer.artifacts))
    elif outcome.status == "refused":
        outcome.detail += f"; the candidate stays in {out}"
    return outcome
