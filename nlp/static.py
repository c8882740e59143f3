"""A static (word-vector) multilingual text encoder: the mean of per-word vectors distilled from multilingual-e5.

Why: a transformer is ~25 texts/s on two cores; a static model keeps most of its cross-lingual knowledge (a Danish
word lands near its German/English synonyms) at tens of thousands of texts per second. ``nlp.distil`` builds it
(the model2vec idea, with words instead of sub-word tokens because the e5 engine here exposes no tokenizer).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def words(text: str) -> list[str]:
    """Lower-cased alphabetic words: the unit the static vectors are keyed by."""
    return WORD.findall(text.lower())


class StaticEncoder:
    """Maps a text to the weighted mean of its known words' vectors (zeros when no word is known)."""

    def __init__(self, vocab: Sequence[str], vectors: np.ndarray, weights: np.ndarray) -> None:
        self.index = {w: i for i, w in enumerate(vocab)}
        self.vectors = vectors.astype(np.float32)
        self.weights = weights.astype(np.float32)
        self.dim = self.vectors.shape[1]

    @classmethod
    def load(cls, path: Path) -> StaticEncoder:
        with np.load(path, allow_pickle=False) as data:
            return cls(list(data["vocab"]), data["vectors"], data["weights"])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = [i for i in (self.index.get(w) for w in words(text)) if i is not None]
            if ids:
                w = self.weights[ids]
                out[row] = (w[:, None] * self.vectors[ids]).sum(axis=0) / w.sum()
        return out
