"""Near-duplicates and shared phrasing across a batch, found with MinHash LSH (datasketch).

Exact pairwise comparison is quadratic; LSH finds the candidate pairs in about linear time and the MinHash
estimate of Jaccard similarity verifies them. Very short texts ("very good") are skipped: thousands of people
write them independently, so their repetition says nothing about coordination.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash, MinHashLSH

from models.text_signals import words

NUM_PERM = 64
SHINGLE = 3
MIN_WORDS = 8
SHARED_PHRASING_JACCARD = 0.3
NEAR_DUPLICATE_JACCARD = 0.6


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
