"""Near-duplicates and shared phrasing across a batch, found with MinHash LSH (datasketch).

Exact pairwise comparison is quadratic; LSH finds the candidate pairs in about linear time and the MinHash
estimate of Jaccard similarity verifies them. Very short texts ("very good") are skipped: thousands of people
write them independently, so their repetition says nothing about coordination.

`same_source_copies` is the one exception, for the bot filter's copy-paste rule: there a short text counts when
it is repeated word for word (after lower-casing and dropping punctuation) on the SAME source within a few days,
and it is either at least EXACT_MIN_WORDS words long or written by new / one-review accounts on both sides.
"Very good" from established accounts never counts; copies on another source are syndication, never counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from datasketch import MinHash, MinHashLSH

from models.text_signals import words

NUM_PERM = 64
SHINGLE = 3
MIN_WORDS = 8
SHARED_PHRASING_JACCARD = 0.3
NEAR_DUPLICATE_JACCARD = 0.6
EXACT_MIN_WORDS = 5


@dataclass(frozen=True)
class Overlap:
    """For each document: how many OTHER authors wrote a near-duplicate, and how many share phrasing with it."""

    near_duplicate_authors: np.ndarray
    shared_phrasing_authors: np.ndarray


def _shingles(text: str) -> set[bytes]:
    tokens = words(text)
    return {" ".join(tokens[i : i + SHINGLE]).encode() for i in range(len(tokens) - SHINGLE + 1)}


def overlaps(texts: Sequence[str], authors: Sequence[str | None]) -> Overlap:
    """Count, per document, the distinct other authors whose text overlaps it (unknown authors count apart)."""
    n = len(texts)
    near = np.zeros(n)
    shared = np.zeros(n)
    keep = [i for i, t in enumerate(texts) if len(words(t)) >= MIN_WORDS]
    if len(keep) < 2:
        return Overlap(near, shared)
    sets = [_shingles(texts[i]) for i in keep]
    hashes = MinHash.bulk(sets, num_perm=NUM_PERM)
    lsh = MinHashLSH(threshold=SHARED_PHRASING_JACCARD, num_perm=NUM_PERM)
    for j, h in enumerate(hashes):
        lsh.insert(j, h)
    owner = [authors[i] if authors[i] else f"\x00doc{i}" for i in keep]
    for j, h in enumerate(hashes):
        near_by: set[str] = set()
        shared_by: set[str] = set()
        for k in lsh.query(h):
            if k == j or owner[k] == owner[j]:
                continue
            similarity = h.jaccard(hashes[k])
            if similarity >= SHARED_PHRASING_JACCARD:
                shared_by.add(owner[k])
            if similarity >= NEAR_DUPLICATE_JACCARD:
                near_by.add(owner[k])
        near[keep[j]] = len(near_by)
        shared[keep[j]] = len(shared_by)
    return Overlap(near, shared)


def near_duplicate_pairs(texts: Sequence[str], authors: Sequence[str | None]) -> list[tuple[int, int]]:
    """Index pairs (i < j) of near-duplicate texts by different (or unknown) authors."""
    keep = [i for i, t in enumerate(texts) if len(words(t)) >= MIN_WORDS]
    if len(keep) < 2:
        return []
    hashes = MinHash.bulk([_shingles(texts[i]) for i in keep], num_perm=NUM_PERM)
    lsh = MinHashLSH(threshold=NEAR_DUPLICATE_JACCARD, num_perm=NUM_PERM)
    for j, h in enumerate(hashes):
        lsh.insert(j, h)
    pairs = []
    for j, h in enumerate(hashes):
        for k in lsh.query(h):
            a, b = keep[j], keep[k]
            if (
                a < b
                and (authors[a] is None or authors[a] != authors[b])
                and h.jaccard(hashes[k]) >= NEAR_DUPLICATE_JACCARD
            ):
                pairs.append((a, b))
    return pairs


def same_source_copies(
    texts: Sequence[str],
    authors: Sequence[str | None],
    sources: Sequence[str | None],
    times: Sequence[datetime | None],
    new_accounts: Sequence[bool],
    window_days: float,
) -> np.ndarray:
    """Per document, how many OTHER authors posted a copy of it on the same source within `window_days`.

    A copy is a near-duplicate (MinHash Jaccard >= NEAR_DUPLICATE_JACCARD) for texts of MIN_WORDS words or more;
    for shorter texts, the same words in the same order, counted only when the text has EXACT_MIN_WORDS words or
    both accounts are new (`new_accounts`). Undated documents are never copies (they cannot be placed in a
    window); documents without a source share one (the batch is then the only context there is).
    """
    n = len(texts)
    found: list[set[str]] = [set() for _ in range(n)]
    owner = [a if a else f"\x00doc{i}" for i, a in enumerate(authors)]
    tokens = [words(t) for t in texts]
    window = window_days * 86400.0

    def close(i: int, j: int) -> bool:
        at_i, at_j = times[i], times[j]
        return (
            owner[i] != owner[j]
            and sources[i] == sources[j]
            and at_i is not None
            and at_j is not None
            and abs((at_i - at_j).total_seconds()) <= window
        )

    groups: dict[tuple[str | None, tuple[str, ...]], list[int]] = defaultdict(list)
    for i, toks in enumerate(tokens):
        if toks and len(toks) < MIN_WORDS and times[i] is not None:
            groups[(sources[i], tuple(toks))].append(i)
    for (_, short_text), members in groups.items():
        if len(members) < 2:
            continue
        for i in members:
            for j in members:
                if close(i, j) and (len(short_text) >= EXACT_MIN_WORDS or (new_accounts[i] and new_accounts[j])):
                    found[i].add(owner[j])

    keep = [i for i, toks in enumerate(tokens) if len(toks) >= MIN_WORDS and times[i] is not None]
    if len(keep) >= 2:
        hashes = MinHash.bulk([_shingles(texts[i]) for i in keep], num_perm=NUM_PERM)
        lsh = MinHashLSH(threshold=NEAR_DUPLICATE_JACCARD, num_perm=NUM_PERM)
        for j, h in enumerate(hashes):
            lsh.insert(j, h)
        for j, h in enumerate(hashes):
            for k in lsh.query(h):
                a, b = keep[j], keep[k]
                if close(a, b) and h.jaccard(hashes[k]) >= NEAR_DUPLICATE_JACCARD:
                    found[a].add(owner[b])
    return np.array([len(f) for f in found], dtype=float)
