"""The trend chart: gaps stay gaps, a rolling window sits at its end, the axis is dates (web/charts.py)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from web.charts import contiguous_runs, nps_trend
from web.dashboard import trend_kind

MONDAY = datetime(2026, 1, 5, tzinfo=UTC)
WEEK = timedelta(days=7)


def _week(i: int, nps: float, kind: str = "week", length: timedelta = WEEK) -> dict[str, Any]:
    start = MONDAY + i * WEEK
    return {"entity": "Keytrade", "window_kind": kind, "window_start": start, "window_end": start + length,
            "n": 40, "nps": nps, "low": nps - 9, "high": nps + 9, "method": "adjusted-wald"}


def _traces(html: str) -> list[dict[str, Any]]:
    call = re.search(r"Plotly\.newPlot\(\s*\"nps-trend\",\s*(\[.*?\]),\s*\{", html, re.S)
    assert call, "no plotly call in the fragment"
    return json.loads(call.group(1))


def test_missing_weeks_split_the_series() -> None:
    rows = [_week(0, 10), _week(1, 12), _week(5, -20), _week(6, -18)]
    assert [len(r) for r in contiguous_runs(rows)] == [2, 2]
    rolling = [_week(i, 0, "rolling28", 4 * WEEK) for i in (0, 1, 2, 9)]  # overlapping windows are contiguous
    assert [len(r) for r in contiguous_runs(rolling)] == [3, 1]


def test_the_line_breaks_at_a_gap_and_the_axis_is_dates() -> None:
    html = nps_trend([_week(0, 10), _week(1, 12), _week(5, -20)])
    band, line = _traces(html)
    assert line["y"] == [10, 12, None, -20] and line["connectgaps"] is False
    assert band["y"].count(None) == 1  # one closed band per run of windows
    axes = [json.loads(a) for a in re.findall(r"\"xaxis\":\s*(\{[^{}]*\})", html)]
    assert {"type": "date", "tickformat": "%b %Y", "hoverformat": "%Y-%m-%d"} in axes


def test_rolling_windows_sit_at_their_end_and_invited_share_the_axes() -> None:
    rows = [_week(i, 5, "rolling28", 4 * WEEK) for i in range(3)]
    invited = [{**r, "nps": 60} for r in rows]
    traces = _traces(nps_trend(rows, invited=invited))
    assert [t["name"] for t in traces if t.get("showlegend") is not False] == ["Keytrade", "Keytrade invited"]
    assert traces[1]["x"][0].startswith((MONDAY + 4 * WEEK).date().isoformat())


def test_trend_is_smooth_unless_a_month_or_rolling_window_is_asked() -> None:
    assert trend_kind("week", {"week", "rolling28", "month"}) == "rolling28"
    assert trend_kind("all", {"all", "month"}) == "month"
    assert trend_kind("month", {"rolling28", "month"}) == "month"
    assert trend_kind("week", {"week"}) == "week"
