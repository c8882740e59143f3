"""Every model a nightly stage needs is required: a deleted packaged artifact is an error naming the file and the
command that builds it, never a stage quietly reported as done or left out."""

from __future__ import annotations

from pathlib import Path

import pytest

import models.bots
import nlp.score
from config.artifacts import ModelUnavailable
from config.schema import OnpsConfig, ThresholdsConfig
from flows import stages


def test_each_model_is_loaded_once_per_process_and_configuration() -> None:
    cfg = OnpsConfig()
    assert stages.scorer_for(cfg) is stages.scorer_for(OnpsConfig())
    assert stages.bot_filter_for(cfg) is stages.bot_filter_for(OnpsConfig())
    stricter = OnpsConfig(thresholds=ThresholdsConfig(bot_precision=0.99))
    assert stages.bot_filter_for(stricter) is not stages.bot_filter_for(cfg)
    assert stages.bot_filter_for(stricter).model_version != stages.bot_filter_for(cfg).model_version


def test_a_deleted_packaged_scorer_fails_every_stage_that_reads_scores(
        sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the packaged folder, with the scorer deleted: the cache is keyed on the path, so nothing loaded before serves
    monkeypatch.setattr(nlp.score, "ARTIFACTS", tmp_path)
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
        sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
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
