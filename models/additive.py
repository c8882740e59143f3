"""An additive logistic model whose per-feature contributions are the evidence, and absent features add zero.

Each feature enters either linearly (standardised) or through quantile bins (one-hot), so effects can bend
(a review count of 1 is suspicious, 2 much less, 50 not at all) while the model stays a sum of per-feature
terms. After fitting, every term is centred on its mean over the training rows where the feature was present:
a feature the input lacks then contributes exactly 0, the same as an average value, and cannot push a verdict.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression


class AdditiveLogit(ClassifierMixin, BaseEstimator):
    """Logistic regression on binned/linear features with NaN meaning "not shown"; see module docstring."""

    def __init__(self, n_bins: int = 8, linear: Sequence[int] = (), C: float = 1.0):
        self.n_bins = n_bins
        self.linear = linear
        self.C = C

    def _design(self, X: np.ndarray) -> sparse.csr_matrix:
        blocks = []
        for j in range(X.shape[1]):
            column = X[:, j]
            present = ~np.isnan(column)
            if j in self.linear:
                z = np.where(present, (np.nan_to_num(column) - self.means_[j]) / self.scales_[j], 0.0)
                blocks.append(sparse.csr_matrix(z.reshape(-1, 1)))
                continue
            width = len(self.edges_[j]) + 1
            rows = np.flatnonzero(present)
            bins = np.searchsorted(self.edges_[j], column[present], side="right")
            blocks.append(sparse.csr_matrix((np.ones(len(rows)), (rows, bins)), shape=(len(column), width)))
        return sparse.hstack(blocks).tocsr()

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> AdditiveLogit:
        X = np.asarray(X, dtype=float)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        self.n_features_in_ = X.shape[1]
        self.means_ = np.zeros(X.shape[1])
        self.scales_ = np.ones(X.shape[1])
        self.edges_: list[np.ndarray] = []
        for j in range(X.shape[1]):
            values = X[~np.isnan(X[:, j]), j]
            if j in self.linear and len(values):
                self.means_[j] = values.mean()
                self.scales_[j] = values.std() or 1.0
            qs = np.quantile(values, np.linspace(0, 1, self.n_bins + 1)[1:-1]) if len(values) else []
            self.edges_.append(np.unique(qs))
        design = self._design(X)
        self.lr_ = LogisticRegression(C=self.C, max_iter=2000).fit(design, y, sample_weight=sample_weight)
        coef = self.lr_.coef_[0].copy()
        self.intercept_ = float(self.lr_.intercept_[0])
        self.slices_ = []
        start = 0
        for j in range(X.shape[1]):
            width = 1 if j in self.linear else len(self.edges_[j]) + 1
            self.slices_.append(slice(start, start + width))
            start += width
        # Centre each term on its mean where present, moving the mean into the intercept.
        raw = self._terms(design, coef)
        for j in range(X.shape[1]):
            present = ~np.isnan(X[:, j])
            if j in self.linear or not present.any():
                continue
            shift = raw[present, j].mean()
            coef[self.slices_[j]] -= shift
            self.intercept_ += shift
        self.coef_ = coef
        return self

    def _terms(self, design: sparse.csr_matrix, coef: np.ndarray) -> np.ndarray:
        return np.column_stack([design[:, s] @ coef[s] for s in self.slices_])

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Per-row, per-feature log-odds terms; 0 wherever the feature is NaN."""
        X = np.asarray(X, dtype=float)
        terms = self._terms(self._design(X), self.coef_)
        return np.where(np.isnan(X), 0.0, terms)

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return self.intercept_ + self.contributions(X).sum(axis=1)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1 - p, p])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]
