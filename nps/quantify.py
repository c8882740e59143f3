"""Class-mix shift correction: an NPS is the share of each class in a group, a quantification problem.

A scorer's calibrated probabilities are calibrated for its training mix of classes. A group that is mostly
detractors still gets some promoter probability on every review, so the plain average of probabilities is pulled
towards the training mix (../shared/DESIGN.md, "Scoring conventions"). The expectation-maximisation prior
adjustment of Saerens, Latinne & Decaestecker (2002, "Adjusting the outputs of a classifier to new a priori
probabilities", Neural Computation 14(1)) re-estimates the group's class mix and the posteriors under it.

Its assumption is prior shift: groups differ in their mix of labels, and p(text | label) is the same in every
group. That holds per star level, not per NPS class: the detractor class mixes 1-3 stars, so a group of 1-star
reviews and a group of 3-star reviews have different p(text | detractor). EM over the five star levels the scorer
predicts, collapsed to classes afterwards (`em_level_adjust`), is therefore what `nps.organic` uses wherever the
stored scores carry their levels; the three-class EM remains for scores stored without them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nps.classes import LEVELS, classes_from_levels

EM_TOLERANCE = 1e-6
EM_MAX_ITER = 1000
# Maximum a posteriori EM: a Dirichlet prior on the group's class mix worth a share of the group's own voices,
# centred on the training mix. Maximum-likelihood EM trusts the scorer's calibration completely, so wherever that
# calibration is off (any text unlike the training reviews: app-store, device, bank and book reviews) it amplifies
# the bias of the plain average instead of removing it, and the bias does not shrink with the group's size. A prior
# worth 10% of the group's voices (at least 3, for small groups) had the lowest mean absolute group-NPS error of
# the five-level EM over MARC dev and the tuning halves of five out-of-domain real review sets, text only and with
# ratings, at group sizes 100 and 400 (bench/estimate.py --part domains; the sweep, with the three-class EM's
# beside it, is in bench/results/estimate.md).
EM_PRIOR_WEIGHT = 0.1
EM_MIN_PSEUDO_VOICES = 3.0


def pseudo_voices_for(n: int, weight: float = EM_PRIOR_WEIGHT, minimum: float = EM_MIN_PSEUDO_VOICES) -> float:
    """How many voices in the training mix the MAP prior adds to a group of N voices."""
    return max(minimum, weight * n)


@dataclass(frozen=True)
class PriorAdjustment:
    """The group's estimated class mix, the per-review posteriors under it, and how EM ended."""

    prior: np.ndarray  # (k,) in the order of the input's columns
    posteriors: np.ndarray  # (n, k)
    iterations: int
    converged: bool


def _as_probs(probs: Sequence[Sequence[float]] | np.ndarray, k: int) -> np.ndarray:
    arr = np.asarray(probs, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != k or len(arr) == 0:
        raise ValueError(f"probabilities must be a non-empty (n, {k}) array, one column per class of the "
                         f"training prior, got shape {arr.shape}")
    if (arr < 0).any() or not np.allclose(arr.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError("each row of probabilities must be non-negative and sum to 1")
    return arr / arr.sum(axis=1, keepdims=True)


def reweight(probs: np.ndarray, new_prior: np.ndarray, old_prior: np.ndarray) -> np.ndarray:
    """Posteriors calibrated under OLD_PRIOR restated under NEW_PRIOR (Bayes' rule: the E-step of the EM below).
    Works on any leading shape (e.g. several candidate mixes at once): the classes are the last axis."""
    weighted = probs * (np.asarray(new_prior) / np.asarray(old_prior))
    return weighted / weighted.sum(axis=-1, keepdims=True)


def em_prior_adjust(
    probs: Sequence[Sequence[float]] | np.ndarray,
    train_prior: Sequence[float] | np.ndarray,
    pseudo_voices: float | None = None,
    tol: float = EM_TOLERANCE,
    max_iter: int = EM_MAX_ITER,
) -> PriorAdjustment:
    """Saerens et al. (2002) EM: reweight posteriors by new/old prior, take their mean as the new prior, repeat.

    ``train_prior`` is the class mix the scorer's probabilities were calibrated under (it ships with the
    scorer); PROBS has one column per entry of it, in the same order (any number of classes). A class with a
    zero training prior cannot be reweighted, so the prior is floored at 1e-6.
    ``pseudo_voices`` > 0 makes it the MAP estimate under a Dirichlet prior centred on the training mix
    (None: ``pseudo_voices_for`` the group's size; 0: the maximum-likelihood EM of the paper).
    """
    old = np.clip(np.asarray(train_prior, dtype=float), 1e-6, None)
    post0 = _as_probs(probs, len(old))
    if pseudo_voices is None:
        pseudo_voices = pseudo_voices_for(len(post0))
    old = old / old.sum()
    prior = old.copy()
    posteriors = post0
    for iteration in range(1, max_iter + 1):
        posteriors = reweight(post0, prior, old)
        new = (posteriors.sum(axis=0) + pseudo_voices * old) / (len(posteriors) + pseudo_voices)
        if np.abs(new - prior).max() < tol:
            return PriorAdjustment(new, posteriors, iteration, True)
        prior = new
    return PriorAdjustment(prior, posteriors, max_iter, False)


def em_level_adjust(
    level_probs: Sequence[Sequence[float]] | np.ndarray,
    level_prior: Sequence[float] | np.ndarray,
    pseudo_voices: float | None = None,
) -> PriorAdjustment:
    """`em_prior_adjust` over the five star levels, returned as classes (promoter, passive, detractor).

    The prior shift EM assumes holds per star level (module docstring), so the mix is re-estimated per level
    and only then collapsed by the calibration convention; ``level_prior`` is the star mix the scorer was
    trained under, and the MAP prior is centred on it.
    """
    if len(level_prior) != LEVELS:
        raise ValueError(f"a level prior has {LEVELS} entries (stars 1-5), got {len(level_prior)}")
    levels = em_prior_adjust(level_probs, level_prior, pseudo_voices)
    return PriorAdjustment(classes_from_levels(levels.prior[None, :])[0], classes_from_levels(levels.posteriors),
                           levels.iterations, levels.converged)
