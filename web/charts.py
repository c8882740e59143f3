"""Plotly figures for the dashboard, built from the dicts web/reads.py returns.

Each function returns an HTML fragment (a div and the script that draws it); the page loads plotly.min.js once
from this server (/static/plotly.min.js, the copy inside the installed plotly package), never from a CDN.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

PALETTE = ("#1f6feb", "#d1495b", "#2a9d8f", "#e9a03b", "#7b61ff", "#6c757d", "#8d6e63", "#00838f")
LAYOUT = {
    "margin": {"l": 50, "r": 20, "t": 30, "b": 40},
    "height": 340,
    "template": "plotly_white",
    "legend": {"orientation": "h", "y": -0.18},
    "font": {"family": "system-ui, sans-serif", "size": 12},
}


def _html(fig: go.Figure, div_id: str) -> str:
    return pio.to_html(fig, include_plotlyjs=False, full_html=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True})


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


# campaigns and incidents (models.campaigns kinds), the same colour on the campaigns timeline and the trend
EVENT_COLOURS = {"smear": PALETTE[1], "stuffing": PALETTE[3], "incident": PALETTE[4]}
EVENT_LABELS = {"smear": "smear campaign", "stuffing": "stuffing campaign", "incident": "incident"}

TICKS = {"day": "%d %b %Y", "week": "%b %Y", "month": "%b %Y", "rolling28": "%b %Y"}


def _x(row: dict[str, Any]) -> Any:
    """Where a window sits on the time axis: a rolling window at its end (the 28 days *to* that date), the others
    at their middle."""
    if row["window_kind"] == "rolling28":
        return row["window_end"]
    return row["window_start"] + (row["window_end"] - row["window_start"]) / 2


def contiguous_runs(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Windows split where one does not reach the next (a week, month or rolling window with no estimate between),
    so a chart draws a gap there instead of a straight line across months without data."""
    runs: list[list[dict[str, Any]]] = []
    for row in sorted(rows, key=lambda r: r["window_start"]):
        if runs and row["window_start"] <= runs[-1][-1]["window_end"]:
            runs[-1].append(row)
        else:
            runs.append([row])
    return runs


def _with_gaps(runs: list[list[dict[str, Any]]], value: Any) -> list[Any]:
    out: list[Any] = []
    for run in runs:
        out += [*(value(r) for r in run), None]
    return out[:-1]


def nps_trend(estimates: list[dict[str, Any]], order: list[str] | None = None, div_id: str = "nps-trend",
              invited: list[dict[str, Any]] | None = None, metric: str = "NPS",
              survey: list[dict[str, Any]] | None = None, events: list[dict[str, Any]] | None = None) -> str:
    """One line per entity with its 95% interval as a shaded band, broken where windows are missing; entities in
    ``order`` come first, so the entity in focus keeps the first colour. ``invited``: the focus entity's invited
    reviews (estimated apart) on the same axes, dashed; ``survey``: its survey NPS per window, dotted (rows shaped
    like the estimates); ``events``: campaigns and incidents (``kind, window_start, window_end``), each a shaded
    band over its window and a marker on top named by its kind, so a dip can be read against what happened."""
    by_entity: dict[str, list[dict[str, Any]]] = {name: [] for name in order or []}
    for est in estimates:
        by_entity.setdefault(est["entity"], []).append(est)
    series = [(name, rows, PALETTE[i % len(PALETTE)], "solid")
              for i, (name, rows) in enumerate((n, r) for n, r in by_entity.items() if r)]
    if invited and series:
        series.append((f"{series[0][0]} invited", invited, series[0][2], "dash"))
    if survey and series:
        series.append((f"{series[0][0]} survey", survey, series[0][2], "dot"))
    fig = go.Figure()
    for name, rows, colour, dash in series:
        runs = contiguous_runs(rows)
        band_x: list[Any] = []
        band_y: list[Any] = []
        for run in runs:
            band_x += [*(_x(r) for r in run), *(_x(r) for r in run[::-1]), None]
            band_y += [*(r["high"] for r in run), *(r["low"] for r in run[::-1]), None]
        fig.add_trace(go.Scatter(
            x=band_x[:-1], y=band_y[:-1], fill="toself", mode="lines", fillcolor=_rgba(colour, 0.15 if dash ==
            "solid" else 0.07), line={"width": 0}, hoverinfo="skip", showlegend=False, legendgroup=name,
            name=f"{name} 95% interval"))
        fig.add_trace(go.Scatter(
            x=_with_gaps(runs, _x), y=_with_gaps(runs, lambda r: r["nps"]), mode="lines+markers", name=name,
            legendgroup=name, connectgaps=False, line={"color": colour, "width": 2, "dash": dash},
            marker={"size": 4},
            customdata=_with_gaps(runs, lambda r: [r["low"], r["high"], r["n"], r["method"]]),
            hovertemplate="%{x|%Y-%m-%d}: " + metric + " %{y:.1f} [%{customdata[0]:.1f}, %{customdata[1]:.1f}]"
                          "<br>n=%{customdata[2]:.0f} (%{customdata[3]})<extra>" + name + "</extra>"))
    if events and estimates:
        _mark_events(fig, events, min(r["window_start"] for r in estimates), max(r["window_end"] for r in estimates))
    kind = estimates[0]["window_kind"] if estimates else "week"
    fig.update_layout(**LAYOUT, yaxis={"title": metric, "range": [-100, 100], "zeroline": True},
                      xaxis={"type": "date", "tickformat": TICKS.get(kind, "%b %Y"), "hoverformat": "%Y-%m-%d"})
    return _html(fig, div_id)


def _mark_events(fig: go.Figure, events: list[dict[str, Any]], first: Any, last: Any) -> None:
    """The events that overlap the trend's span: a band over each window (a day-long incident is too thin to see
    on years of trend, so a marker at the top names it too, one legend entry per kind)."""
    shown = [e for e in events if e["window_end"] > first and e["window_start"] < last]
    for event in shown:
        fig.add_vrect(x0=event["window_start"], x1=event["window_end"], line_width=0, layer="below",
                      fillcolor=_rgba(EVENT_COLOURS.get(event["kind"], PALETTE[5]), 0.18))
    for kind in sorted({e["kind"] for e in shown}):
        rows = [e for e in shown if e["kind"] == kind]
        fig.add_trace(go.Scatter(
            x=[e["window_start"] + (e["window_end"] - e["window_start"]) / 2 for e in rows], y=[96] * len(rows),
            mode="markers", name=EVENT_LABELS.get(kind, kind), marker={
                "symbol": "triangle-down", "size": 11, "color": EVENT_COLOURS.get(kind, PALETTE[5])},
            customdata=[[e.get("id"), e["window_start"], e["window_end"], len(e.get("member_ids") or [])]
                        for e in rows],
            hovertemplate="#%{customdata[0]}: %{customdata[1]|%Y-%m-%d} to %{customdata[2]|%Y-%m-%d}, "
                          "%{customdata[3]} reviews<extra>" + EVENT_LABELS.get(kind, kind) + "</extra>"))


def survey_vs_organic(organic: list[dict[str, Any]], survey: list[dict[str, Any]],
                      div_id: str = "survey-vs-organic") -> str:
    """Organic NPS and survey NPS per window, each with its interval as error bars."""
    fig = go.Figure()
    for rows, name, colour, dx in ((organic, "organic", PALETTE[0], 0), (survey, "survey", PALETTE[1], 1)):
        rows = sorted(rows, key=lambda r: r["window_start"])
        fig.add_trace(go.Scatter(
            x=[r["window_start"] for r in rows], y=[r["nps"] for r in rows], mode="lines+markers", name=name,
            line={"color": colour, "dash": "solid" if dx == 0 else "dot"},
            error_y={"type": "data", "symmetric": False, "array": [r["high"] - r["nps"] for r in rows],
                     "arrayminus": [r["nps"] - r["low"] for r in rows], "color": _rgba(colour, 0.5)}))
    fig.update_layout(**LAYOUT, yaxis={"title": "NPS", "range": [-100, 100]})
    return _html(fig, div_id)


# a bar whose point carries a link (customdata[0]) opens it when clicked: a chart leads to the reviews behind it
CLICK_TO_OPEN = ("document.getElementById('{plot_id}').on('plotly_click', function (e) {"
                 " var link = e.points[0].customdata[0]; if (link) { window.location.assign(link); } });")


def reason_breakdown(changes: list[Any], links: dict[tuple[str, str], str], div_id: str = "reasons") -> str:
    """Each reason's share of the window's detractor and promoter reviews, side by side, most cited on top; the
    hover says how many reviews and how the share moved since the previous window, a click opens those reviews.
    ``changes`` are ``nps.drivers.ReasonChange``; ``links[(cls, code)]`` the reviews page for each bar."""
    now = {(c.cls, c.code): c for c in changes if c.count}
    codes = sorted({code for _, code in now}, key=lambda code: sum(c.count for (_, k), c in now.items()
                                                                  if k == code))
    fig = go.Figure()
    for cls, name, colour in (("promoter", "promoters", PALETTE[2]), ("detractor", "detractors", PALETTE[1])):
        rows = [now.get((cls, code)) for code in codes]
        fig.add_trace(go.Bar(
            y=codes, x=[r.share if r else 0 for r in rows], orientation="h", name=name, marker_color=colour,
            customdata=[[links.get((cls, code), ""), r.count if r else 0,
                         "" if not r or r.change is None else f"{r.change:+.0f} points since the window before"]
                        for code, r in zip(codes, rows, strict=True)],
            hovertemplate="%{y}: %{x:.0f}% of " + name + " (%{customdata[1]} reviews)<br>%{customdata[2]}"
                          "<extra>click for the reviews</extra>"))
    fig.update_layout(**{**LAYOUT, "height": max(260, 36 * len(codes) + 110),
                         "legend": {"orientation": "h", "y": 1.12, "traceorder": "reversed"}},
                      barmode="group", xaxis={"title": "% of the class's reviews citing the reason",
                                              "rangemode": "tozero", "ticksuffix": "%"})
    return pio.to_html(fig, include_plotlyjs=False, full_html=False, div_id=div_id, post_script=CLICK_TO_OPEN,
                       config={"displaylogo": False, "responsive": True})


def campaign_timeline(campaigns: list[dict[str, Any]], div_id: str = "campaign-timeline") -> str:
    """Each campaign as a bar over its time window, one row per entity, coloured by kind."""
    fig = go.Figure()
    for kind in sorted({c["kind"] for c in campaigns}):
        rows = [c for c in campaigns if c["kind"] == kind]
        fig.add_trace(go.Bar(
            base=[c["window_start"] for c in rows],
            x=[(c["window_end"] - c["window_start"]).total_seconds() * 1000 for c in rows],
            y=[c["entity"] for c in rows], orientation="h", name=kind,
            marker_color=EVENT_COLOURS.get(kind, PALETTE[5]),
            customdata=[[c["id"], len(c["member_documents"]), c["strength"]] for c in rows],
            hovertemplate="campaign %{customdata[0]}: %{customdata[1]} reviews excluded, strength "
                          "%{customdata[2]:.2f}<extra>" + kind + "</extra>"))
    fig.update_layout(**{**LAYOUT, "height": 120 + 40 * len({c["entity"] for c in campaigns})},
                      xaxis={"type": "date"}, barmode="overlay")
    return _html(fig, div_id)
