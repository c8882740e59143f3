"""What drove a change (nps.drivers): shares of a class's reviews, against the window before."""

from __future__ import annotations

import pytest

from nps.drivers import reason_changes


def test_a_reason_moves_in_share_not_in_count() -> None:
    now = {"detractor": {"delivery": 20, "app": 10}}
    before = {"detractor": {"delivery": 10, "app": 10}}
    changes = reason_changes(now, {"detractor": 40}, before, {"detractor": 20})
    app, delivery = changes  # the largest move first
    assert (delivery.code, delivery.count, delivery.share) == ("delivery", 20, 50.0)
    assert delivery.change == pytest.approx(0.0)  # twice the complaints on twice the reviews: no change
    assert app.share == 25.0 and app.change == pytest.approx(-25.0)


def test_a_reason_gone_since_the_window_before_is_listed_with_its_drop() -> None:
    changes = reason_changes({"detractor": {}}, {"detractor": 5}, {"detractor": {"price": 3}}, {"detractor": 6})
    assert [(c.code, c.count, c.previous_count, c.change) for c in changes] == [("price", 0, 3, -50.0)]


def test_without_a_previous_window_there_is_no_change() -> None:
    (only,) = reason_changes({"promoter": {"staff": 2}}, {"promoter": 8})
    assert only.change is None and only.previous_count is None and only.share == 25.0
