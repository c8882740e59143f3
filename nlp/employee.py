"""The employee head: employer-review text -> five star levels, for records with ``audience: "employee"``.

``python -m nlp.employee [--out DIR]`` trains it on ../shared/data/glassdoor-uk (real Glassdoor reviews of nine UK
employers, its SOURCE) and writes ``scorer-employee.joblib`` with its card. The split is by employer, so no
employer's reviews sit on both sides: the head is fit on TRAIN employers, its regularisation and temperature are
chosen on DEV employers, and TEST employers are never fitted on (bench/enps.py reports on them). Customer text and
employee text differ in what is praised or blamed (pay, managers, rotas rather than delivery and quality), which is
why the customer heads read employer reviews poorly (Spearman 0.46 against the stars on these employers).

Word 1-2-grams and character 2-5-grams (TF-IDF) + a multinomial logistic regression over the five star levels,
each level weighing the same (so its level prior is uniform, the same as the customer heads', and the EM prior
adjustment of group estimates divides out one mix for both).
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_pipeline

from nlp import corpora
from nlp.score import ARTIFACTS, EMPLOYEE_ARTIFACT, SklearnHead, document_text, softmax

DATA_FILE = Path("glassdoor-uk") / "glassdoor_reviews_uk_sample.csv"
ARTIFACT = EMPLOYEE_ARTIFACT
# by employer (firm): TEST holds the only employers besides ASDA with employer-years of 100+ reviews
TEST = ("ASOS", "Accor")
DEV = ("AXA-UK", "Abcam", "AJ-Bell", "AQA")
CS = (0.5, 1.0, 2.0, 4.0)
ANSWERS = {"v": True, "x": False}  # the file's recommend column: v yes, x no, o no opinion


@dataclass(frozen=True)
class Split:
    train: list[dict[str, Any]]
    dev: list[dict[str, Any]]
    test: list[dict[str, Any]]


def record(row: dict[str, str], number: int) -> dict[str, Any]:
    """One CSV row as the document record an HR export would give `onps score` (docs/CONTRACTS.md)."""
    day, month, year = (int(x) for x in row["date_review"].split("/"))
    sections = [("Pros", row["pros"]), ("Cons", row["cons"])]
    return {
        "id": f"{row['firm']}-{number}",
        "entity": row["firm"],
        "audience": "employee",
        "title": row["headline"].strip() or None,
        "text": "\n".join(f"{name}: {' '.join(body.split())}" for name, body in sections if body.strip()),
        "rating": float(row["overall_rating"]),
        "rating_scale": 5.0,
        "recommends": ANSWERS.get(row["recommend"]),
        "published_at": datetime(year, month, day, tzinfo=UTC).isoformat(),
        "year": str(year),
    }


def load_split(data: Path | None = None) -> Split:
    path = corpora._need((data or corpora.SHARED_DATA) / DATA_FILE)
    with path.open(encoding="utf-8", newline="") as handle:
        records = [record(row, i) for i, row in enumerate(csv.DictReader(handle))
                   if row["overall_rating"].strip() and (row["pros"].strip() or row["cons"].strip())]
    return Split([r for r in records if r["entity"] not in TEST + DEV],
                 [r for r in records if r["entity"] in DEV],
                 [r for r in records if r["entity"] in TEST])


def features() -> FeatureUnion:
    return FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=40_000, sublinear_tf=True,
                                  dtype=np.float32)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=3, max_features=60_000,
                                  sublinear_tf=True, dtype=np.float32)),
    ])


def stars(records: list[dict[str, Any]]) -> np.ndarray:
    return np.clip(np.rint([r["rating"] for r in records]), 1, 5).astype(int)


def level_weights(levels: np.ndarray) -> np.ndarray:
    """Each star level weighs the same in total: a uniform level prior, as the customer heads' cards say."""
    counts = np.bincount(levels, minlength=6)
    weights = 1.0 / counts[levels]
    return weights * len(weights) / weights.sum()


def fit(records: list[dict[str, Any]], c: float) -> Any:
    levels = stars(records)
    pipe = make_pipeline(features(), LogisticRegression(C=c, max_iter=500, tol=1e-3))
    return pipe.fit([document_text(r) for r in records], levels,
                    logisticregression__sample_weight=level_weights(levels))


def shrink(pipe: Any) -> None:
    """float32 weights and no stop-word lists: a smaller artifact, the same predictions."""
    pipe.steps[-1][1].coef_ = pipe.steps[-1][1].coef_.astype(np.float32)
    for _, vec in pipe.steps[0][1].transformer_list:
        vec.stop_words_ = None


def train(split: Split) -> tuple[SklearnHead, dict[str, Any]]:
    """Choose C and the temperature on the dev employers, then refit on train + dev employers."""
    from nlp.train import fit_temperature, group_nps_error, metrics

    dev_texts, dev_stars = [document_text(r) for r in split.dev], stars(split.dev)
    best = None
    for c in CS:
        logits = fit(split.train, c).decision_function(dev_texts)
        temperature = fit_temperature(logits, dev_stars)
        found = metrics(softmax(logits / temperature), dev_stars)
        print(f"  employee C={c}: dev nll {found['nll']} spearman {found['spearman']} (T={temperature:.2f})")
        if best is None or found["nll"] < best[0]:
            best = (found["nll"], c, temperature, softmax(logits / temperature), found)
    assert best is not None, "CS has at least one C"
    _, c, temperature, p_dev, dev_metrics = best
    priors = {"level_prior": [0.2] * 5, "train_prior": [0.2, 0.2, 0.6]}
    held_out = corpora.Labelled(dev_texts, [float(s) for s in dev_stars], ["en"] * len(dev_texts))
    error = group_nps_error({"dev": p_dev}, {"dev": held_out}, priors)
    final = fit(split.train + split.dev, c)
    shrink(final)
    head = SklearnHead(final, temperature, f"employee-{time.strftime('%Y%m%d')}")
    card = {
        "head": "employee",
        "version": head.version,
        "data": {
            "source": "../shared/data/glassdoor-uk (Glassdoor reviews of UK employers, its SOURCE)",
            "split": "by employer: fit on train, C and temperature chosen on dev, refit on train+dev; test "
            "employers never read by training (bench/enps.py reports on them)",
            "train_employers": sorted({r["entity"] for r in split.train}),
            "dev_employers": list(DEV),
            "test_employers": list(TEST),
            "n_train": len(split.train), "n_dev": len(split.dev),
            "text": 'title = headline, text = "Pros: ...\\nCons: ..." (nlp.score.document_text)',
            "labels": "overall stars 1-5, each level weighing the same; eNPS classes 5 / 4 / 1-3 "
            "(nps.classes.employee_class)",
        },
        "C": c,
        "temperature": round(temperature, 4),
        "dev": dev_metrics,
        **priors,
        "group_nps_error": error,
        # with stars the class is the stars' (nps.classes.employee_class): no model error on that path
        "group_nps_error_rated": 0.0,
        "trained_at": time.strftime("%Y-%m-%d"),
    }
    return head, card


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m nlp.employee", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ARTIFACTS, help="folder for scorer-employee.joblib + card")
    args = parser.parse_args(argv)
    started = time.time()
    split = load_split()
    print(f"employers: train {len(split.train)}, dev {len(split.dev)} reviews (test employers {', '.join(TEST)} "
          "not read for fitting)")
    head, card = train(split)
    args.out.mkdir(parents=True, exist_ok=True)
    joblib.dump(head, args.out / ARTIFACT.name, compress=3)
    card["seconds"] = round(time.time() - started, 1)
    (args.out / ARTIFACT.name).with_suffix(".card.json").write_text(json.dumps(card, indent=2) + "\n")
    # what `onps retrain` compares before promoting (flows.retrain.TRAINERS)
    (args.out / "scorer-employee.metrics.json").write_text(json.dumps({"sets": {"dev": card["dev"]}}) + "\n")
    print(f"wrote {args.out / ARTIFACT.name} ({(args.out / ARTIFACT.name).stat().st_size / 1e6:.1f} MB), "
          f"dev spearman {card['dev']['spearman']}, group NPS error {card['group_nps_error']}")


if __name__ == "__main__":
    main()
