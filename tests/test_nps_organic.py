"""The organic rules of estimate_groups: who is counted, who is excluded and why, per group and window."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from nps.organic import ADJUSTED, ADJUSTED_CLASSES, estimate_groups, exclusion
from nps.record import parse_time
from nps.windows import window_spans

THRESHOLDS = SimpleNamespace(dirichlet_below_n=50, thin_segment_n=30, copy_min_words=10)
PROMOTER = {"p_promoter": 0.9, "p_passive": 0.05, "p_detractor": 0.05}
DETRACTOR = {"p_promoter": 0.05, "p_passive": 0.05, "p_detractor": 0.9}


LONG = "The app crashed twice during a transfer and support never answered my three emails about it."


def row(i: int, probs: dict[str, float], **fields: Any) -> dict[str, Any]:
    base = {"id": str(i), "text": f"review number {i}", "entity": "Acme", "source": "shop", "author": f"a{i}",
            "published_at": "2026-11-02T10:00:00Z", "bot": False, "campaign": False}
    return base | probs | fields


def test_exclusions_are_counted_by_rule_and_account_for_every_row() -> None:
    rows = [row(i, PROMOTER) for i in range(10)]
    rows += [row(100 + i, DETRACTOR, bot=True) for i in range(3)]
    rows += [row(200 + i, DETRACTOR, campaign=True) for i in range(4)]
    rows += [row(300, PROMOTER, text="review number 1", source="other")]  # a syndicated copy of row 1
    rows[2]["text"] = LONG  # long enough to be a copy on the same source whoever wrote it
    rows += [row(301, DETRACTOR, text=LONG.upper(), published_at="2026-11-01T00:00:00Z")]  # earlier copy
    rows += [row(400 + i, DETRACTOR, author="a5") for i in range(2)]  # author a5 speaks three times
    [est] = estimate_groups(rows, ["entity"], None, THRESHOLDS, train_prior=None)
    assert est.excluded == {"bot": 3, "campaign": 4, "syndicated": 2, "repeat_author": 2}
    assert est.n + sum(est.excluded.values()) == len(rows)
    # a5's voice is the mean of one promoter and two detractors; the earlier copy of review 2 (a detractor)
    # is the one kept, so the promoter row 2 is the syndicated duplicate.
    a5 = (0.9 + 0.05 + 0.05) / 3, (0.05 * 3) / 3, (0.05 + 0.9 + 0.9) / 3
    expected_promoters = 8 * 0.9 + 0.05 + a5[0]
    assert est.promoters == pytest.approx(expected_promoters)
    assert est.promoters + est.passives + est.detractors == pytest.approx(est.n)
    assert est.nps == pytest.approx(100 * (est.promoters - est.detractors) / est.n)
    assert est.method == "dirichlet" and est.adjustment.startswith("none")


def test_one_voice_per_author_per_window_not_across_windows() -> None:
    rows = [row(1, PROMOTER, author="x", published_at="2026-11-02T10:00:00Z"),
            row(2, PROMOTER, author="x", published_at="2026-11-03T10:00:00Z"),
            row(3, DETRACTOR, author="x", published_at="2026-11-12T10:00:00Z")]
    ests = estimate_groups(rows, ["entity"], "week", THRESHOLDS, train_prior=None)
    assert [(e.window_start.date().isoformat(), e.n, e.excluded) for e in ests] == [
        ("2026-11-02", 1.0, {"repeat_author": 1}),
        ("2026-11-09", 1.0, {}),
    ]


def test_undated_rows_are_excluded_from_windows_but_not_from_all_time() -> None:
    rows = [row(1, PROMOTER), row(2, DETRACTOR, published_at=None)]
    [windowed] = estimate_groups(rows, ["entity"], "month", THRESHOLDS, None)
    assert windowed.n == 1 and windowed.excluded == {}  # an undated row belongs to no window's group
    assert exclusion(rows, "month", 10) == [None, "no_date"]
    [all_time] = estimate_groups(rows, ["entity"], None, THRESHOLDS, None)
    assert all_time.n == 2 and all_time.excluded == {}


def test_groups_by_reason_code_and_reason_summary() -> None:
    rows = [row(1, DETRACTOR, reasons=[{"code": "price", "polarity": "negative"}, {"code": "delivery"}]),
            row(2, PROMOTER, reasons=[{"code": "price", "polarity": "positive"}]),
            row(3, PROMOTER)]
    ests = {e.group["reason"]: e for e in estimate_groups(rows, ["reason"], None, THRESHOLDS, None)}
    assert set(ests) == {"price", "delivery", None}
    assert ests["price"].n == 2 and ests["delivery"].n == 1
    assert ests["price"].reasons["price"] == {"mentions": 2, "negative": 1, "detractors": pytest.approx(0.95),
                                              "promoters": pytest.approx(0.95)}


def test_thin_segments_pool_towards_the_entity() -> None:
    rows = [row(i, PROMOTER, source="big") for i in range(60)] + [row(100 + i, DETRACTOR, source="thin")
                                                                  for i in range(5)]
    ests = {e.group["source"]: e for e in estimate_groups(rows, ["entity", "source"], None, THRESHOLDS, None)}
    assert ests["thin"].method.startswith("pooled-to-parent")
    assert ests["thin"].nps > 100 * (0.05 - 0.9)  # pulled up from the segment's own -85 towards the entity
    assert ests["big"].method == "adjusted-wald"


def test_a_segment_that_is_its_whole_parent_is_not_pooled_towards_itself() -> None:
    rows = [row(i, PROMOTER, source="only") for i in range(10)]
    [only] = estimate_groups(rows, ["entity", "source"], None, THRESHOLDS, None)
    assert only.method == "dirichlet"


def test_em_adjustment_moves_shares_towards_the_groups_mix() -> None:
    rows = [row(i, {"p_promoter": 0.3, "p_passive": 0.2, "p_detractor": 0.5}) for i in range(40)]
    [plain] = estimate_groups(rows, ["entity"], None, THRESHOLDS, None)
    [adjusted] = estimate_groups(rows, ["entity"], None, THRESHOLDS, train_prior=[0.2, 0.2, 0.6])
    # the group leans to promoters more than the training mix did: EM moves the estimate further that way
    assert adjusted.nps > plain.nps
    assert adjusted.adjustment.startswith("em-prior")


def test_active_detractors_and_word_of_mouth_index() -> None:
    rows = [row(i, DETRACTOR, active_detractor=i < 20) for i in range(40)] + [row(100 + i, PROMOTER)
                                                                              for i in range(60)]
    [est] = estimate_groups(rows, ["entity"], None, THRESHOLDS, None)
    out = est.to_dict()
    assert out["detractor_split"]["active"] == pytest.approx(20 * 0.9, abs=0.01)
    assert out["detractor_split"]["active"] + out["detractor_split"]["passive"] == pytest.approx(
        out["detractors"], abs=0.02)
    assert out["wom"]["index"] == pytest.approx(100 * (est.promoters - est.active_detractors) / 100, abs=0.01)
    assert out["wom"]["index"] > out["nps"]  # only active detractors count against the WoM index
    assert out["detractor_split"]["low"] < 0.5 < out["detractor_split"]["high"]


def test_rows_without_probabilities_are_an_error_that_names_the_row() -> None:
    with pytest.raises(ValueError, match="'7'"):
        estimate_groups([{"id": "7", "entity": "Acme"}], ["entity"], None, THRESHOLDS, None)


def test_window_spans() -> None:
    when = parse_time("2026-11-04T23:30:00+02:00")  # Wednesday 21:30 UTC
    assert window_spans(when, "day")[0][0].isoformat() == "2026-11-04T00:00:00+00:00"
    assert window_spans(when, "week")[0][0].isoformat() == "2026-11-02T00:00:00+00:00"
    assert window_spans(when, "month")[0][1].isoformat() == "2026-12-01T00:00:00+00:00"
    rolling = window_spans(when, "rolling28")
    assert len(rolling) == 4 and all(start <= when < end for start, end in rolling)


def test_each_rows_model_error_widens_its_groups_interval_by_the_mean_of_its_voices() -> None:
    """Rated reviews are scored with a smaller group error than text-only posts; a group's interval carries the
    mean error of its voices, and rows without their own error take the caller's default."""
    mix = [PROMOTER] * 60 + [DETRACTOR] * 40
    rated = [row(i, p, source="shop", model_error=4.0) for i, p in enumerate(mix)]
    posts = [row(1000 + i, p, source="forum", model_error=20.0) for i, p in enumerate(mix)]
    plain = [row(2000 + i, p, source="blog") for i, p in enumerate(mix)]
    by_source = {e.group["source"]: e for e in estimate_groups(rated + posts + plain, ["source"], None, THRESHOLDS,
                                                                train_prior=None, model_se=9.0)}
    width = {name: e.high - e.low for name, e in by_source.items()}
    assert by_source["shop"].nps == pytest.approx(by_source["forum"].nps)  # same voices, same estimate
    assert width["shop"] < width["blog"] < width["forum"]
    assert by_source["shop"].method.endswith("model error 4")
    assert by_source["blog"].method.endswith("model error 9")
    [both] = estimate_groups(rated + posts, ["entity"], None, THRESHOLDS, train_prior=None)
    assert both.method.endswith("model error 12")  # half the voices at 4, half at 20


def _levels(stars: list[float]) -> dict[str, Any]:
    """A row's five star-level probabilities with the class probabilities they collapse to."""
    return {"p_levels": stars, "p_promoter": stars[4], "p_passive": stars[3], "p_detractor": sum(stars[:3])}


def test_groups_with_star_levels_are_adjusted_over_the_levels() -> None:
    """A group of lukewarm 3-star texts: EM over the levels reads them as detractors, the class EM (same
    class probabilities) does not move them as far."""
    three_star = [0.05, 0.15, 0.5, 0.25, 0.05]
    rows = [row(i, _levels(three_star)) for i in range(60)]
    [by_level] = estimate_groups(rows, ["entity"], None, THRESHOLDS, [0.2, 0.2, 0.6], level_prior=[0.2] * 5)
    [by_class] = estimate_groups(rows, ["entity"], None, THRESHOLDS, [0.2, 0.2, 0.6])
    assert by_level.adjustment == ADJUSTED and by_class.adjustment == ADJUSTED_CLASSES
    assert by_level.promoters + by_level.passives + by_level.detractors == pytest.approx(60)
    assert by_level.detractors > by_class.detractors


def test_rows_stored_without_levels_fall_back_to_the_class_em() -> None:
    """Scores stored before levels were kept (p_levels None or absent): the group still estimates, over the
    three classes, and one such row in a group is enough to adjust the whole group that way."""
    old = [row(i, {"p_promoter": 0.3, "p_passive": 0.2, "p_detractor": 0.5}, p_levels=None) for i in range(40)]
    [est] = estimate_groups(old, ["entity"], None, THRESHOLDS, [0.2, 0.2, 0.6], level_prior=[0.2] * 5)
    [expected] = estimate_groups(old, ["entity"], None, THRESHOLDS, [0.2, 0.2, 0.6])
    assert est.adjustment == ADJUSTED_CLASSES and est.nps == pytest.approx(expected.nps)
    new = [row(100 + i, _levels([0.1, 0.1, 0.3, 0.2, 0.3])) for i in range(40)]
    [mixed] = estimate_groups(old[:1] + new, ["entity"], None, THRESHOLDS, [0.2, 0.2, 0.6],
                              level_prior=[0.2] * 5)
    assert mixed.adjustment == ADJUSTED_CLASSES and mixed.n == 41


def test_malformed_levels_name_the_row() -> None:
    rows = [row(1, _levels([0.2] * 5)), row(2, {**_levels([0.2] * 5), "p_levels": [0.5, 0.5, 0.5, 0.0, 0.0]})]
    with pytest.raises(ValueError, match="row '2': p_levels"):
        estimate_groups(rows, ["entity"], None, THRESHOLDS, [0.2, 0.2, 0.6], level_prior=[0.2] * 5)


def test_equal_short_texts_are_copies_only_from_one_author_or_across_sources() -> None:
    """'good app' by two anonymous people on one store is two voices; a long text repeated is one."""
    anon = [row(i, PROMOTER, text="Good app!", author=None) for i in range(3)]
    assert exclusion(anon, None, 10) == [None, None, None]
    same_author = [row(1, PROMOTER, text="good app", author="x"),
                   row(2, PROMOTER, text="Good  app.", author="x", published_at="2026-11-03T10:00:00Z")]
    assert exclusion(same_author, None, 10) == [None, "syndicated"]
    two_sources = [row(1, PROMOTER, text="good app", author=None),
                   row(2, PROMOTER, text="good app", author=None, source="elsewhere")]
    assert sorted(map(str, exclusion(two_sources, None, 10))) == ["None", "syndicated"]
    long_copies = [row(i, PROMOTER, text=LONG, author=None) for i in range(3)]
    assert exclusion(long_copies, None, 10).count("syndicated") == 2


def test_the_kept_copy_does_not_depend_on_input_order() -> None:
    rows = [row(i, PROMOTER, text=LONG, published_at=f"2026-11-01T10:00:00+0{i}:00") for i in range(1, 6)]
    kept = {r["id"] for r, v in zip(rows, exclusion(rows, None, 10), strict=True) if v is None}
    for shuffled in (rows[::-1], rows[2:] + rows[:2]):
        assert {r["id"] for r, v in zip(shuffled, exclusion(shuffled, None, 10), strict=True) if v is None} == kept
    assert kept == {"5"}  # 10:00+05:00 is the earliest instant, though not the earliest text


def test_invited_reviews_are_left_out_and_estimated_apart() -> None:
    organic = [row(i, DETRACTOR) for i in range(40)]
    invited = [row(100 + i, PROMOTER, invited=True) for i in range(30)]
    unknown = [row(200 + i, PROMOTER, invited=None) for i in range(5)]  # absent = unknown: stays organic
    [est] = estimate_groups(organic + invited + unknown, ["entity"], None, THRESHOLDS, None)
    assert est.excluded == {"invited": 30} and est.n == 45
    assert est.nps < -50 and est.invited is not None and est.invited_n == 30 and est.invited.nps > 70
    line = est.to_dict()
    assert line["invited"]["n"] == 30 and line["invited"]["low"] <= line["invited"]["nps"] <= line["invited"]["high"]
    [plain] = estimate_groups(organic, ["entity"], None, THRESHOLDS, None)
    assert plain.invited is None and plain.to_dict()["invited"] is None
