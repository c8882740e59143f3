"""Readers for the labelled corpora in ``../shared/data`` that training and the benchmark use.

Only training (``nlp.train``, ``nlp.distil``) and ``bench/score.py`` import this module: the product itself never
reads ``../shared``. Each reader returns plain lists so callers need no pandas types.
"""

from __future__ import annotations

import csv
import gzip
import os
from dataclasses import dataclass
from pathlib import Path

SHARED_DATA = Path(os.environ.get("ONPS_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
MARC_LANGS = ("de", "en", "fr", "es")
MARC_SEEDS = (21, 42, 87, 100)  # marc-seeds/: four more k-shot samples of MARC train (marc/ is seed 13)


@dataclass(frozen=True)
class Labelled:
    """Texts with a numeric label (stars for rating sets, -1/0/1 for polarity sets) and a language code."""

    texts: list[str]
    labels: list[float]
    langs: list[str]


def _need(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: training needs ../shared/data (or set ONPS_SHARED_DATA)")
    return path


def _csv_rows(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(_need(path), "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def marc(lang: str, split: str) -> Labelled:
    """MARC k-shot subset; ``split`` is train, dev or test; labels are stars 1-5."""
    rows = _csv_rows(SHARED_DATA / "marc" / f"{lang}_{split}.csv")
    return Labelled([r["text"] for r in rows], [float(r["stars"]) for r in rows], [lang] * len(rows))


def marc_seeds(lang: str, split: str, seeds: tuple[int, ...] = MARC_SEEDS) -> Labelled:
    """The extra MARC train samples of ``marc-seeds/`` (train or dev half of each seed), already deduplicated
    against ``marc/`` and every MARC test review (its SOURCE): training and tuning rows only."""
    rows = [r for seed in seeds for r in _csv_rows(SHARED_DATA / "marc-seeds" / f"{lang}_seed{seed}_{split}.csv")]
    return Labelled([r["text"] for r in rows], [float(r["stars"]) for r in rows], [lang] * len(rows))


def ru_reviews(split: str) -> Labelled:
    """Russian book reviews; ratings 0-5 in half stars, clipped to 1-5 as stars."""
    rows = _csv_rows(SHARED_DATA / "ru-reviews" / "ru_book_reviews.csv")
    rows = [r for r in rows if r["split"] == split and r["rating"]]
    stars = [min(5.0, max(1.0, float(r["rating"]))) for r in rows]
    return Labelled([r["text"] for r in rows], stars, ["ru"] * len(rows))


def _polarity_tsv(path: Path, text_col: int, label_col: int, has_header: bool) -> Labelled:
    polarity = {"positive": 1.0, "neutral": 0.0, "negative": -1.0}
    texts, labels = [], []
    with open(_need(path), encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        if has_header:
            next(reader)
        for row in reader:
            if len(row) > max(text_col, label_col) and row[label_col] in polarity:
                texts.append(row[text_col])
                labels.append(polarity[row[label_col]])
    return Labelled(texts, labels, ["de"] * len(texts))


def holidaycheck() -> Labelled:
    """German hotel reviews, positive/negative (Guhr et al. 2020)."""
    return _polarity_tsv(SHARED_DATA / "german-sentiment" / "holidaycheck.china.sampled.edited.tsv", 2, 1, True)


def filmstarts() -> Labelled:
    """German film reviews, positive/negative/neutral (Guhr et al. 2020)."""
    return _polarity_tsv(SHARED_DATA / "german-sentiment" / "filmstarts.sampled.tsv", 2, 1, True)


def germeval(split: str) -> Labelled:
    """GermEval 2017 Deutsche Bahn feedback; ``split`` is dev or test."""
    return _polarity_tsv(SHARED_DATA / "germeval2017-db" / f"germeval2017_{split}.tsv", 1, 3, False)


def sb10k_texts() -> list[str]:
    """German tweets (SB10k), used unlabelled: only to widen the static vocabulary."""
    return _polarity_tsv(SHARED_DATA / "german-sentiment" / "sb10k_corpus_v1.0.cgsa.tsv", 2, 1, False).texts


def afinn_da() -> dict[str, float]:
    """AFINN-da word polarity -5..5 (Danish), the proxy check for Danish scoring."""
    out: dict[str, float] = {}
    with open(_need(SHARED_DATA / "da-sentiment-lexicons" / "AFINN-da-32.txt"), encoding="utf-8") as handle:
        for line in handle:
            word, _, value = line.rstrip("\n").rpartition("\t")
            if word:
                out[word] = float(value)
    return out


def danish_lexicon_words() -> list[str]:
    """Every headword of the Danish lexicons (unlabelled use: widening the static vocabulary)."""
    folder = SHARED_DATA / "da-sentiment-lexicons"
    words = list(afinn_da())
    words += [r["word"] for r in _csv_rows(folder / "sentidav2_lemmas.csv")]
    with open(_need(folder / "dsl_headword_polarity.csv"), encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            if len(row) >= 6:
                words += row[5].split(";")[:2]
    return words
