"""Readers of the labelled and dated data in ../shared/data into document records (docs/CONTRACTS.md shape).

Training, evaluation and tests read the shared data; the product never does. Every reader raises a clear
error when the folder is missing, naming the path.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _need(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: training and evaluation need ../shared/data beside the repo")
    return path


def salminen(split: str) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Salminen et al. 2022 subset: original vs GPT-2 generated Amazon reviews; `split` is dev or test."""
    frame = pd.read_csv(_need(DATA / "salminen" / "salminen_subset.csv"))
    frame = frame[frame["split"] == split].reset_index(drop=True)
    records = [{"id": f"salminen-{split}-{i}", "text": t} for i, t in enumerate(frame["text"])]
    return records, frame["is_fake"].to_numpy(int)


def human_texts(per_language: int = 400, seed: int = 13) -> list[dict[str, Any]]:
    """Human-written reviews in several languages (MARC en/de/es/fr and the Russian book reviews, train splits).

    Negatives for the machine-text model: ordinary short reviews (no final full stop, a lower-case start) and
    languages the generated corpus lacks must read as human. English is taken whole, others `per_language` each.
    """
    from nlp import corpora as nlp_corpora

    rng = np.random.default_rng(seed)
    parts = [("en", nlp_corpora.marc("en", "train").texts)]
    parts += [(lang, nlp_corpora.marc(lang, "train").texts) for lang in ("de", "es", "fr")]
    parts.append(("ru", nlp_corpora.ru_reviews("train").texts))
    records = []
    for lang, texts in parts:
        keep = range(len(texts)) if lang == "en" else rng.choice(len(texts), min(per_language, len(texts)), False)
        records += [{"id": f"human-{lang}-{i}", "text": texts[i]} for i in sorted(keep)]
    return records


def sentence_reference() -> list[str]:
    """Human-written English reviews to count sentence ends in (models.sentence_ends): MARC en train and the
    English Metacritic / Rotten Tomatoes user reviews but those of the control titles held out for the false-flag
    bench (`bombing_controls`), over 100k texts (only where their sentences end is used, never their ratings or
    dates, which the bombing bench reads). The streams the injection harness plants into and the Datafiniti
    products checked for false flags are left out too, so no text there helps its own verdict."""
    from nlp import corpora as nlp_corpora

    bombing = review_bombing()
    held = set(bombing_controls()[1]["of_title"])
    keep = bombing["is_english"].astype(bool) & ~bombing["of_title"].isin(held)
    english = bombing.loc[keep, "review"].dropna().astype(str)
    return list(nlp_corpora.marc("en", "train").texts) + english.tolist()


def ott() -> tuple[list[dict[str, Any]], np.ndarray]:
    """Ott et al. deceptive opinion spam: 1,600 Chicago hotel reviews, deceptive = 1."""
    frame = pd.read_csv(_need(DATA / "ott" / "deceptive-opinion.csv"))
    records = [
        {"id": f"ott-{i}", "text": t, "entity": h}
        for i, (t, h) in enumerate(zip(frame["text"], frame["hotel"], strict=True))
    ]
    return records, (frame["deceptive"] == "deceptive").to_numpy(int)


def yelpchi() -> tuple[list[dict[str, Any]], np.ndarray, np.ndarray]:
    """YelpCHI slice with Yelp's filter label, each review as an `onps score` line carries it.

    Author, product, rating, date and text only: no per-user facts computed over the whole slice (its
    `review_count` once stood in for what a site shows, which no input line of a held-out product carries), so
    every behaviour feature the model learns from is one the contract's JSONL gives. Returns records, labels and
    the product of each (for grouped splits).
    """
    frame = pd.read_csv(_need(DATA / "yelpchi" / "yelpchi_reviews.csv"))
    rows: Iterable[Any] = frame.itertuples()  # a CSV's cells, which pandas types as any scalar
    records = [
        {
            "id": str(row.review_id),
            "text": str(row.text),
            "author": f"yelp-{row.user_id}",
            "entity": f"yelp-{row.product_id}",
            "rating": float(row.rating),
            "rating_scale": 5.0,
            "published_at": pd.Timestamp(row.date).isoformat(),
        }
        for row in rows
    ]
    return records, frame["label"].to_numpy(int), frame["product_id"].to_numpy()


def review_bombing() -> pd.DataFrame:
    """Metacritic / Rotten Tomatoes user reviews of 21 titles (3 bombed, 18 controls), one row per review."""
    frame = pd.read_csv(_need(DATA / "review-bombing-mc-rt" / "reviews.csv.gz"))
    frame["rating_0_10"] = frame["score"] / frame["scale_max"] * 10.0
    return frame


def bombing_controls(seed: int = 13) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Metacritic / Rotten Tomatoes reviews of the 18 titles nobody bombed, split by title (seeded halves).

    Ordinary people writing about films and games, a domain the generated corpus lacks: the first half are human
    negatives for the machine-text model, the second half is where bench/filter.py counts false flags."""
    frame = review_bombing()
    frame = frame[~frame["bombing_target"].astype(bool) & frame["of_title"].notna()]
    titles = np.array(sorted(frame["of_title"].unique()))
    order = np.random.default_rng(seed).permutation(len(titles))
    trained = set(titles[order[: len(titles) // 2]])
    mask = frame["of_title"].isin(trained)
    return frame[mask].reset_index(drop=True), frame[~mask].reset_index(drop=True)


def streams() -> dict[str, list[dict[str, Any]]]:
    """Real dated per-entity review streams (Amazon 5-core, Google Play, Datafiniti, Trustpilot), by entity."""
    out: dict[str, list[dict[str, Any]]] = {}

    def add(entity: str, record: dict[str, Any]) -> None:
        out.setdefault(entity, []).append(record)

    row: Any  # a CSV row (tuple or dict), whose cells pandas types as any scalar
    amazon = pd.read_csv(_need(DATA / "amazon-5core-small" / "amazon_5core_small.csv.gz"))
    for i, row in enumerate(amazon.itertuples()):
        add(
            f"amazon:{row.asin}",
            {
                "id": f"amz-{i}",
                "author": str(row.reviewerID),
                "text": str(row.reviewText),
                "rating": float(row.overall),
                "rating_scale": 5.0,
                "published_at": pd.Timestamp(int(row.unixReviewTime), unit="s").isoformat(),
                "author_facts": {"verified": bool(row.verified)},
            },
        )
    chat = pd.read_csv(_need(DATA / "gplay-chatgpt-stream" / "gplay_reviews_chatgpt_like_app.csv.gz"))
    for row in chat.itertuples():
        add(
            "gplay:chat-app",
            {
                "id": str(row.review_id),
                "author": str(row.user_name),
                "text": str(row.review_text),
                "rating": float(row.rating),
                "rating_scale": 5.0,
                "published_at": pd.Timestamp(row.review_time).isoformat(),
            },
        )
    banks = pd.read_csv(_need(DATA / "gplay-ethiopian-banks" / "gplay_bank_reviews.csv"))
    for row in banks.itertuples():
        add(
            f"gplay:{row.bank_code}",
            {
                "id": f"bank-{row.review_id}",
                "author": None,
                "text": str(row.review_text),
                "rating": float(row.rating),
                "rating_scale": 5.0,
                "published_at": pd.Timestamp(row.review_date).isoformat(),
            },
        )
    devices = pd.read_csv(
        _need(DATA / "datafiniti-samples" / "Datafiniti_Amazon_Consumer_Reviews_of_Amazon_Products.csv")
    )
    for i, row in enumerate(devices.to_dict("records")):
        add(
            f"datafiniti:{row['asins']}",
            {
                "id": f"dfa-{i}",
                "author": str(row["reviews.username"]),
                "text": str(row["reviews.text"]),
                "rating": float(row["reviews.rating"]),
                "rating_scale": 5.0,
                "published_at": pd.Timestamp(row["reviews.date"]).isoformat(),
            },
        )
    trust = pd.read_csv(_need(DATA / "trustpilot-keytrade-raw" / "reviews_flat.csv"))
    for row in trust.to_dict("records"):
        add(
            "trustpilot:keytrade",
            {
                "id": f"tp-{row['id']}",
                "author": str(row["consumer.id"]),
                "text": str(row["text"]),
                "rating": float(row["rating"]),
                "rating_scale": 5.0,
                "published_at": pd.Timestamp(row["dates.publishedDate"]).isoformat(),
                "author_facts": {"review_count": int(row["consumer.numberOfReviews"])},
            },
        )
    for records in out.values():
        records.sort(key=lambda r: r["published_at"])
    return out
