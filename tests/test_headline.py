"""The headline rule (nps.headline) and the overview's default entity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from config.schema import DashboardConfig, EntityConfig, OnpsConfig
from nps.headline import choose_headline, comparable, enough_data
from web.dashboard import default_entity

MONDAY = datetime(2026, 11, 30, tzinfo=UTC)


def _est(kind: str, n: float, nps: float = 0.0, days: int = 7) -> dict[str, Any]:
    return {"window_kind": kind, "window_start": MONDAY - timedelta(days=days - 7),
            "window_end": MONDAY + timedelta(days=7), "n": n, "nps": nps, "low": nps - 10, "high": nps + 10}


def test_a_thin_week_is_not_a_figure_and_says_so() -> None:
    head = choose_headline({"week": [_est("week", 1, -100)]}, "week", 30)
    assert head.shown is None and head.latest is not None
    assert "not enough data in the week of 2026-11-30 (n=1 < 30)" == head.note


def test_a_thin_week_falls_back_to_the_shortest_longer_window_that_has_enough() -> None:
    by_kind = {"week": [_est("week", 3)], "rolling28": [_est("rolling28", 12, days=28)],
               "month": [_est("month", 40, 5.0, days=30)], "all": [_est("all", 900)]}
    head = choose_headline(by_kind, "week", 30)
    assert head.shown is by_kind["month"][0] and head.fell_back
    assert head.note.endswith("showing month of 2026-11")


def test_enough_in_the_window_asked_for_is_shown_as_it_is() -> None:
    week = _est("week", 30, 20.0)
    head = choose_headline({"week": [_est("week", 500), week], "all": [_est("all", 900)]}, "week", 30)
    assert head.shown is week and not head.fell_back and head.note == "week of 2026-11-30"


def test_a_difference_needs_both_sides_to_have_enough() -> None:
    assert comparable(_est("week", 30), _est("week", 31), 30)
    assert not comparable(_est("week", 30), _est("week", 29), 30)
    assert not enough_data(None, 1)


def test_default_entity_is_home_then_first_configured_not_alphabetical() -> None:
    stored = [{"id": 2, "name": "Argenta"}, {"id": 1, "name": "Keytrade"}, {"id": 3, "name": "Zed"}]
    entities = [EntityConfig(name="Zed"), EntityConfig(name="Argenta"), EntityConfig(name="Keytrade")]
    assert default_entity(stored, OnpsConfig(entities=entities)) == "Zed"
    home = OnpsConfig(entities=entities, dashboard=DashboardConfig(home="Keytrade"))
    assert default_entity(stored, home) == "Keytrade"
    assert default_entity(stored, OnpsConfig()) == "Keytrade"  # no config: the first one registered
    assert default_entity([], OnpsConfig()) is None
