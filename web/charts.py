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


def nps_trend(estimates: list[dict[str, Any]], order: list[str] | None = None, div_id: str = "nps-trend",
              metric: str = "NPS") -> str:
    """One line per entity with its 95% interval as a shaded band (window midpoints on the x axis); entities
    in ``order`` come first, so the entity in focus keeps the first colour."""
    by_entity: dict[str, list[dict[str, Any]]] = {name: [] for name in order or []}
    for est in estimates:
        by_entity.setdefault(est["entity"], []).append(est)
    by_entity = {name: rows for name, rows in by_entity.items() if rows}
    fig = go.Figure()
    for i, (name, rows) in enumerate(by_entity.items()):
        colour = PALETTE[i % len(PALETTE)]
        rows = sorted(rows, key=lambda r: r["window_start"])
        x = [r["window_start"] + (r["window_end"] - r["window_start"]) / 2 for r in rows]
        fig.add_trace(go.Scatter(
            x=x + x[::-1], y=[r["high"] for r in rows] + [r["low"] for r in rows][::-1], fill="toself",
            mode="lines", fillcolor=_rgba(colour, 0.15), line={"width": 0}, hoverinfo="skip", showlegend=False,
            legendgroup=name, name=f"{name} 95% interval"))
        fig.add_trace(go.Scatter(
            x=x, y=[r["nps"] for r in rows], mode="lines+markers", name=name, legendgroup=name,
            line={"color": colour, "width": 2},
            customdata=[[r["low"], r["high"], r["n"], r["method"]] for r in rows],
            hovertemplate="%{x|%Y-%m-%d}: " + metric + " %{y:.1f} [%{customdata[0]:.1f}, %{customdata[1]:.1f}]"
                          "<br>n=%{customdata[2]:.0f} (%{customdata[3]})<extra>" + name + "</extra>"))
    fig.update_layout(**LAYOUT, yaxis={"title": metric, "range": [-100, 100], "zeroline": True})
    return _html(fig, div_id)


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


def reason_breakdown(counts: dict[str, dict[str, int]], div_id: str = "reasons") -> str:
    """How many detractor and promoter reviews cite each reason code, side by side, most cited on top."""
    detractor, promoter = counts.get("detractor", {}), counts.get("promoter", {})
    codes = sorted(set(detractor) | set(promoter), key=lambda c: detractor.get(c, 0) + promoter.get(c, 0))
    fig = go.Figure()
    for name, values, colour in (("promoters", promoter, PALETTE[2]), ("detractors", detractor, PALETTE[1])):
        fig.add_trace(go.Bar(y=codes, x=[values.get(c, 0) for c in codes], orientation="h", name=name,
                             marker_color=colour, hovertemplate="%{y}: %{x} " + name + "<extra></extra>"))
    fig.update_layout(**{**LAYOUT, "height": max(260, 36 * len(codes) + 110),
                         "legend": {"orientation": "h", "y": 1.12, "traceorder": "reversed"}},
                      barmode="group", xaxis={"title": "reviews citing the reason", "rangemode": "tozero"})
    return _html(fig, div_id)


def campaign_timeline(campaigns: list[dict[str, Any]], div_id: str = "campaign-timeline") -> str:
    """Each campaign as a bar over its time window, one row per entity, coloured by kind."""
    colours = {"smear": PALETTE[1], "stuffing": PALETTE[3], "incident": PALETTE[4]}
    fig = go.Figure()
    for kind in sorted({c["kind"] for c in campaigns}):
        rows = [c for c in campaigns if c["kind"] == kind]
        fig.add_trace(go.Bar(
            base=[c["window_start"] for c in rows],
            x=[(c["window_end"] - c["window_start"]).total_seconds() * 1000 for c in rows],
            y=[c["entity"] for c in rows], orientation="h", name=kind,
            marker_color=colours.get(kind, PALETTE[5]),
            customdata=[[c["id"], len(c["member_documents"]), c["strength"]] for c in rows],
            hovertemplate="campaign %{customdata[0]}: %{customdata[1]} reviews excluded, strength "
                          "%{customdata[2]:.2f}<extra>" + kind + "</extra>"))
    fig.update_layout(**{**LAYOUT, "height": 120 + 40 * len({c["entity"] for c in campaigns})},
                      xaxis={"type": "date"}, barmode="overlay")
    return _html(fig, div_id)
