"""The one rating rule (nps.ratings): scale guess, stars, 0-10; the crawl, the bot features and the scorer agree."""

from __future__ import annotations

import pytest

from models.features import FEATURES, batch_features
from models.features import rating_0_10 as feature_rating
from nps.ratings import native_scale, rating_0_10, rating_in_stars
from pipelines.normalise import NormalisePipeline


def test_scales_default_as_the_contract_says():
    assert native_scale(4.0) == 5 and native_scale(7.0) == 10 and native_scale(73.0) == 100
    assert native_scale(4.0, 10.0) == 10


@pytest.mark.parametrize(("rating", "scale", "expected"), [
    (1, 5, 0.0), (3, 5, 5.0), (4, 5, 7.5), (5, 5, 10.0),  # stars start at 1: the lowest answer is 0
    (0.5, 5, 0.0),  # Rotten Tomatoes' half star is below the first star: clipped
    (6, 5, 10.0),  # a bad page's out-of-scale value is clipped, not passed on
    (0, 10, 0.0), (9, 10, 9.0), (73, 100, 7.3), (None, 5, None),
])
def test_rating_0_10(rating, scale, expected):
    assert rating_0_10(rating, scale) == expected


def test_stars_are_clipped_to_one_to_five():
    assert rating_in_stars(8, 10) == 4.0 and rating_in_stars(0.5, 5) == 1.0 and rating_in_stars(None, 5) is None


def test_a_crawled_item_and_its_raw_record_read_the_same_rating():
    """Train/serve skew: the pipeline stores rating_0_10, the bot model trained on raw ratings; one rule."""
    item = NormalisePipeline(None).process_item({"raw_text": "Bad.", "url": "http://x/", "rating": "1",
                                                 "rating_scale": 5, "published_at": "2026-01-02T00:00:00Z"})
    raw = {"text": "Bad.", "rating": 1.0, "rating_scale": 5.0}
    stored = {**raw, "rating_0_10": item["rating_0_10"]}
    assert item["rating_0_10"] == feature_rating(raw) == feature_rating(stored) == 0.0
    col = FEATURES.index("rating_extremity")
    assert batch_features([raw])[0, col] == batch_features([stored])[0, col] == 1.0
