"""The 95% interval of an NPS, chosen by how much evidence a group holds.

- ordinary n: the adjusted-Wald interval for a trinomial (Rocks 2016, "Interval estimation for the net promoter
  score", The American Statistician 70(4); popularised by Sauro & Lewis, MeasuringU 2021): add 3/4 to promoters
  and to detractors and 3 to n, then Wald with Var = p+ + p- - (p+ - p-)^2 (../shared/DESIGN.md);
- small n (below ``thresholds.dirichlet_below_n``): the posterior of the class shares under the Jeffreys
  Dirichlet prior, whose quantiles stay inside -100..100 and stay honest where the normal approximation does not;
- thin segments (below ``thresholds.thin_segment_n``, with a parent): partial pooling, a Dirichlet posterior
  whose prior is the rest of the parent segment (its other voices) in its own mix, lending just enough
  pseudo-voices to bring the segment up to ``thin_segment_n`` and never more than it holds; the pooling fades
  out smoothly as the segment reaches the threshold.

Counts may be fractional (expected counts from class probabilities). ``model_se`` (NPS points) adds the
scorer's own error to the sampling error, so an interval over predicted classes is not falsely narrow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from nps.classes import DETRACTOR, PROMOTER, nps_from_shares

LEVEL = 0.95
DIRICHLET_DRAWS = 8_000  # Monte Carlo error of a 2.5% quantile: about 0.3 NPS points at n = 10
# Jeffreys prior Dirichlet(1/2, 1/2, 1/2): the uniform prior (1) pulls extreme groups towards NPS 0 and covered
# only 84-89% at n = 10-40 with 80-90% promoters; Jeffreys stays >= 93% there (bench/intervals.py).
DIRICHLET_PRIOR = 0.5


@dataclass(frozen=True)
class Interval:
    """An NPS point estimate in points with its interval and the name of the method that produced it."""

    nps: float
    low: float
    high: float
    method: str


def _z(level: float) -> float:
    return float(norm.ppf(0.5 + level / 2))


def _clip(value: float) -> float:
    return float(min(100.0, max(-100.0, value)))


def _check(counts: Sequence[float] | np.ndarray) -> np.ndarray:
    arr = np.asarray(counts, dtype=float)
    if arr.shape != (3,) or (arr < 0).any() or not np.isfinite(arr).all():
        raise ValueError(f"counts must be three non-negative numbers (promoters, passives, detractors): {counts}")
    return arr


def adjusted_wald(
    counts: Sequence[float] | np.ndarray, level: float = LEVEL, model_se: float = 0.0
) -> Interval:
    """Adjusted-Wald interval; the point estimate stays the plain NPS of the counts so it can be checked."""
    arr = _check(counts)
    n = arr.sum()
    n_adj = n + 3.0
    p = (arr[PROMOTER] + 0.75) / n_adj
    d = (arr[DETRACTOR] + 0.75) / n_adj
    var = (p + d - (p - d) ** 2) / n_adj
    se = math.sqrt(var + (model_se / 100.0) ** 2)
    centre, half = float(100.0 * (p - d)), 100.0 * _z(level) * se
    nps = nps_from_shares(arr) if n > 0 else 0.0
    return Interval(nps, _clip(centre - half), _clip(centre + half), "adjusted-wald")


def _posterior(
    alpha: np.ndarray, level: float, model_se: float, seed: int
) -> tuple[float, float, float]:
    """Mean and equal-tailed quantiles of 100*(p+ - p-) under Dirichlet(alpha), by seeded Monte Carlo."""
    rng = np.random.default_rng(seed)
    draws = rng.dirichlet(alpha, size=DIRICHLET_DRAWS)
    nps = 100.0 * (draws[:, PROMOTER] - draws[:, DETRACTOR])
    if model_se > 0:
        nps = nps + rng.normal(0.0, model_se, size=nps.shape)
    tail = (1 - level) / 2
    low, high = np.quantile(nps, [tail, 1 - tail])
    mean = 100.0 * (alpha[PROMOTER] - alpha[DETRACTOR]) / alpha.sum()
    return float(mean), _clip(float(low)), _clip(float(high))


def dirichlet(
    counts: Sequence[float] | np.ndarray,
    level: float = LEVEL,
    model_se: float = 0.0,
    prior: float = DIRICHLET_PRIOR,
    seed: int = 0,
) -> Interval:
    """Equal-tailed posterior interval under a symmetric Dirichlet prior; the point is the plain NPS."""
    arr = _check(counts)
    _, low, high = _posterior(arr + prior, level, model_se, seed)
    nps = nps_from_shares(arr) if arr.sum() > 0 else 0.0
    return Interval(nps, low, high, "dirichlet")


def pooled(
    counts: Sequence[float] | np.ndarray,
    parent_counts: Sequence[float] | np.ndarray,
    target_n: float,
    level: float = LEVEL,
    model_se: float = 0.0,
    seed: int = 0,
) -> Interval:
    """Partial pooling towards the parent: the rest of the parent lends ``target_n - n`` pseudo-voices in its
    own mix (at most as many as it has), so a prior never claims more evidence than there is.

    The point estimate is the pooled (posterior mean) NPS, so it lies between the segment's and the parent's.
    """
    arr = _check(counts)
    parent = _check(parent_counts)
    if parent.sum() <= 0:
        raise ValueError("the parent segment is empty; nothing to pool towards")
    weight = min(max(target_n - arr.sum(), 0.0), parent.sum())
    alpha = arr + weight * parent / parent.sum() + 1e-9
    mean, low, high = _posterior(alpha, level, model_se, seed)
    return Interval(float(mean), low, high, f"pooled-to-parent (prior weight {weight:.1f})")


def nps_interval(
    counts: Sequence[float] | np.ndarray,
    dirichlet_below_n: int,
    thin_segment_n: int,
    parent_counts: Sequence[float] | np.ndarray | None = None,
    model_se: float = 0.0,
    level: float = LEVEL,
) -> Interval:
    """The interval of the module docstring, chosen by n and by whether the group has a parent (the class
    counts of the parent's other voices)."""
    n = float(np.sum(counts))
    if parent_counts is not None and n < thin_segment_n and float(np.sum(parent_counts)) > 0:
        return pooled(counts, parent_counts, thin_segment_n, level, model_se)
    if n < dirichlet_below_n:
        return dirichlet(counts, level, model_se)
    return adjusted_wald(counts, level, model_se)
