"""The per-document bot/fake classifier and the filter the flow calls (docs/CONTRACTS.md, `models`).

`BotClassifier` is a scikit-learn estimator over three kinds of evidence:
- text: a model of machine-generated text (models.machine_text: n-grams stacked with style statistics and
  sentence-end plausibility);
  stock wording, generic praise and length;
- author behaviour: the author's review count (where the source shows it), their reviews in the stream, reviews
  per day, rating extremity,
  the author's share of extreme ratings, deviation from the entity's mean in the batch (absolute and signed), and
  the review's place in its entity's stream (rank, days since the entity's first review, the stream's volume);
- coordination: near-duplicates and shared phrasing across different authors (MinHash LSH), authors reviewing
  the same entities in the same few days.
P(bot) is the noisy-OR of the machine-text probability and an `AdditiveLogit` over behaviour and coordination
(fit on YelpCHI, where those exist): either alone can make a bot. The behaviour model takes part only when the
record shows author, rating or timing behaviour, and inside it a feature the input lacks contributes nothing, so
a bare text gets exactly its text verdict. Each log-odds term is also the evidence sentence's weight.

Copy-paste rule (`copy_probability`): the labelled data has no review farms, so the coordination features got
no weight there, yet a review that other accounts posted again on the SAME source within a few days is the
plainest bot signal there is. It is therefore a stated rule, not a learned term: with n other authors posting a
copy (models.similarity.same_source_copies, n >= K = `thresholds.bot_copy_authors`, window
`thresholds.bot_copy_days`), P(copy-paste bot) = 1 - (1 - COPY_P_AT_K) ** (n / K), i.e. COPY_P_AT_K at exactly K
copies, rising with the cluster. It joins the learned probability by noisy-OR, p = 1 - (1 - p_learned)(1 - p_copy):
either cause alone can make a bot, and neither lowers the other. Copies on another source are syndication (the
organic rules count them once) and never count here; short texts count only under the conditions in
models.similarity.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import precision_recall_curve

from config.artifacts import ModelUnavailable, load_artifact
from config.schema import ModelsConfig, ThresholdsConfig
from models.additive import AdditiveLogit
from models.features import BEHAVIOUR, FEATURES, batch_features, declared_bot, is_new_account
from models.machine_text import MachineTextModel
from models.sentence_ends import SentenceEnds
from models.similarity import same_source_copies
from models.text_signals import machine_signs
from models.verdicts import BotJudgement
from nps.record import parse_time

PACKAGED = Path(__file__).resolve().parent / "artifacts" / "bot_filter.joblib"
TEXT_MODELS: tuple[str, ...] = ("generated",)
EVIDENCE_MIN_LOGIT = 0.3
EVIDENCE_MAX = 4
# A review without a date has no place in its entity's stream: its verdict says so instead of inventing one.
DECLARED = "the account declares itself automated (its bot flag)"
UNDATED = "no date: its place in the entity's stream (rank, pace, bursts) was not judged"
COPY_P_AT_K = 0.9
# The artifact's layout: 3 since the behaviour features gained the author's reviews in the stream. A model saved
# in another layout is refused with what to do, rather than failing deep inside a nightly run.
ARTIFACT_FORMAT = 3


class BotClassifier(ClassifierMixin, BaseEstimator):
    """P(bot) from text, behaviour and coordination; `fit(records, y, corpus=...)`, `predict_proba(records)`.

    `records` is one batch (the batch is the context for behaviour and coordination). `corpus[i]` says what a
    record's label means for the text models: "generated" (label = machine-generated or not), "human" (known
    human-written, so a negative for every text model; its label only trains the behaviour model),
    "human_text" (a negative for the text models only), or anything else (behaviour model only). Human
    negatives from other sites and languages keep the machine-text score quiet on ordinary reviews.
    """

    def __init__(
        self,
        text_C: float = 10.0,
        C: float = 0.5,
        n_bins: int = 8,
        folds: int = 5,
        seed: int = 13,
        hash_bits: int = 19,
        sentence_ends: SentenceEnds | None = None,
    ):
        self.text_C = text_C
        self.sentence_ends = sentence_ends
        self.hash_bits = hash_bits
        self.C = C
        self.n_bins = n_bins
        self.folds = folds
        self.seed = seed

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f"{name}_text" for name in self.text_models_) + FEATURES

    def fit(self, records: Sequence[Mapping[str, Any]], y: Sequence[int] | np.ndarray,
            corpus: Sequence[str] | np.ndarray | None = None) -> BotClassifier:
        y = np.asarray(y, dtype=int)
        corpus = np.asarray(corpus if corpus is not None else ["top"] * len(y))
        self.classes_ = np.array([0, 1])
        texts = np.array([str(r.get("text") or "") for r in records], dtype=object)
        self.text_models_: dict[str, MachineTextModel] = {}
        for name in TEXT_MODELS:
            own = np.isin(corpus, (name, "human", "human_text"))
            target = np.where(corpus == name, y, 0)
            if (corpus == name).sum() < 2 * self.folds or len(np.unique(target[own])) < 2:
                continue
            model = MachineTextModel(self.text_C, self.hash_bits, self.folds, self.seed, self.sentence_ends)
            self.text_models_[name] = model.fit(list(texts[own]), target[own])
        # The behaviour model learns where behaviour exists; the text corpora's labels mean "machine-generated",
        # which the text term already carries.
        top_rows = ~np.isin(corpus, (*TEXT_MODELS, "human_text"))
        if top_rows.sum() < 20 or len(np.unique(y[top_rows])) < 2:
            top_rows = np.ones(len(y), dtype=bool)
        context = batch_features(records)
        self.top_ = AdditiveLogit(n_bins=self.n_bins, C=self.C).fit(context[top_rows], y[top_rows])
        return self

    def explain(self, records: Sequence[Mapping[str, Any]], context: Sequence[Mapping[str, Any]] = ()
                ) -> tuple[np.ndarray, np.ndarray]:
        """Raw feature values and their log-odds terms for RECORDS, columns in `feature_names` order.

        The stream features (author behaviour, place in the entity's stream, coordination) are computed over
        RECORDS and CONTEXT together, the rest of the stream they belong to (models.features); the text models
        read RECORDS only. A text term is the text model's own log-odds; behaviour terms are 0 for a record that
        shows no behaviour (`behaviour_shown`), since the behaviour model then takes no part in its verdict."""
        texts = [str(r.get("text") or "") for r in records]
        raw = [_decisions(m, texts) for m in self.text_models_.values()]
        features = batch_features([*records, *context])[: len(records)]
        shown = behaviour_shown(features)
        behaviour = np.where(shown[:, None], self.top_.contributions(features), 0.0)
        return np.column_stack([*raw, features]), np.column_stack([*raw, behaviour])

    def probability(self, X: np.ndarray, terms: np.ndarray) -> np.ndarray:
        """P(bot) from `explain`'s output: noisy-OR of each text model's probability and the behaviour model's.

        Machine-written text alone, or suspect behaviour alone, can make a bot, and neither lowers the other;
        a record that shows no behaviour gets exactly its text verdict."""
        n_text = len(self.text_models_)
        p_clear = np.prod(1.0 / (1.0 + np.exp(terms[:, :n_text])), axis=1)
        shown = behaviour_shown(X[:, n_text:])
        behaviour = 1.0 / (1.0 + np.exp(-(self.top_.intercept_ + terms[:, n_text:].sum(axis=1))))
        p_behaviour = np.where(shown, behaviour, 0.0)
        return 1.0 - p_clear * (1.0 - p_behaviour)

    def predict_proba(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        p = self.probability(*self.explain(records))
        return np.column_stack([1 - p, p])

    def predict(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return (self.predict_proba(records)[:, 1] >= 0.5).astype(int)


def behaviour_shown(context: np.ndarray) -> np.ndarray:
    """Per row of `batch_features`: does the record show any author, rating or timing behaviour at all?"""
    columns = [FEATURES.index(name) for name in BEHAVIOUR]
    return ~np.isnan(context[:, columns]).all(axis=1)


# When a raw value is worth telling an analyst about: a binned term can be positive for a dull value (a bin
# effect of the training data), and "0% stock words" is no reason to call anyone a bot.
TELLING: dict[str, Any] = {
    "generated_text": lambda v: True,
    "stock_words": lambda v: v >= 0.15,
    "generic_praise": lambda v: v >= 1,
    "length_words": lambda v: v <= math.log1p(15),
    "near_duplicate_authors": lambda v: v > 0,
    "shared_phrasing_authors": lambda v: v > 0,
    "author_review_count": lambda v: v <= math.log1p(3),
    "author_stream_reviews": lambda v: v <= math.log1p(1),
    "author_max_per_day": lambda v: v >= math.log(2),
    "rating_extremity": lambda v: v >= 0.8,
    "rating_deviation": lambda v: v >= 0.2,
    "co_reviewing_authors": lambda v: v > 0,
    "author_extreme_share": lambda v: v >= 0.8,
    "rating_signed_deviation": lambda v: abs(v) >= 0.2,
    "entity_rank": lambda v: v <= math.log1p(4),
    "entity_days": lambda v: v <= math.log1p(1),
    "entity_volume": lambda v: v >= math.log(100),
}


def _plural(n: float, word: str) -> str:
    n = int(round(n))
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def describe(feature: str, value: float) -> str:
    """One feature value in a reputation analyst's words (`value` is the raw feature, see models.features)."""
    count = math.expm1(value) if not math.isnan(value) else 0.0
    phrases = {
        "generated_text": "wording typical of machine-generated reviews",
        "deceptive_text": "wording typical of invented (deceptive) reviews",
        "stock_words": f"stock praise or complaint wording ({value:.0%} of the words)",
        "generic_praise": "generic praise or complaint, no specifics",
        "length_words": f"review of {_plural(count, 'word')}",
        "near_duplicate_authors": f"near-duplicate of reviews by {_plural(count, 'other author')}",
        "shared_phrasing_authors": f"shares phrasing with {_plural(count, 'other account')}",
        "author_review_count": f"account with {_plural(count, 'review')}",
        "author_stream_reviews": "the author's only review in this stream"
        if round(count) <= 1
        else f"author of {_plural(count, 'review')} in this stream",
        "author_max_per_day": f"author posted {_plural(math.exp(value), 'review')} in one day",
        "rating_extremity": "extreme rating" if value >= 0.8 else "middling rating",
        "rating_deviation": f"rating {value * 10:.1f} points (of 10) away from this entity's average",
        "co_reviewing_authors": f"reviews the same entities at the same time as {_plural(count, 'other account')}",
        "author_extreme_share": f"author gives an extreme rating (lowest or highest) in {value:.0%} of their reviews",
        "rating_signed_deviation": f"rating {abs(value) * 10:.1f} points (of 10) "
        f"{'above' if value > 0 else 'below'} this entity's average",
        "entity_rank": f"one of the first {_plural(count + 1, 'review')} of this entity in the stream",
        "entity_days": f"posted {count:.1f} days after this entity's first review in the stream",
        "entity_volume": f"entity with {_plural(math.exp(value), 'review')} in the stream",
    }
    return phrases[feature]


def copy_probability(copies: np.ndarray, k: int) -> np.ndarray:
    """P(copy-paste bot) from the number of other authors' same-source copies: 0 below K (see the module doc)."""
    return np.where(copies >= k, 1.0 - (1.0 - COPY_P_AT_K) ** (copies / k), 0.0)


def _copy_evidence(copies: float, days: float) -> str:
    window = f"{days:g} day" if days == 1 else f"{days:g} days"
    return f"near-duplicate of {_plural(copies, 'review')} by other accounts on the same site within {window}"


@dataclass
class BotFilter:
    """A fitted classifier with its decision threshold; `judge` is what the flow and `onps score` call."""

    classifier: BotClassifier
    threshold: float
    model_version: str
    copy_authors: int = 3
    copy_days: float = 2.0

    def judge(self, records: Sequence[Mapping[str, Any]], understandings: Sequence[Any] | None = None,
              context: Sequence[Mapping[str, Any]] = ()) -> list[BotJudgement]:
        """One `BotJudgement` per record; understandings (optional) lend the derived score where no rating is.

        CONTEXT is the rest of the stream the records belong to (records with ``score`` where they have no
        rating): a record's verdict is a function of the set RECORDS + CONTEXT, whatever its order or how it was
        split. P(bot) is the noisy-OR of the learned probability and the copy-paste rule (module doc)."""
        if not records:
            return []
        batch = [
            _with_understanding(r, u) for r, u in zip(records, understandings or [None] * len(records), strict=True)
        ]
        X, terms = self.classifier.explain(batch, context)
        learned = self.classifier.probability(X, terms)
        stream = [*batch, *context]
        copies = same_source_copies(
            [str(r.get("text") or "") for r in stream],
            [str(r["author"]) if r.get("author") else None for r in stream],
            [str(r["source"]) if r.get("source") else None for r in stream],
            [parse_time(r.get("published_at")) for r in stream],
            [is_new_account(r) for r in stream],
            self.copy_days,
        )[: len(batch)]
        copied = copy_probability(copies, self.copy_authors)
        p = 1.0 - (1.0 - learned) * (1.0 - copied)
        names = self.classifier.feature_names
        ends = self.classifier.sentence_ends
        judgements = []
        for i in range(len(batch)):
            order = np.argsort(-terms[i])
            evidence = [_copy_evidence(copies[i], self.copy_days)] if copied[i] > 0 else []
            evidence += [
                _describe_with_signs(names[j], X[i, j], batch[i], ends)
                for j in order
                if terms[i, j] >= EVIDENCE_MIN_LOGIT and TELLING[names[j]](X[i, j])
            ]
            evidence = evidence[:EVIDENCE_MAX]
            if (batch[i].get("entity") or batch[i].get("author")) and parse_time(batch[i].get("published_at")) is None:
                evidence.append(UNDATED)
            if declared_bot(batch[i]):  # the account's own word outranks any model
                judgements.append(BotJudgement(1.0, True, [DECLARED, *evidence][:EVIDENCE_MAX], self.model_version))
                continue
            judgements.append(BotJudgement(float(p[i]), bool(p[i] >= self.threshold), evidence, self.model_version))
        return judgements


TEXT_CHUNK = 2000  # texts per text-model call: a row's decision is its own, the n-gram matrix of 100k is not small


def _decisions(model: Any, texts: list[str]) -> np.ndarray:
    """MODEL's decision function over TEXTS in chunks: the same values, without the whole input's n-gram matrix
    in memory at once (100k lines of `onps estimate` held 3.4 GiB at the peak)."""
    if len(texts) <= TEXT_CHUNK:
        return np.asarray(model.decision_function(texts))
    return np.concatenate([np.asarray(model.decision_function(texts[i:i + TEXT_CHUNK]))
                           for i in range(0, len(texts), TEXT_CHUNK)])


def _describe_with_signs(feature: str, value: float, record: Mapping[str, Any], ends: SentenceEnds | None) -> str:
    """`describe`, and for the machine-text verdict the signs in the text an analyst can check (text_signals)."""
    phrase = describe(feature, value)
    if feature != "generated_text":
        return phrase
    signs = machine_signs(str(record.get("text") or ""), ends)
    return f"{phrase}: {'; '.join(signs)}" if signs else phrase


def _with_understanding(record: Mapping[str, Any], understanding: Any) -> Mapping[str, Any]:
    if understanding is None or getattr(understanding, "score", None) is None:
        return record
    return {**record, "score": understanding.score}


def threshold_for_precision(p: np.ndarray, y: np.ndarray, precision: float) -> float:
    """Lowest validation threshold whose precision reaches the target (most recall); 1.0 if none does."""
    precisions, _, thresholds = precision_recall_curve(y, p)
    ok = np.flatnonzero(precisions[:-1] >= precision)
    return float(thresholds[ok[0]]) if len(ok) else 1.0


def save_bot_filter(
    path: Path, classifier: BotClassifier, validation_p: np.ndarray, validation_y: np.ndarray, model_version: str
) -> None:
    joblib.dump(
        {
            "classifier": classifier,
            "validation_p": validation_p.astype(np.float32),
            "validation_y": validation_y.astype(np.int8),
            "model_version": model_version,
            "format": ARTIFACT_FORMAT,
        },
        path,
        compress=3,
    )


def bot_model_path(models_config: ModelsConfig) -> Path:
    """The configured bot model artifact, else the packaged one."""
    return Path(models_config.bot_model_path or PACKAGED)


def load_bot_filter(models_config: ModelsConfig, thresholds: ThresholdsConfig) -> BotFilter:
    """The configured artifact (default: the packaged one) with its threshold for `thresholds.bot_precision`."""
    path = bot_model_path(models_config)
    bundle = load_artifact(path, "bot model", "`onps retrain` (or `python -m models.train`; both need "
                           "../shared/data), or set models.bot_model_path to a trained one")
    found = bundle.get("format", 1)
    if found != ARTIFACT_FORMAT:
        raise ModelUnavailable(
            f"bot model {path} has artifact format {found}, this version of organic-nps reads format "
            f"{ARTIFACT_FORMAT}: retrain it (`python -m models.train --out {path.parent}`) or unset "
            "models.bot_model_path to use the packaged model"
        )
    precision = thresholds.bot_precision
    threshold = threshold_for_precision(bundle["validation_p"], bundle["validation_y"], precision)
    copy_authors, copy_days = thresholds.bot_copy_authors, thresholds.bot_copy_days
    # the version names every setting that changes a decision, so the nightly flow re-judges when one changes
    version = f"{bundle['model_version']}+p{precision:g}+copy{copy_authors}in{copy_days:g}d"
    return BotFilter(bundle["classifier"], threshold, version, copy_authors, copy_days)


def cached_bot_filter(models_config: ModelsConfig, thresholds: ThresholdsConfig) -> BotFilter:
    """`load_bot_filter`, once per process for each configuration and artifact: the nightly stages and a Dask
    worker between units share one filter. The key holds the resolved artifact path as well as the configuration,
    so a loader pointed at another file loads what is there."""
    return _bot_filter_once(models_config.model_dump_json(), thresholds.model_dump_json(),
                            str(bot_model_path(models_config).resolve()))


@lru_cache(maxsize=4)
def _bot_filter_once(models_json: str, thresholds_json: str, artifact: str) -> BotFilter:
    """The cached load behind `cached_bot_filter` (the path is part of the key only: `load_bot_filter` resolves
    it)."""
    return load_bot_filter(ModelsConfig.model_validate_json(models_json),
                           ThresholdsConfig.model_validate_json(thresholds_json))

