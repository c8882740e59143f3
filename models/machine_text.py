"""The machine-generated-text model: two n-gram models stacked with whole-text style statistics and, when a
reference of human sentence ends is given, how plausibly the text's last words end a sentence.

Why stacked: the n-gram models see local wording ("is well told", "to \\x03" at a cut-off end), the style
statistics (models.text_signals.STYLE_FEATURES) see what only the whole text shows (its own phrases repeated,
sentences glued without a space, an ending mid-sentence, flat sentence lengths), and the sentence-end rates
(models.sentence_ends) tell a text cut off by a length limit from one whose writer just skipped the full stop.
A gradient-boosted top model over the n-gram models' out-of-fold log-odds and those statistics learns how they
interact (a short text that ends mid-sentence is a stronger sign than either alone). The two n-gram models
differ in kind: tf-idf weighted word and character n-grams, and binary word 1-3-grams weighted by their naive
Bayes log-count ratio (Wang & Manning 2012, "NBSVM"), which trusts rare but one-sided phrases more.
Nested 5-fold CV on the Salminen `dev` split (accuracy): tf-idf n-grams alone 0.927, with style statistics
0.952, with the naive Bayes n-grams and sentence ends 0.957 (bench/filter.py reports the test split).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline, make_pipeline, make_union

from models.sentence_ends import SentenceEnds
from models.text_signals import mark_edges, style_features


def text_pipeline(C: float = 10.0, word_bits: int = 18, char_bits: int = 19) -> Pipeline:
    """Word 1-2-grams and case-kept character 1-5-grams, hashed so the artifact carries no vocabulary."""
    word = HashingVectorizer(
        ngram_range=(1, 2),
        lowercase=False,
        token_pattern=r"\S+",
        preprocessor=mark_edges,
        n_features=2**word_bits,
        alternate_sign=False,
        norm=None,
    )
    char = HashingVectorizer(
        analyzer="char",
        ngram_range=(1, 5),
        lowercase=False,
        preprocessor=mark_edges,
        n_features=2**char_bits,
        alternate_sign=False,
        norm=None,
    )
    return make_pipeline(
        make_union(
            make_pipeline(word, TfidfTransformer(sublinear_tf=True)),
            make_pipeline(char, TfidfTransformer(sublinear_tf=True)),
        ),
        LogisticRegression(C=C, max_iter=3000, class_weight="balanced"),
    )


class NaiveBayesWeights(TransformerMixin, BaseEstimator):
    """Scale each (binary) feature by its naive Bayes log-count ratio log(P(f | machine) / P(f | human)).

    `alpha` is the add-alpha smoothing of both classes' feature counts; fit on the training fold only."""

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def fit(self, X: sparse.csr_matrix, y: Sequence[int] | np.ndarray) -> NaiveBayesWeights:
        y = np.asarray(y)
        machine = np.asarray(X[y == 1].sum(axis=0)).ravel() + self.alpha
        human = np.asarray(X[y == 0].sum(axis=0)).ravel() + self.alpha
        self.ratio_ = np.log(machine / machine.sum()) - np.log(human / human.sum())
        return self

    def transform(self, X: sparse.csr_matrix) -> sparse.csr_matrix:
        return sparse.csr_matrix(X.multiply(self.ratio_))


def _lower_edges(text: str) -> str:
    return mark_edges(text).lower()


def naive_bayes_pipeline(C: float = 4.0, bits: int = 19) -> Pipeline:
    """Binary lower-cased word 1-3-grams (edges marked), NB-weighted, under a logistic regression."""
    words = HashingVectorizer(
        ngram_range=(1, 3),
        token_pattern=r"\S+",
        preprocessor=_lower_edges,
        n_features=2**bits,
        alternate_sign=False,
        binary=True,
        norm=None,
    )
    return make_pipeline(words, NaiveBayesWeights(), LogisticRegression(C=C, max_iter=3000, class_weight="balanced"))


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


class MachineTextModel(ClassifierMixin, BaseEstimator):
    """P(machine-generated) of a text: `fit(texts, y)`, `predict_proba(texts)`, `decision_function` in log-odds.

    Classes are weighted to balance, so a corpus with extra human negatives does not lower the prior the
    0.5 decision assumes. `sentence_ends` is a reference counted from human text (models.sentence_ends); without
    it the model still works, on n-grams and style alone.
    """

    def __init__(
        self,
        C: float = 10.0,
        hash_bits: int = 19,
        folds: int = 5,
        seed: int = 13,
        sentence_ends: SentenceEnds | None = None,
    ):
        self.C = C
        self.hash_bits = hash_bits
        self.folds = folds
        self.seed = seed
        self.sentence_ends = sentence_ends

    def _bases(self) -> list[Pipeline]:
        return [text_pipeline(self.C, self.hash_bits - 1, self.hash_bits), naive_bayes_pipeline(bits=self.hash_bits)]

    def fit(self, texts: Sequence[str], y: Sequence[int] | np.ndarray) -> MachineTextModel:
        texts, y = list(texts), np.asarray(y, dtype=int)
        self.classes_ = np.array([0, 1])
        self.bases_ = [base.fit(texts, y) for base in self._bases()]
        folds = StratifiedKFold(self.folds, shuffle=True, random_state=self.seed)
        oof = [cross_val_predict(base, texts, y, cv=folds, method="predict_proba")[:, 1] for base in self._bases()]
        self.top_ = HistGradientBoostingClassifier(
            max_iter=300, learning_rate=0.05, max_leaf_nodes=15, class_weight="balanced", random_state=self.seed
        ).fit(self._stack(texts, oof), y)
        return self

    def _stack(self, texts: Sequence[str], base_p: Sequence[np.ndarray]) -> np.ndarray:
        columns = [logit(p) for p in base_p] + [style_features(texts)]
        if self.sentence_ends is not None:
            columns.append(self.sentence_ends.features(texts))
        return np.column_stack(columns)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        return self.top_.predict_proba(self._stack(texts, [base.predict_proba(texts)[:, 1] for base in self.bases_]))

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        return logit(self.predict_proba(texts)[:, 1])

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return (self.predict_proba(texts)[:, 1] >= 0.5).astype(int)
