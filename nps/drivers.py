"""What drove a change: each reason's share of a window's detractors (and promoters) against the window before.

A count alone misleads when volume moves (twice the reviews, twice the delivery complaints, no change in what
customers say), so the comparison is in shares: the percentage of the class's reviews citing the reason, now and
before, and the difference in points. The counts stay beside the shares so a reader sees how much stands behind
a move ("delivery: +14 points of detractors, 23 reviews").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ReasonChange:
    code: str
    cls: str  # "detractor" or "promoter"
    count: float  # reviews citing it (expected counts where the classes are probabilities)
    share: float  # percent of the class's reviews in the window citing the reason
    previous_count: float | None  # None: no previous window to compare with
    previous_share: float | None

    @property
    def change(self) -> float | None:
        """Points of share gained since the previous window (None without one)."""
        return None if self.previous_share is None else self.share - self.previous_share


def _share(count: float, total: float) -> float:
    return 100.0 * count / total if total else 0.0


def reason_changes(counts: Mapping[str, Mapping[str, float]], totals: Mapping[str, float],
                   previous: Mapping[str, Mapping[str, float]] | None = None,
                   previous_totals: Mapping[str, float] | None = None) -> list[ReasonChange]:
    """Every reason cited now or before, per class, largest absolute change first (largest share without a
    previous window). ``counts[cls][code]`` is the number of the class's reviews citing the code, ``totals[cls]``
    the number of the class's reviews in the window."""
    out = []
    for cls in sorted(set(counts) | set(previous or {})):
        now, before = counts.get(cls, {}), (previous or {}).get(cls, {})
        for code in sorted(set(now) | set(before)):
            prev_count = None if previous is None else before.get(code, 0)
            out.append(ReasonChange(
                code, cls, now.get(code, 0), _share(now.get(code, 0), totals.get(cls, 0)), prev_count,
                None if prev_count is None else _share(prev_count, (previous_totals or {}).get(cls, 0))))
    return sorted(out, key=lambda r: (-(abs(r.change) if r.change is not None else r.share), r.cls, r.code))
