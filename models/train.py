"""Retrain the packaged bot filter: `python -m models.train [--out models/artifacts]`.

Data and splits (all from ../shared/data, the test parts never trained on):
- Salminen subset: `dev` split 80/20 (stratified, seeded) into train / validation; `test` reported.
- YelpCHI slice: products split 60/20/20 (grouped, seeded) into train / validation / test; its texts are also
  human-written negatives for the machine-text model.
- Human reviews of other shapes and languages (MARC en/de/es/fr, Russian book reviews; train splits): more
  negatives for the machine-text model only.
- Datafiniti Amazon device reviews (a real stream): half of its products (grouped, seeded) are human negatives
  for the machine-text model, so short plain praise ("Got this for my son and he loves it.") reads as human;
  bench/filter.py reports false flags on the other half only.
- Sentence-end reference (models.sentence_ends; unlabelled): MARC en train and the English Metacritic / Rotten
  Tomatoes reviews (the bombing bench's data, whose ratings and dates it never sees); the streams the injection
  harness plants into and the Datafiniti products checked for false flags are left out.
- Metacritic / Rotten Tomatoes reviews of the titles nobody bombed: half of the titles (seeded) give up to
  HUMAN_BOMBING_CONTROLS film and game reviews as human negatives for the machine-text model; the other half is
  where bench/filter.py counts false flags (and is left out of the sentence-end reference).
- Ott deceptive opinion spam is not used (bench/filter.py reports a 5-fold CV of the text model on it).
The decision threshold is chosen at load time from the stored validation scores for the configured precision.
"""

from __future__ import annotations

import argparse
import json
import platform
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score
from sklearn.model_selection import GroupShuffleSplit, train_test_split

from config.schema import ThresholdsConfig
from models import corpora
from models.bots import BotClassifier, save_bot_filter, threshold_for_precision
from models.features import FEATURES
from models.sentence_ends import SentenceEnds

SEED = 13
# Behaviour model settings chosen on YelpCHI validation AUC (grid C 0.1-2, 4-20 bins; test never looked at)
BEHAVIOUR_C, BEHAVIOUR_BINS = 1.0, 16
# the card reports the model at the decision threshold the default configuration uses
CARD_PRECISION = ThresholdsConfig().bot_precision
HUMAN_BOMBING_CONTROLS = 4000


def yelp_split(products: np.ndarray, seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of train / validation / test, whole products in each part (no product leaks across)."""
    index = np.arange(len(products))
    outer = GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=seed)
    rest, test = next(outer.split(index, groups=products))
    inner = GroupShuffleSplit(n_splits=1, test_size=0.25, random_state=seed)
    train, val = next(inner.split(rest, groups=products[rest]))
    return rest[train], rest[val], test


def datafiniti_split(seed: int = SEED) -> tuple[list[dict[str, Any]], set[str]]:
    """Datafiniti device reviews of a seeded half of the products (as bare texts, for training) and the other
    half's entity names (held out: the false-flag bench reads only those)."""
    streams = {name: rows for name, rows in corpora.streams().items() if name.startswith("datafiniti:")}
    names = np.array(sorted(streams))
    order = np.random.default_rng(seed).permutation(len(names))
    trained, held = names[order[: len(names) // 2]], names[order[len(names) // 2 :]]
    texts = [{"id": r["id"], "text": r["text"]} for name in trained for r in streams[name]]
    return texts, {str(name) for name in held}


def bombing_negatives(seed: int = SEED) -> list[dict[str, Any]]:
    """Bare texts of up to HUMAN_BOMBING_CONTROLS reviews of the trained half of the unbombed titles."""
    trained, _ = corpora.bombing_controls(seed)
    rows = trained.dropna(subset=["review"])
    rows = rows.sample(min(HUMAN_BOMBING_CONTROLS, len(rows)), random_state=seed)
    tuples: Iterable[Any] = rows.itertuples()  # a CSV's cells, which pandas types as any scalar
    return [{"id": f"control-{int(r.r_id)}", "text": str(r.review)} for r in tuples]


def training_sets(seed: int = SEED) -> dict[str, Any]:
    """Every split the packaged model and its card use, as records and labels."""
    sal_dev, sal_dev_y = corpora.salminen("dev")
    sal_test, sal_test_y = corpora.salminen("test")
    sal_train_i, sal_val_i = train_test_split(
        np.arange(len(sal_dev)), test_size=0.2, stratify=sal_dev_y, random_state=seed
    )
    yelp, yelp_y, products = corpora.yelpchi()
    y_train, y_val, y_test = yelp_split(products, seed)
    human = corpora.human_texts(seed=seed) + datafiniti_split(seed)[0] + bombing_negatives(seed)
    pick = lambda rows, idx: [rows[i] for i in idx]  # noqa: E731
    return {
        "salminen_train": (pick(sal_dev, sal_train_i), sal_dev_y[sal_train_i]),
        "salminen_val": (pick(sal_dev, sal_val_i), sal_dev_y[sal_val_i]),
        "salminen_test": (sal_test, sal_test_y),
        "yelp_train": (pick(yelp, y_train), yelp_y[y_train]),
        "yelp_val": (pick(yelp, y_val), yelp_y[y_val]),
        "yelp_test": (pick(yelp, y_test), yelp_y[y_test]),
        "human_train": (human, np.zeros(len(human), dtype=int)),
    }


def fit_packaged(sets: dict[str, Any], seed: int = SEED) -> BotClassifier:
    """The packaged classifier: text models on the generated and human corpora, behaviour on YelpCHI train."""
    records, labels, corpus = [], [], []
    for name, kind in (("salminen_train", "generated"), ("yelp_train", "human"), ("human_train", "human_text")):
        rows, y = sets[name]
        records += rows
        labels += list(y)
        corpus += [kind] * len(rows)
    ends = SentenceEnds.count(corpora.sentence_reference())
    return BotClassifier(C=BEHAVIOUR_C, n_bins=BEHAVIOUR_BINS, seed=seed, sentence_ends=ends).fit(
        records, np.array(labels), corpus=corpus
    )


def metrics(p: np.ndarray, y: np.ndarray, threshold: float) -> dict[str, float]:
    decided = p >= threshold
    return {
        "n": int(len(y)),
        "positives": int(y.sum()),
        "roc_auc": float(roc_auc_score(y, p)),
        "accuracy@0.5": float(accuracy_score(y, p >= 0.5)),
        "f1@0.5": float(f1_score(y, p >= 0.5)),
        "precision@threshold": float(precision_score(y, decided, zero_division=0)),
        "recall@threshold": float(recall_score(y, decided, zero_division=0)),
    }


def card(version: str, sets: dict[str, Any], report: dict[str, Any], classifier: BotClassifier) -> str:
    sizes = {name: f"{len(y)} ({int(np.sum(y))} fake)" for name, (_, y) in sets.items()}
    lines = [
        f"# Bot/fake review filter `{version}`",
        "",
        "Per-document P(bot) from text, author behaviour and coordination (models/bots.py). Retrain with "
        "`python -m models.train`.",
        "",
        "## Data and split",
        "- Salminen et al. 2022 subset (original vs GPT-2 generated Amazon reviews): `dev` split 80/20 stratified "
        f"(seed {SEED}) into train/validation; `test` is reported below and never trained on.",
        "- Ott et al. deceptive opinion spam is not used here (its crowd-written hotel fiction does not transfer; "
        "bench/filter.py reports a 5-fold CV of the same text model on it).",
        "- YelpCHI train texts are human-written (2010), so they are extra negatives for the machine-text model; so "
        "are human reviews in other shapes and languages: MARC en (all of train), de/es/fr and the Russian book "
        "reviews (400 each of train), which keep it quiet on short everyday reviews and non-English text.",
        f"- YelpCHI slice (Yelp filter labels): products split 60/20/20 grouped (seed {SEED}).",
        "- YelpCHI records carry what an `onps score` line carries (author, product, rating, date, text): no "
        "per-user facts precomputed over the slice. An author's reviews in the stream (author_stream_reviews) is "
        "computed from the input itself. Author facts a source shows (review count, account age, verified) have "
        "no labelled data here and carry no weight in this model (the campaign detector uses them).",
        "- Coordination features (near-duplicates, shared phrasing, co-reviewing) and generic praise are computed but "
        "never vary in the labelled data, so they carry zero weight here; coordination acts through the copy-paste "
        "rule below and in the campaign detector (models/campaigns.py).",
        "",
        "| part | n |",
        "| --- | --- |",
        *[f"| {name} | {size} |" for name, size in sizes.items()],
        "",
        "## Copy-paste rule (not learned)",
        "Because the labelled data carries no review farms, `BotFilter.judge` adds a stated rule on top of the "
        "learned P(bot) (models/bots.py, models/similarity.py `same_source_copies`):",
        "- n = the number of OTHER authors who posted a copy of the review on the SAME source within "
        "`thresholds.bot_copy_days` (default 2) days. A copy is a MinHash near-duplicate (Jaccard >= 0.6 on word "
        "3-shingles) for texts of 8+ words; for shorter texts, the same words in the same order (case and "
        "punctuation ignored), counted only when the text has 5+ words or both accounts are new (review_count <= 1 "
        "or account_age_days <= 30). Undated reviews are never copies.",
        "- P(copy) = 1 - (1 - 0.9) ** (n / K) for n >= K = `thresholds.bot_copy_authors` (default 3), else 0; "
        "P(bot) = 1 - (1 - P_learned)(1 - P(copy)) (noisy-OR). At K copies P(copy) = 0.9, above the decision "
        'threshold, so a farm of K+1 accounts is flagged, with the evidence "near-duplicate of N reviews by other '
        'accounts on the same site within 2 days".',
        '- Copies on another source are syndication (the organic rules count them once) and never count; "very '
        'good" from established accounts never counts. Its effect is measured in tests/test_bots.py (demo recall, '
        "genuine and syndicated false flags, real Google Play stream).",
        "",
        "## Model",
        "- Machine-text model (models/machine_text.py): two n-gram logistic regressions, tf-idf hashed word "
        "1-2-grams with character 1-5-grams, and naive-Bayes-weighted binary word 1-3-grams; their out-of-fold "
        "log-odds stacked with whole-text style statistics (cut-off endings, repeated phrases, sentences glued "
        "without a space, sentence-length spread; models/text_signals.py) and the sentence-end rates of the text's "
        "last word and word pair (models/sentence_ends.py, counted in MARC en train and the English Metacritic / "
        "Rotten Tomatoes reviews) in a gradient-boosted top model; trained on Salminen train (generated vs "
        "original) plus the human negatives above, classes balanced.",
        "- Behaviour model: an additive logistic model (models/additive.py) on YelpCHI train over the features "
        "below; it takes part only for records that show an author, a rating or a date, so a bare text gets exactly "
        "its text verdict.",
        "- P(bot) = 1 - (1 - P(machine text)) * (1 - P(behaviour)) (noisy-OR), then the copy-paste rule above.",
        "",
        "## Features",
        ", ".join(classifier.feature_names),
        "",
        f"## Metrics (threshold {report['threshold']:.3f}, chosen on validation for precision {CARD_PRECISION})",
        "| set | n | AUC | acc@0.5 | F1@0.5 | precision@thr | recall@thr |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, m in report["sets"].items():
        lines.append(
            f"| {name} | {m['n']} | {m['roc_auc']:.3f} | {m['accuracy@0.5']:.3f} | {m['f1@0.5']:.3f} "
            f"| {m['precision@threshold']:.3f} | {m['recall@threshold']:.3f} |"
        )
    lines += [
        "",
        "Notes: the validation mix (Salminen ~50% fake, YelpCHI ~19% filtered) sets the threshold; real prevalence "
        "of bots differs by source, so precision in production differs. The YelpCHI label is Yelp's own filter, "
        "not ground truth.",
        "",
        f"Trained {report['trained_at']} on {report['machine']}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "artifacts")
    args = parser.parse_args(argv)
    console = Console()
    with console.status("reading ../shared/data"):
        sets = training_sets()
    with console.status("fitting text models (5-fold stacking) and the additive top model"):
        classifier = fit_packaged(sets)
    # to the minute: two retrains on one day are different models, and the nightly flow re-judges on a new name
    version = f"bot-filter-{datetime.now(UTC):%Y%m%d-%H%M}"
    val_rows = sets["salminen_val"][0] + sets["yelp_val"][0]
    val_y = np.concatenate([sets["salminen_val"][1], sets["yelp_val"][1]])
    with console.status("scoring validation and test"):
        val_p = classifier.predict_proba(val_rows)[:, 1]
        threshold = threshold_for_precision(val_p, val_y, CARD_PRECISION)
        report: dict[str, Any] = {
            "threshold": threshold,
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.machine()} {platform.system()}",
            "features": list(FEATURES),
            "sets": {"validation": metrics(val_p, val_y, threshold)},
        }
        for name in ("salminen_test", "yelp_test"):
            rows, y = sets[name]
            report["sets"][name] = metrics(classifier.predict_proba(rows)[:, 1], y, threshold)
    args.out.mkdir(parents=True, exist_ok=True)
    save_bot_filter(args.out / "bot_filter.joblib", classifier, val_p, val_y, version)
    (args.out / "bot_filter.card.md").write_text(card(version, sets, report, classifier))
    (args.out / "bot_filter.metrics.json").write_text(json.dumps(report, indent=2) + "\n")
    console.print(card(version, sets, report, classifier))


if __name__ == "__main__":
    main()
