"""Text features for the scorer heads, as scikit-learn transformers so each head is one fitted Pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

from nlp.static import StaticEncoder

STATIC_ARTIFACT = Path(__file__).resolve().parent / "artifacts" / "static-e5.npz"


def char_tfidf(max_features: int = 150_000) -> TfidfVectorizer:
    """Character 1-5-grams inside word boundaries: language-agnostic, robust to typos and inflection."""
    return TfidfVectorizer(
        analyzer="char_wb", ngram_range=(1, 5), min_df=2, max_features=max_features, sublinear_tf=True,
        dtype=np.float32,
    )


class StaticVectors(TransformerMixin, BaseEstimator):
    """The distilled multilingual static embedding of each text (see nlp.static), scaled to weigh like TF-IDF.

    The vectors are loaded from the packaged artifact, not pickled into the head, so the head stays small.
    """

    def __init__(self, weight: float = 1.0) -> None:
        self.weight = weight

    def fit(self, texts: Sequence[str], y: object = None) -> StaticVectors:
        encoded = self._encoder().encode(list(texts))
        self.scale_ = float(np.linalg.norm(encoded, axis=1).mean() or 1.0)
        return self

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        encoded = self._encoder().encode(list(texts)) * (self.weight / self.scale_)
        return sparse.csr_matrix(encoded)

    def _encoder(self) -> StaticEncoder:
        if not hasattr(self, "_cached"):
            self._cached = StaticEncoder.load(STATIC_ARTIFACT)
        return self._cached

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_cached"}


def static_union(weight: float, max_features: int = 150_000) -> FeatureUnion:
    return FeatureUnion([("chars", char_tfidf(max_features)), ("static", StaticVectors(weight))])
