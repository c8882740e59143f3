"""Every model a nightly stage needs is required: a deleted packaged artifact is an error naming the file and the
command that builds it, never a stage quietly reported as done or left out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import models.bots
import nlp.score
from config.artifacts import ModelUnavailable
from config.schema import OnpsConfig
from flows import stages


@pytest.fixture
def fresh_models() -> Iterator[None]:
    """Load the models anew (the stages keep each one per process), before and after the test."""
    stages._load_scorer.cache_clear()
    stages._load_bot_filter.cache_clear()
    yield
    stages._load_scorer.cache_clear()
    stages._load_bot_filter.cache_clear()


def test_a_deleted_packaged_scorer_fails_every_stage_that_reads_scores(
        sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_models: None) -> None:
    monkeypatch.setattr(nlp.score, "ARTIFACTS", tmp_path)  # the packaged folder, with the scorer deleted
    cfg = OnpsConfig()
    gone = tmp_path / f"scorer-{cfg.models.scorer}.joblib"
    said = rf"{gone} is missing: build it with `onps retrain`"
    for plan in (stages.score_plan, stages.judge_plan):
        with pytest.raises(ModelUnavailable, match=said):
            plan(sqlite_url, cfg)
    for stage in (stages.detect_campaigns_stage, stages.estimate_windows):
        with pytest.raises(ModelUnavailable, match=said):
            stage(sqlite_url, cfg, 1, stages.Scope())


def test_a_deleted_packaged_bot_filter_fails_the_stages_that_read_verdicts(
        sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_models: None) -> None:
    gone = tmp_path / "bot_filter.joblib"
    monkeypatch.setattr(models.bots, "PACKAGED", gone)
    cfg = OnpsConfig()
    assert stages.score_plan(sqlite_url, cfg).batches == []  # the scorer is there: scoring runs
    said = rf"bot model {gone} is missing: build it with `onps retrain` \(or `python -m models.train`"
    with pytest.raises(ModelUnavailable, match=said):
        stages.judge_plan(sqlite_url, cfg)
    for stage in (stages.detect_campaigns_stage, stages.estimate_windows):  # never estimated without bot verdicts
        with pytest.raises(ModelUnavailable, match=said):
            stage(sqlite_url, cfg, 1, stages.Scope())
