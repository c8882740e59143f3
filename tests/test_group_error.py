"""nlp.group_error: the group-NPS error the scorer cards carry, measured inside the package (`onps retrain` runs
nlp.train from an install, where bench/ does not exist)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from nlp.group_error import contradicts_stars, draw_groups, group_errors, model_errors

ROOT = Path(__file__).resolve().parents[1]
STARS = np.repeat(np.arange(1, 6), 40)
EXACT = np.eye(5)[STARS - 1]  # star-level probabilities that are the stars themselves
PRIOR, LEVEL_PRIOR = np.array([0.4, 0.2, 0.4]), np.full(5, 0.2)


def test_the_trainer_imports_and_measures_its_group_error_without_bench(tmp_path: Path) -> None:
    """bench/ blocked (as in an installed package) and the working folder outside the checkout: nlp.train imports
    and `group_nps_error` runs."""
    code = (
        "import sys; sys.modules['bench'] = None\n"
        "import numpy as np\n"
        "from nlp import corpora\n"
        "from nlp.train import group_nps_error\n"
        "stars = np.repeat(np.arange(1, 6), 40)\n"
        "held = {'en': corpora.Labelled(['x'] * len(stars), [float(s) for s in stars], ['en'] * len(stars))}\n"
        "priors = {'train_prior': [0.4, 0.2, 0.4], 'level_prior': [0.2] * 5}\n"
        "print(group_nps_error({'en': np.eye(5)[stars - 1]}, held, priors))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert float(done.stdout) == 0.0  # probabilities that are the stars: no error left to add


def test_groups_have_their_size_and_a_star_mix_of_their_own() -> None:
    groups = draw_groups(STARS, 20, np.random.default_rng(1), size=30)
    assert len(groups) == 20 and all(len(idx) == 30 and idx.max() < len(STARS) for idx, _ in groups)
    assert all(-100 <= population <= 100 for _, population in groups)
    assert len({round(population, 6) for _, population in groups}) == 20


def test_exact_probabilities_give_every_estimator_the_group_truth() -> None:
    groups = draw_groups(STARS, 10, np.random.default_rng(2), size=30)
    found = group_errors(EXACT, STARS, groups, PRIOR, LEVEL_PRIOR)
    for estimate in ("plain", "ml_em", "em3", "em", "known_mix", "bayes"):
        np.testing.assert_allclose(found[estimate], found["truth"], atol=1e-6, err_msg=estimate)
    np.testing.assert_allclose(found["counts"].sum(axis=1), 30)


def test_model_error_pools_the_sets_whose_stars_are_a_label_and_leaves_out_the_rest() -> None:
    reversed_text = EXACT[:, ::-1]  # every 1-star review reads as a 5-star one
    assert contradicts_stars(reversed_text, STARS) and not contradicts_stars(EXACT, STARS)
    tune = {"clean": ({"text only": EXACT, "with rating": EXACT}, STARS),
            "stars contradict text": ({"text only": reversed_text, "with rating": reversed_text}, STARS)}
    rng = np.random.default_rng(3)
    assert model_errors(tune, PRIOR, rng, LEVEL_PRIOR, count=10) == {"text only": 0.0, "with rating": 0.0}
    noisy = {"noisy": ({"text only": 0.7 * EXACT + 0.06, "with rating": EXACT}, STARS)}
    errors = model_errors(noisy, PRIOR, rng, LEVEL_PRIOR, count=10)
    assert errors["text only"] > 0.0 == errors["with rating"]
