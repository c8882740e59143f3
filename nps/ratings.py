"""A native rating on the scales the product uses: its maximum, stars 1-5, and 0-10. The one rule for all three.

The crawl pipeline stores ``rating_0_10`` with it, the bot filter's features read ratings through it (in
training on raw ratings, at night on stored rows), the scorer turns ratings into stars with it, and the
calibration convention (``nps.classes.star_class``) reads its stars. A second mapping anywhere else is how a
1-star review once read as 1.00 "extreme" in training and 0.60 at night.

Scales: a source that does not declare its maximum gets the contract's guess (docs/CONTRACTS.md): 5 up to 5,
10 up to 10, else 100. A 5-point scale is a star scale and starts at 1 star, so 1..5 stars map linearly onto
0..10 (1 star is the lowest answer, 0, as on the NPS question); 10- and 100-point scales start at 0 and are
divided by their maximum. Values outside the scale are clipped (a half star on Rotten Tomatoes' 0.5-5 is 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STAR_SCALE = 5.0


def native_scale(rating: float, declared: float | None = None) -> float:
    """The native maximum of RATING: the declared one, else 5 if rating <= 5, 10 if <= 10, else 100."""
    if declared:
        return float(declared)
    if rating <= 5:
        return 5.0
    if rating <= 10:
        return 10.0
    return 100.0


def rating_in_stars(rating: float | None, scale: float | None = None) -> float | None:
    """A native rating on the 1-5 star scale (continuous, clipped), or None where there is none."""
    if rating is None:
        return None
    top = native_scale(float(rating), scale)
    return min(max(float(rating) / top * STAR_SCALE, 1.0), STAR_SCALE)


def rating_0_10(rating: float | None, scale: float | None = None) -> float | None:
    """A native rating on 0-10 (module doc): stars 1..5 linearly onto 0..10, other scales rating / max * 10."""
    if rating is None:
        return None
    rating = float(rating)
    top = native_scale(rating, scale)
    if top == STAR_SCALE:
        value = (rating - 1.0) / (STAR_SCALE - 1.0) * 10.0
    else:
        value = rating / top * 10.0
    return round(min(max(value, 0.0), 10.0), 4)


def record_rating_0_10(record: Mapping[str, Any]) -> float | None:
    """A record's rating on 0-10 from its native ``rating`` and ``rating_scale`` (the stored ``rating_0_10`` is
    this same value), else None."""
    return rating_0_10(record.get("rating"), record.get("rating_scale"))
