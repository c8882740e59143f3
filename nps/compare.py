"""Two NPS estimates side by side: a competitor benchmark, or the survey NPS against the organic one.

The difference of two independent estimates has Var = Var(a) + Var(b); each variance is read back from the
estimate's own 95% interval (half-width / z), so whichever method made an interval (adjusted Wald, Dirichlet,
pooled, model error included) is carried into the difference without recomputing it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scipy.stats import norm, pearsonr

from nps.interval import LEVEL
from nps.organic import Estimate, EstimateLike, HasInterval, Thresholds, estimate_groups, segment_key

MIN_WINDOWS_FOR_CORRELATION = 3
GAP_REASONS = 3


@dataclass(frozen=True)
class Difference:
    """a - b in NPS points with its interval; significant when the interval excludes zero."""

    diff: float
    low: float
    high: float
    significant: bool


def difference(a: HasInterval, b: HasInterval, level: float = LEVEL) -> Difference:
    """Difference of two independent estimates, normal approximation on the interval half-widths."""
    z = float(norm.ppf(0.5 + level / 2))
    se = math.hypot((a.high - a.low) / (2 * z), (b.high - b.low) / (2 * z))
    diff = a.nps - b.nps
    low, high = diff - z * se, diff + z * se
    return Difference(diff, low, high, low > 0 or high < 0)


def survey_rows(responses: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Survey answers as estimate rows: the class is known, so its probability is one.

    Each respondent is their own voice and never a syndicated copy (no text to compare), so the organic rules
    pass every answer and the survey NPS gets the same intervals (and pooling) as the organic one.
    """
    rows = []
    for i, answer in enumerate(responses):
        score = int(answer["score"])
        row = {**(answer.get("segment") or {}), "entity": answer.get("entity"), "id": f"survey-{i}",
               "content_hash": f"survey-{answer.get('batch', '')}-{answer.get('row_number', i)}",
               "published_at": answer.get("answered_at"), "author": None,
               "p_promoter": float(score >= 9), "p_passive": float(7 <= score <= 8), "p_detractor": float(score <= 6)}
        rows.append(row)
    return rows


def survey_estimates(responses: Sequence[Mapping[str, Any]], by: Sequence[str], window: str | None,
                     thresholds: Thresholds) -> list[Estimate]:
    """The survey NPS per group of BY and WINDOW: the organic estimator over answers whose class is known, so a
    survey line and an organic line on one chart carry intervals made the same way."""
    return estimate_groups(survey_rows(responses), by, window, thresholds, train_prior=None)


@dataclass(frozen=True)
class SurveyComparison:
    """Survey and organic NPS of one segment and window, their difference, and reasons behind the gap."""

    group: dict[str, Any]
    window_start: datetime | None
    survey: Estimate
    organic: EstimateLike
    difference: Difference
    gap_reasons: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "window_start": self.window_start.isoformat() if self.window_start else None,
            "survey": _side(self.survey),
            "organic": _side(self.organic),
            "difference": round(self.difference.diff, 2),
            "difference_low": round(self.difference.low, 2),
            "difference_high": round(self.difference.high, 2),
            "significant": self.difference.significant,
            "gap_reasons": self.gap_reasons,
        }


def gap_reasons(organic: EstimateLike, survey_nps: float, top: int = GAP_REASONS) -> list[str]:
    """Reason codes most likely to explain why the organic NPS sits below (or above) the survey's.

    Below: the codes carried by the most (expected) organic detractors; above: by the most promoters.
    """
    weight = "detractors" if organic.nps < survey_nps else "promoters"
    ranked = sorted(organic.reasons.items(), key=lambda kv: -kv[1][weight])
    return [code for code, counts in ranked[:top] if counts[weight] > 0]


def _key(e: EstimateLike) -> tuple[tuple[tuple[str, str], ...], datetime | None]:
    return tuple(sorted((k, str(v)) for k, v in e.group.items())), e.window_start


def compare_survey(
    responses: Sequence[Mapping[str, Any]],
    organic: Sequence[EstimateLike],
    by: Sequence[str],
    window: str | None,
    thresholds: Thresholds,
) -> tuple[list[SurveyComparison], dict[str, dict[str, float]]]:
    """Pair survey and organic estimates of the same segment and window; correlate them over windows.

    Returns the comparisons and, per segment with at least three paired windows, Pearson's r, its p-value and
    the number of windows.
    """
    survey = survey_estimates(responses, by, window, thresholds)
    by_key = {_key(e): e for e in organic}
    pairs = []
    for s in survey:
        o = by_key.get(_key(s))
        if o is not None:
            pairs.append(SurveyComparison(s.group, s.window_start, s, o, difference(s, o), gap_reasons(o, s.nps)))
    series: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for pair in pairs:
        series[segment_key(pair.group)].append((pair.survey.nps, pair.organic.nps))
    correlations = {}
    for label, points in series.items():
        xs, ys = zip(*points, strict=True)
        if len(points) >= MIN_WINDOWS_FOR_CORRELATION and len(set(xs)) > 1 and len(set(ys)) > 1:
            result = pearsonr(xs, ys)
            correlations[label] = {"r": float(result.statistic), "p": float(result.pvalue), "windows": len(points)}
    return pairs, correlations



def _side(e: EstimateLike) -> dict[str, float]:
    return {"n": e.n, "nps": round(e.nps, 2), "low": round(e.low, 2), "high": round(e.high, 2)}


def competitor_benchmark(
    estimates: Sequence[EstimateLike], entity: str, competitors: Sequence[str]
) -> list[dict[str, Any]]:
    """The entity beside each competitor for every window and segment both have, with entity - competitor.

    Estimates are matched on the window and on the segment without its entity key, so the same source or region
    is compared; a competitor with no estimate for a window is left out of that window, not shown as zero.
    """
    def segment_of(e: EstimateLike) -> tuple[tuple[str, str], ...]:
        return tuple(sorted((k, str(v)) for k, v in e.group.items() if k != "entity"))

    index = {(e.group.get("entity"), segment_of(e), e.window_start): e for e in estimates}
    rows = []
    for (name, segment, start), own in sorted(index.items(), key=lambda kv: (kv[0][1], str(kv[0][2]))):
        if name != entity:
            continue
        for competitor in competitors:
            other = index.get((competitor, segment, start))
            if other is None:
                continue
            diff = difference(own, other)
            rows.append({
                "segment": dict(segment), "window_start": start.isoformat() if start else None,
                "entity": entity, "estimate": _side(own), "competitor": competitor,
                "competitor_estimate": _side(other), "difference": round(diff.diff, 2),
                "difference_low": round(diff.low, 2), "difference_high": round(diff.high, 2),
                "significant": diff.significant,
            })
    return rows
