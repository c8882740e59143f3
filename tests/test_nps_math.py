"""NPS classes, intervals and the EM prior adjustment against hand-computed cases and seeded simulations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nps.classes import classes_from_levels, nps_class, nps_from_shares, star_class
from nps.interval import DIRICHLET_PRIOR, adjusted_wald, dirichlet, nps_interval, pooled
from nps.quantify import EM_MIN_PSEUDO_VOICES, EM_PRIOR_WEIGHT, em_level_adjust, em_prior_adjust, pseudo_voices_for


@pytest.mark.parametrize(
    ("score", "expected"),
    [(0, "detractor"), (6, "detractor"), (6.4, "detractor"), (6.5, "passive"), (7, "passive"), (8, "passive"),
     (8.5, "promoter"), (9, "promoter"), (10, "promoter")],
)
def test_nps_class_boundaries(score: float, expected: str) -> None:
    assert nps_class(score) == expected


def test_nps_class_rejects_out_of_scale() -> None:
    with pytest.raises(ValueError, match="0-10"):
        nps_class(11)


@pytest.mark.parametrize(
    ("rating", "scale", "expected"),
    [(5, None, "promoter"), (4, None, "passive"), (3, None, "detractor"), (1, None, "detractor"),
     (10, 10, "promoter"), (9, 10, "promoter"), (8, 10, "passive"), (7, 10, "passive"), (6, 10, "detractor"),
     (0, 10, "detractor"), (90, 100, "promoter"), (4.5, 5, "promoter"), (7, None, "passive")],
)
def test_star_convention(rating: float, scale: float | None, expected: str) -> None:
    assert star_class(rating, scale) == expected


def test_star_convention_rejects_rating_above_its_scale() -> None:
    with pytest.raises(ValueError, match="outside its scale"):
        star_class(6, 5)


def test_nps_from_shares() -> None:
    assert nps_from_shares([50, 30, 20]) == pytest.approx(30.0)
    assert nps_from_shares([0.1, 0.2, 0.7]) == pytest.approx(-60.0)


def test_adjusted_wald_matches_hand_computation() -> None:
    # n=100, 50 promoters, 20 detractors: n' = 103, p' = 50.75/103 = 0.49272, d' = 20.75/103 = 0.20146,
    # Var = (p' + d' - (p' - d')^2) / n' = (0.69417 - 0.08483) / 103 = 0.0059159, se = 0.076915,
    # centre 29.126, half-width 1.96 * 7.6915 = 15.075 -> [14.05, 44.20]; the point stays the plain 30.
    result = adjusted_wald([50, 30, 20])
    assert result.nps == pytest.approx(30.0)
    assert result.low == pytest.approx(14.051, abs=0.01)
    assert result.high == pytest.approx(44.201, abs=0.01)
    assert result.method == "adjusted-wald"


def test_adjusted_wald_adds_model_error_in_quadrature() -> None:
    plain = adjusted_wald([50, 30, 20])
    wider = adjusted_wald([50, 30, 20], model_se=10.0)
    half_plain = (plain.high - plain.low) / 2
    assert (wider.high - wider.low) / 2 == pytest.approx(math.sqrt(half_plain**2 + (1.96 * 10) ** 2), rel=1e-3)


def test_adjusted_wald_stays_on_the_scale() -> None:
    result = adjusted_wald([0, 0, 5])
    assert result.low == -100.0 and result.nps == -100.0 and result.high < 0


def test_dirichlet_matches_posterior_moments() -> None:
    counts = np.array([30.0, 10.0, 20.0])
    alpha = counts + DIRICHLET_PRIOR
    total = alpha.sum()
    mean = 100 * (alpha[0] - alpha[2]) / total
    var = 1e4 * (alpha[0] * (total - alpha[0]) + alpha[2] * (total - alpha[2]) + 2 * alpha[0] * alpha[2]) / (
        total**2 * (total + 1)
    )
    result = dirichlet(counts)
    assert result.nps == pytest.approx(100 * 10 / 60)
    assert (result.low + result.high) / 2 == pytest.approx(mean, abs=1.0)
    assert (result.high - result.low) / 2 == pytest.approx(1.96 * math.sqrt(var), rel=0.05)
    assert result.method == "dirichlet"


def test_pooling_pulls_towards_the_parent_and_fades_at_the_threshold() -> None:
    parent = [60, 30, 10]  # the parent's other voices: NPS +50
    thin = pooled([0, 1, 4], parent, target_n=30)  # the segment alone: -80
    assert -80 < thin.nps < 50
    assert thin.nps == pytest.approx(100 * (0 + 25 * 0.6 - 4 - 25 * 0.1) / 30, abs=1e-6)
    at_threshold = pooled([10, 10, 10], parent, target_n=30)
    assert at_threshold.nps == pytest.approx(0.0, abs=1e-6)
    small_parent = pooled([0, 1, 4], [3, 0, 0], target_n=30)  # lends 3 voices, not 25
    assert small_parent.nps == pytest.approx(100 * (3 - 4) / 8, abs=1e-6)


def test_method_chosen_by_n_and_parent() -> None:
    assert nps_interval([40, 30, 30], 50, 30).method == "adjusted-wald"
    assert nps_interval([10, 10, 10], 50, 30).method == "dirichlet"
    assert nps_interval([5, 5, 5], 50, 30, parent_counts=[50, 30, 20]).method.startswith("pooled-to-parent")
    assert nps_interval([20, 10, 10], 50, 30, parent_counts=[50, 30, 20]).method == "dirichlet"


@pytest.mark.parametrize(
    ("p_plus", "p_minus", "n"),
    [(0.5, 0.2, 200), (0.3, 0.3, 100), (0.7, 0.1, 60), (0.2, 0.5, 20), (0.4, 0.4, 10), (0.85, 0.05, 12)],
)
def test_interval_coverage_close_to_95_percent(p_plus: float, p_minus: float, n: int) -> None:
    rng = np.random.default_rng(1234)
    truth = 100 * (p_plus - p_minus)
    draws = rng.multinomial(n, [p_plus, 1 - p_plus - p_minus, p_minus], size=300)
    covered = [
        (iv := nps_interval(counts, dirichlet_below_n=50, thin_segment_n=30)).low <= truth <= iv.high
        for counts in draws
    ]
    assert 0.91 <= np.mean(covered) <= 0.99


def calibrated_posteriors(true_prior: np.ndarray, train_prior: np.ndarray, n: int) -> np.ndarray:
    """Exact posteriors under TRAIN_PRIOR for n draws from TRUE_PRIOR (one noisy score per class)."""
    rng = np.random.default_rng(7)
    likelihood_means = np.eye(3) * 2.0  # each class shifts one score up
    labels = rng.choice(3, size=n, p=true_prior)
    features = likelihood_means[labels] + rng.normal(size=(n, 3))
    log_lik = -0.5 * ((features[:, None, :] - likelihood_means[None, :, :]) ** 2).sum(axis=2)
    post = np.exp(log_lik) * train_prior
    return post / post.sum(axis=1, keepdims=True)


def test_em_recovers_a_shifted_prior() -> None:
    """Posteriors calibrated under a balanced training mix; the test group is mostly detractors. With exactly
    calibrated posteriors the maximum-likelihood EM of the paper recovers the group's mix."""
    train_prior = np.array([1 / 3, 1 / 3, 1 / 3])
    true_prior = np.array([0.1, 0.2, 0.7])
    post = calibrated_posteriors(true_prior, train_prior, 4000)
    plain = post.mean(axis=0)
    adjusted = em_prior_adjust(post, train_prior, pseudo_voices=0)
    assert adjusted.converged
    assert np.abs(adjusted.prior - true_prior).max() < 0.03
    assert np.abs(plain - true_prior).max() > 0.1  # the plain average is visibly pulled to the training mix
    assert adjusted.posteriors.shape == post.shape


def test_em_rejects_malformed_probabilities() -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        em_prior_adjust([[0.5, 0.5, 0.5]], [1 / 3] * 3)


def test_map_em_shrinks_towards_the_training_mix_by_a_share_of_the_group() -> None:
    train_prior = np.array([0.2, 0.2, 0.6])
    small = [[0.7, 0.2, 0.1]] * 3
    ml = em_prior_adjust(small, train_prior, pseudo_voices=0).prior
    map_ = em_prior_adjust(small, train_prior).prior
    assert ml[0] > 0.95  # maximum likelihood on three agreeing voices: (almost) all promoters
    assert 0.2 < map_[0] < ml[0]
    assert pseudo_voices_for(3) == EM_MIN_PSEUDO_VOICES  # small groups get the floor
    large = calibrated_posteriors(np.array([0.6, 0.1, 0.3]), train_prior, 4000)
    ml_large = em_prior_adjust(large, train_prior, pseudo_voices=0).prior
    map_large = em_prior_adjust(large, train_prior).prior
    # the prior is worth EM_PRIOR_WEIGHT of the voices at any size: the MAP mix sits that share of the way from
    # the ML mix towards the training mix (to EM's own tolerance), never more
    expected = (ml_large + EM_PRIOR_WEIGHT * train_prior) / (1 + EM_PRIOR_WEIGHT)
    assert np.allclose(map_large, expected, atol=0.02)
    assert abs(map_large[0] - 0.6) < abs(train_prior[0] - 0.6)


def ordinal_level_posteriors(true_levels: np.ndarray, level_prior: np.ndarray, n: int) -> np.ndarray:
    """Exact star-level posteriors under LEVEL_PRIOR for n draws from TRUE_LEVELS, where a text's one noisy
    score grows with its stars (as reviews do: a 3-star text reads closer to a 4-star one than a 1-star one)."""
    rng = np.random.default_rng(7)
    stars = rng.choice(5, size=n, p=true_levels)
    score = stars + rng.normal(scale=0.5, size=n)
    post = np.exp(-0.5 * ((score[:, None] - np.arange(5)[None, :]) / 0.5) ** 2) * level_prior
    return post / post.sum(axis=1, keepdims=True)


def test_level_em_recovers_a_shifted_star_mix_where_class_em_cannot() -> None:
    """Star-level posteriors calibrated under a uniform star mix; the group's detractors are mostly 3-star, so
    p(text | detractor) is not the training one and the three-class EM's assumption fails. EM over the levels,
    collapsed to classes, recovers the group's class mix; the three-class EM on the same posteriors does not."""
    level_prior = np.full(5, 0.2)
    true_levels = np.array([0.02, 0.03, 0.45, 0.1, 0.4])
    truth = classes_from_levels(true_levels[None, :])[0]  # promoter 0.4, passive 0.1, detractor 0.5
    post = ordinal_level_posteriors(true_levels, level_prior, 6000)
    by_level = em_level_adjust(post, level_prior, pseudo_voices=0)
    by_class = em_prior_adjust(classes_from_levels(post), classes_from_levels(level_prior[None, :])[0],
                               pseudo_voices=0)
    assert by_level.converged and by_level.posteriors.shape == (6000, 3)
    assert np.allclose(by_level.posteriors.sum(axis=1), 1.0)
    assert np.abs(by_level.prior - truth).max() < 0.04
    assert np.abs(by_class.prior - truth).max() > 0.1  # 3-star detractors read as passives to the class EM
    plain = classes_from_levels(post).mean(axis=0)
    assert np.abs(plain - truth).max() > 0.1  # the plain average is pulled to the training mix
    product = em_level_adjust(post, level_prior)  # MAP: a little of the way back to the training mix
    assert product.converged and np.abs(product.prior - truth).max() < 0.05


def test_level_em_needs_five_levels() -> None:
    with pytest.raises(ValueError, match="5 entries"):
        em_level_adjust([[0.2, 0.3, 0.5]], [1 / 3] * 3)
    with pytest.raises(ValueError, match=r"\(n, 5\)"):
        em_level_adjust([[0.5, 0.5, 0.0]], [0.2] * 5)


def test_levels_collapse_by_the_star_convention() -> None:
    levels = np.array([[0.1, 0.2, 0.3, 0.15, 0.25]])
    assert classes_from_levels(levels) == pytest.approx(np.array([[0.25, 0.15, 0.6]]))
