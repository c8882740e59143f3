"""NPS classes: the 0-10 answer to a class, the star-rating calibration convention, and NPS from shares.

The class order ``(promoter, passive, detractor)`` is used for every probability vector and count triple in
``nps/``, so a triple can be passed between modules without naming its entries. Five-level vectors (the star
levels a scorer predicts) are in star order, 1 to 5.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from nps.ratings import native_scale

CLASSES: tuple[str, str, str] = ("promoter", "passive", "detractor")
PROMOTER, PASSIVE, DETRACTOR = range(3)
LEVELS = 5  # star levels 1-5


def nps_class(score: float) -> str:
    """The NPS class of a 0-10 likelihood-to-recommend answer: 9-10 promoter, 7-8 passive, 0-6 detractor.

    The survey question is answered with whole numbers; a derived (fractional) score is rounded half up first,
    so 8.5 counts as a promoter, as a respondent hesitating between 8 and 9 would most often answer 9.
    """
    if not 0 <= score <= 10 or math.isnan(score):
        raise ValueError(f"an NPS answer is on 0-10, got {score!r}")
    whole = math.floor(score + 0.5)
    if whole >= 9:
        return "promoter"
    if whole >= 7:
        return "passive"
    return "detractor"


def star_class(rating: float, scale: float | None = None) -> str:
    """The calibration convention of ../shared/DESIGN.md ("Scoring conventions"): on a 5-point star scale,
    5 stars count as promoter, 4 as passive, 1-3 as detractor; other scales are rescaled to 5 points first.

    It is a proxy (stars measure satisfaction, NPS measures recommendation), used to train and evaluate the
    scorer and to check estimates against ratings, never as the answer for a review that has text.
    Rescaling rounds half up (9/10 -> 4.5 -> 5 stars), which keeps a 0-10 rating's own NPS classes: 9-10
    promoter, 7-8 passive, 0-6 detractor.
    """
    top = native_scale(rating, scale)
    if not 0 <= rating <= top:
        raise ValueError(f"rating {rating!r} is outside its scale 0-{top:g}")
    stars = max(1, math.floor(rating / top * 5 + 0.5))
    if stars == 5:
        return "promoter"
    if stars == 4:
        return "passive"
    return "detractor"


def employee_class(rating: float | None, scale: float | None = None,
                   recommends: bool | None = None) -> str | None:
    """The eNPS class an employee's own answers decide, or None where they leave it to the text.

    Stars decide where given, by the convention of `star_class` (5 promoter, 4 passive, 1-3 detractor): on the
    Glassdoor reviews of ../shared/data/glassdoor-uk it is the eNPS the stars give, and an employer review's
    overall rating is the closest thing it has to the 0-10 question. Without stars, "would not recommend to a
    friend" is a detractor (on that file 1,810 of 1,972 "no" answers carry 1-3 stars), while "would recommend"
    decides nothing: its reviewers split between 5 stars (37%), 4 (42%) and 1-3 (22%), promoters and passives
    alike, so the text tells them apart.
    """
    if rating is not None:
        return star_class(rating, scale)
    if recommends is False:
        return "detractor"
    return None


def classes_from_levels(p: np.ndarray) -> np.ndarray:
    """(n, 5) star-level probabilities -> (n, 3) class probabilities by the calibration convention of
    `star_class`: 5 stars promoter, 4 passive, 1-3 detractor."""
    p = np.asarray(p, dtype=float)
    return np.c_[p[:, 4], p[:, 3], p[:, :3].sum(axis=1)]


def class_index(name: str) -> int:
    """Position of a class name in ``CLASSES``; an unknown name is an error, not a silent detractor."""
    try:
        return CLASSES.index(name)
    except ValueError as exc:
        raise ValueError(f"unknown NPS class {name!r}; expected one of {', '.join(CLASSES)}") from exc


def nps_from_shares(shares: Sequence[float] | np.ndarray) -> float:
    """NPS in points (-100..100) from (promoter, passive, detractor) shares or counts."""
    total = float(sum(shares))
    if total <= 0:
        raise ValueError("NPS of an empty group is undefined")
    return float(100.0 * (shares[PROMOTER] - shares[DETRACTOR]) / total)


def followup_class(p_promoter: float, p_passive: float, p_detractor: float, text_score: float | None) -> str:
    """The class a review is followed up as (the detractor worklist): the text and the rating together, and the
    text where the two clearly disagree.

    The stored class probabilities already combine text and stars. Where that combined class and the text's own
    class (``text_score``, the text-only 0-10 answer) are at opposite ends, one promoter and the other detractor,
    the text wins: a 1-star "fast and convenient app, thanks for your dedication" is a mis-tapped star, not a
    customer to win back, and a 5-star "never again, they lost my money" is one. A passive on either side keeps the
    combined class (the rating tips a lukewarm text). Ties among the probabilities go promoter, then passive.
    """
    probs = (p_promoter, p_passive, p_detractor)
    combined = CLASSES[max(range(3), key=lambda i: (probs[i], -i))]
    if text_score is None:
        return combined
    text = nps_class(min(10.0, max(0.0, text_score)))
    return text if {combined, text} == {"promoter", "detractor"} else combined
