"""Per-document features computed over a batch: author behaviour and coordination need the other documents.

Every feature is NaN when the input does not show what it needs (no author, no rating, no author facts, no
date): the additive model then adds exactly nothing for it, so an absent field cannot push a verdict either way.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from itertools import combinations
from typing import Any

import numpy as np

from models.similarity import overlaps
from models.text_signals import is_generic, stock_share, words
from nps.ratings import record_rating_0_10
from nps.record import parse_time

# Features that need an author, a rating or a date: when a record shows none of them the behaviour model
# takes no part (its intercept is YelpCHI's base rate, which says nothing about a bare text).
BEHAVIOUR: tuple[str, ...] = (
    "author_review_count",
    "author_stream_reviews",
    "author_max_per_day",
    "rating_extremity",
    "rating_deviation",
    "co_reviewing_authors",
    "author_extreme_share",
    "rating_signed_deviation",
    "entity_rank",
    "entity_days",
    "entity_volume",
)
FEATURES: tuple[str, ...] = (
    "stock_words",
    "generic_praise",
    "length_words",
    "near_duplicate_authors",
    "shared_phrasing_authors",
    *BEHAVIOUR,
)
CO_REVIEW_DAYS = 2
MIN_ENTITY_RATINGS = 3
NEW_ACCOUNT_DAYS = 30


def rating_0_10(record: Mapping[str, Any]) -> float | None:
    """The record's native rating on 0-10 (nps.ratings, the rule the store uses too), else its derived score.

    Read from ``rating`` and ``rating_scale``, never from a stored ``rating_0_10``, so training on raw ratings
    and judging stored rows cannot drift apart."""
    rating = record_rating_0_10(record)
    if rating is not None:
        return rating
    score = record.get("score")
    return float(score) if score is not None else None


def _facts(record: Mapping[str, Any]) -> Mapping[str, Any]:
    facts = record.get("author_facts")
    return facts if isinstance(facts, Mapping) else {}


def account_is_new(record: Mapping[str, Any]) -> bool | None:
    """True when the source shows a one-review account or one at most NEW_ACCOUNT_DAYS old; None when the source
    shows neither fact (the campaign detector treats unknown apart from established)."""
    facts = _facts(record)
    age, count = facts.get("account_age_days"), facts.get("review_count")
    if age is None and count is None:
        return None
    return bool((age is not None and float(age) <= NEW_ACCOUNT_DAYS) or (count is not None and float(count) <= 1))


def declared_bot(record: Mapping[str, Any]) -> bool:
    """True when the account says it is automated (Mastodon's ``bot`` flag in ``author_facts``): a bot by its own
    declaration, whatever its texts look like."""
    return _facts(record).get("bot") is True


def is_new_account(record: Mapping[str, Any]) -> bool:
    """`account_is_new`, with unknown read as not new."""
    return account_is_new(record) is True


def _log1p(value: float | None) -> float:
    return math.log1p(value) if value is not None and value >= 0 else math.nan


def batch_features(records: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Feature matrix (len(records) x len(FEATURES)), NaN where the batch does not show the needed fields."""
    n = len(records)
    out = np.full((n, len(FEATURES)), np.nan)
    col = {name: i for i, name in enumerate(FEATURES)}
    texts = [str(r.get("text") or "") for r in records]
    authors = [str(r["author"]) if r.get("author") else None for r in records]
    entities = [str(r["entity"]) if r.get("entity") else None for r in records]
    times = [parse_time(r.get("published_at")) for r in records]
    days = [t.date() if t else None for t in times]
    ratings = [rating_0_10(r) for r in records]

    for i, text in enumerate(texts):
        out[i, col["stock_words"]] = stock_share(text)
        out[i, col["generic_praise"]] = float(is_generic(text))
        out[i, col["length_words"]] = math.log1p(len(words(text)))
        count = _facts(records[i]).get("review_count")
        out[i, col["author_review_count"]] = _log1p(float(count)) if count is not None else math.nan
        if (rating := ratings[i]) is not None:
            out[i, col["rating_extremity"]] = abs(rating - 5.0) / 5.0

    overlap = overlaps(texts, authors)
    out[:, col["near_duplicate_authors"]] = np.log1p(overlap.near_duplicate_authors)
    out[:, col["shared_phrasing_authors"]] = np.log1p(overlap.shared_phrasing_authors)

    per_author = Counter(a for a in authors if a)
    for i, author in enumerate(authors):
        if author:
            out[i, col["author_stream_reviews"]] = math.log1p(per_author[author])

    per_author_day = Counter((a, d) for a, d in zip(authors, days, strict=True) if a and d)
    max_per_day: dict[str, int] = defaultdict(int)
    for (author, _), count in per_author_day.items():
        max_per_day[author] = max(max_per_day[author], count)
    for i, author in enumerate(authors):
        if author and days[i]:
            out[i, col["author_max_per_day"]] = math.log(max_per_day[author])

    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for entity, rating in zip(entities, ratings, strict=True):
        if entity and rating is not None:
            sums[entity][0] += rating
            sums[entity][1] += 1
    for i, (entity, rating) in enumerate(zip(entities, ratings, strict=True)):
        if entity and rating is not None and sums[entity][1] - 1 >= MIN_ENTITY_RATINGS:
            mean_others = (sums[entity][0] - rating) / (sums[entity][1] - 1)
            out[i, col["rating_deviation"]] = abs(rating - mean_others) / 10.0

    extreme: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for author, rating in zip(authors, ratings, strict=True):
        if author and rating is not None:
            extreme[author][0] += rating in (0.0, 10.0)
            extreme[author][1] += 1
    for i, author in enumerate(authors):
        if author and ratings[i] is not None:
            out[i, col["author_extreme_share"]] = extreme[author][0] / extreme[author][1]
    for i, (entity, rating) in enumerate(zip(entities, ratings, strict=True)):
        if entity and rating is not None and sums[entity][1] - 1 >= MIN_ENTITY_RATINGS:
            out[i, col["rating_signed_deviation"]] = (rating - sums[entity][0] / sums[entity][1]) / 10.0
    stream_position(out, col, entities, times)

    co = co_reviewers(authors, entities, days)
    for i, author in enumerate(authors):
        if author and entities[i] and days[i]:
            out[i, col["co_reviewing_authors"]] = math.log1p(co.get(author, 0))
    return out


def stream_position(
    out: np.ndarray, col: Mapping[str, int], entities: Sequence[str | None], times: Sequence[datetime | None]
) -> None:
    """Fill the entity-stream columns in place: where a review stands in its entity's dated stream in the batch.

    Early reviews of an entity (low rank, few days after its first review) and busy entities are where Yelp's
    filter acts most (Mukherjee et al. 2013; Rayana & Akoglu 2015). Rank and days look only backwards (what the
    stream showed when the review came); volume is the entity's dated reviews in the batch.
    """
    by_entity: dict[str, list[tuple[int, datetime]]] = defaultdict(list)
    for i, (entity, moment) in enumerate(zip(entities, times, strict=True)):
        if entity and moment:
            by_entity[entity].append((i, moment))
    for members in by_entity.values():
        ordered = sorted(moment for _, moment in members)
        first = ordered[0]
        for i, moment in members:
            rank = bisect_left(ordered, moment)  # reviews strictly earlier: ties share a rank, in any order
            out[i, col["entity_rank"]] = math.log1p(rank)
            out[i, col["entity_days"]] = math.log1p((moment - first).total_seconds() / 86400.0)
            out[i, col["entity_volume"]] = math.log(len(members))


def co_reviewers(
    authors: Sequence[str | None], entities: Sequence[str | None], days: Sequence[date | None]
) -> dict[str, int]:
    """Per author, how many other authors reviewed at least two of the same entities within a few days of them.

    Only authors with two or more entities in the batch can qualify, which keeps the pair count small even on
    dense single-entity streams.
    """
    seen: dict[str, dict[str, date]] = defaultdict(dict)
    for author, entity, day in zip(authors, entities, days, strict=True):
        if author and entity and day:
            seen[author][entity] = min(day, seen[author].get(entity, day))
    multi = {a: e for a, e in seen.items() if len(e) >= 2}
    by_entity: dict[str, list[tuple[str, date]]] = defaultdict(list)
    for author, per_entity in multi.items():
        for entity, day in per_entity.items():
            by_entity[entity].append((author, day))
    shared: Counter[tuple[str, str]] = Counter()
    for members in by_entity.values():
        for (a, da), (b, db) in combinations(sorted(members), 2):
            if abs((da - db).days) <= CO_REVIEW_DAYS:
                shared[(a, b)] += 1
    partners: Counter[str] = Counter()
    for (a, b), count in shared.items():
        if count >= 2:
            partners[a] += 1
            partners[b] += 1
    return dict(partners)
