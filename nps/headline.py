"""Which stored estimate deserves to be shown as a figure, and what to say when none does.

An NPS from one review is -100 or +100 with an interval covering most of the scale; printed large on a dashboard
it reads as a fact. The rule here is the one place that decides when a window has enough data (``min_n``
organic reviews, config ``[dashboard] min_n``), which window the headline shows (the latest of the kind asked
for, else the latest of a longer kind that reaches the minimum, saying so), and whether a competitor difference
may be shown (both sides must have enough).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# the longer windows a thin latest window falls back to, shortest first (the all-time figure is the last resort)
FALLBACK_KINDS: tuple[str, ...] = ("rolling28", "month", "all")
KIND_LABEL = {"day": "day", "week": "week", "month": "month", "rolling28": "28 days", "all": "all time"}

Estimate = Mapping[str, Any]


def enough_data(estimate: Estimate | None, min_n: int) -> bool:
    """An estimate is shown as a number only when at least ``min_n`` organic reviews stand behind it."""
    return estimate is not None and float(estimate["n"]) >= min_n


def window_label(estimate: Estimate) -> str:
    """"week of 2026-11-30", "28 days to 2026-12-07", "month of 2026-11", "all time"."""
    kind = estimate["window_kind"]
    if kind == "all":
        return "all time"
    if kind == "rolling28":
        return f"28 days to {estimate['window_end']:%Y-%m-%d}"
    if kind == "month":
        return f"month of {estimate['window_start']:%Y-%m}"
    return f"{kind} of {estimate['window_start']:%Y-%m-%d}"


@dataclass(frozen=True)
class Headline:
    """``shown`` is the estimate printed (None: not enough data anywhere); ``latest`` the newest window of the kind
    asked for, which may be thinner than ``shown``; ``note`` says in words which window the figure is."""

    shown: Estimate | None
    latest: Estimate | None
    note: str
    min_n: int

    @property
    def fell_back(self) -> bool:
        return self.shown is not None and self.shown is not self.latest


def choose_headline(by_kind: Mapping[str, Sequence[Estimate]], kind: str, min_n: int) -> Headline:
    """The headline for window ``kind`` from the entity-total estimates per kind (each list oldest first)."""
    series = by_kind.get(kind)
    latest = series[-1] if series else None
    if enough_data(latest, min_n):
        assert latest is not None
        return Headline(latest, latest, window_label(latest), min_n)
    thin = (f"not enough data in the {window_label(latest)} (n={float(latest['n']):.0f} < {min_n})"
            if latest is not None else f"no {KIND_LABEL.get(kind, kind)} estimate stored")
    for longer in FALLBACK_KINDS:
        rows = by_kind.get(longer)
        if longer != kind and rows and enough_data(rows[-1], min_n):
            return Headline(rows[-1], latest, f"{thin}; showing {window_label(rows[-1])}", min_n)
    return Headline(None, latest, thin, min_n)


def comparable(ours: Estimate | None, theirs: Estimate | None, min_n: int) -> bool:
    """A difference between two estimates is shown only when both have enough data on their own."""
    return enough_data(ours, min_n) and enough_data(theirs, min_n)
