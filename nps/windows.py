"""Time windows an estimate is computed over: calendar day, ISO week, calendar month, or rolling 28 days.

A rolling window is 28 days ending at a week boundary (Monday 00:00 UTC), one per week: a trend of overlapping
four-week windows smooths a weekly series without one estimate per day. A document therefore falls into four
rolling windows, and into exactly one window of every other kind.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

WINDOWS = ("day", "week", "month", "rolling28")
ROLLING_DAYS = 28


def _day(when: datetime) -> datetime:
    return when.replace(hour=0, minute=0, second=0, microsecond=0)


def _next_month(start: datetime) -> datetime:
    return start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)


def window_spans(when: datetime, kind: str) -> list[tuple[datetime, datetime]]:
    """The [start, end) spans of KIND that contain the instant WHEN (UTC)."""
    day = _day(when.astimezone(UTC))
    if kind == "day":
        return [(day, day + timedelta(days=1))]
    monday = day - timedelta(days=day.weekday())
    if kind == "week":
        return [(monday, monday + timedelta(days=7))]
    if kind == "month":
        start = day.replace(day=1)
        return [(start, _next_month(start))]
    if kind == "rolling28":
        ends = [monday + timedelta(days=7 * k) for k in range(1, ROLLING_DAYS // 7 + 1)]
        return [(end - timedelta(days=ROLLING_DAYS), end) for end in ends]
    raise ValueError(f"unknown window {kind!r}; use one of {', '.join(WINDOWS)}")


def previous_span(start: datetime, end: datetime, kind: str) -> tuple[datetime, datetime]:
    """The window of the same kind just before [start, end): the comparison base of an alert rule."""
    if kind == "month":
        prev_start = (start - timedelta(days=1)).replace(day=1)
        return prev_start, start
    if kind == "rolling28":
        return start - timedelta(days=ROLLING_DAYS), start
    return start - (end - start), start
