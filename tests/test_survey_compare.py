"""Survey NPS against organic NPS: the difference and its interval, gap reasons, correlation, and the command."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from flows.cli import app
from nps.compare import compare_survey, competitor_benchmark, difference
from nps.organic import estimate_groups
from store.engine import session_scope
from store.registry import sync_config
from store.schema import NpsEstimate

THRESHOLDS = SimpleNamespace(dirichlet_below_n=50, thin_segment_n=30, copy_min_words=10)
PROM = {"p_promoter": 0.9, "p_passive": 0.05, "p_detractor": 0.05}
DETR = {"p_promoter": 0.05, "p_passive": 0.05, "p_detractor": 0.9}


def test_difference_of_two_intervals() -> None:
    a = SimpleNamespace(nps=30.0, low=20.0, high=40.0)
    b = SimpleNamespace(nps=10.0, low=0.0, high=20.0)
    diff = difference(a, b)
    half = 1.959964 * math.hypot(10 / 1.959964, 10 / 1.959964)  # = 14.14
    assert diff.diff == pytest.approx(20.0)
    assert (diff.low, diff.high) == pytest.approx((20 - half, 20 + half), abs=1e-4)
    assert diff.significant
    assert not difference(a, SimpleNamespace(nps=25.0, low=15.0, high=35.0)).significant


def organic_rows(month: str, promoters: int, detractors: int) -> list[dict[str, Any]]:
    return [{"id": f"{month}-{i}", "text": f"{month} {i}", "entity": "Acme", "region": "north", "author": None,
             "published_at": f"{month}-10T00:00:00Z",
             "reasons": [{"code": "fees", "polarity": "negative"}] if i >= promoters else
             [{"code": "app", "polarity": "positive"}],
             **(PROM if i < promoters else DETR)} for i in range(promoters + detractors)]


def answers(month: str, promoters: int, detractors: int) -> list[dict[str, Any]]:
    return [{"score": 10 if i < promoters else 2, "answered_at": datetime.fromisoformat(f"{month}-15T00:00:00+00:00"),
             "segment": {"region": "north"}, "entity": "Acme", "batch": month, "row_number": i}
            for i in range(promoters + detractors)]


def test_compare_survey_pairs_windows_explains_the_gap_and_correlates() -> None:
    months = [("2026-08", 60, 20, 40, 40), ("2026-09", 50, 30, 30, 50), ("2026-10", 70, 10, 50, 30)]
    rows = [r for m, _, _, p, d in months for r in organic_rows(m, p, d)]
    responses = [a for m, p, d, _, _ in months for a in answers(m, p, d)]
    organic = estimate_groups(rows, ["entity", "region"], "month", THRESHOLDS, train_prior=None)
    pairs, correlations = compare_survey(responses, organic, ["entity", "region"], "month", THRESHOLDS)
    assert [p.window_start.month for p in pairs] == [8, 9, 10]
    first = pairs[0]
    assert first.survey.nps == pytest.approx(100 * (60 - 20) / 80)
    assert first.difference.diff == pytest.approx(first.survey.nps - first.organic.nps)
    assert first.difference.significant  # survey +50 against organic 0: far apart at n = 80
    assert first.gap_reasons == ["fees", "app"]  # organic below survey: the detractors' reasons first
    [(label, corr)] = correlations.items()
    assert label == "entity=Acme;region=north" and corr["windows"] == 3 and corr["r"] > 0.9


def test_survey_compare_command_reads_the_store(db_url: str, tmp_path: Path) -> None:
    config = tmp_path / "onps.toml"
    config.write_text('[[entities]]\nname = "Acme"\n', encoding="utf-8")
    csv = tmp_path / "survey.csv"
    csv.write_text("score,date,region\n" + "".join(f"{10 if i % 3 else 3},2026-10-{i % 28 + 1:02d},north\n"
                                                     for i in range(40)), encoding="utf-8")
    env = {"ONPS_DATABASE_URL": db_url, "COLUMNS": "250"}
    runner = CliRunner()
    base = ["--config", str(config), "survey"]
    assert runner.invoke(app, [*base, "compare", "--entity", "Acme"], env=env).exit_code == 0  # nothing yet
    imported = runner.invoke(app, [*base, "import", str(csv), "--segment-col", "region", "--entity", "Acme"],
                             env=env)
    assert imported.exit_code == 0, imported.output
    with session_scope(db_url) as session:
        ids = sync_config(session, SimpleNamespace(entities=[SimpleNamespace(
            name="Acme", kind="brand", aliases={}, competitors=[], parent=None)], sources=[])).entities
        session.add(NpsEstimate(entity_id=ids["Acme"], segment={"region": "north"}, segment_key="region=north",
                                window_kind="month", window_start=datetime(2026, 10, 1, tzinfo=UTC),
                                window_end=datetime(2026, 11, 1, tzinfo=UTC), n=120, nps=-10.0, low=-25.0,
                                high=5.0, method="adjusted-wald", extra={"reasons": {
                                    "fees": {"mentions": 30, "negative": 30, "detractors": 25.0, "promoters": 1.0}}}))
    result = runner.invoke(app, [*base, "compare", "--entity", "Acme", "--by", "region", "--window", "month",
                                 "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    [pair] = data["comparisons"]
    assert pair["group"] == {"entity": "Acme", "region": "north"}
    assert pair["survey"]["n"] == 40 and pair["organic"]["nps"] == -10.0
    assert pair["significant"] and pair["gap_reasons"] == ["fees"]
    table = runner.invoke(app, [*base, "compare", "--entity", "Acme", "--by", "region", "--window", "month"],
                          env=env)
    assert table.exit_code == 0 and "fees" in table.output and "Survey vs organic" in table.output


def test_competitor_benchmark_matches_segment_and_window() -> None:
    rows = organic_rows("2026-09", 60, 20) + [{**r, "entity": "Rival", "id": "r" + r["id"], "text": "r" + r["text"]}
                                             for r in organic_rows("2026-09", 20, 60)]
    rows += [{**r, "entity": "Rival", "region": "south", "id": "s" + r["id"], "text": "s" + r["text"]}
             for r in organic_rows("2026-09", 30, 30)]
    estimates = estimate_groups(rows, ["entity", "region"], "month", THRESHOLDS, train_prior=None)
    [row] = competitor_benchmark(estimates, "Acme", ["Rival", "Nobody"])
    assert row["segment"] == {"region": "north"} and row["competitor"] == "Rival"
    assert row["difference"] == pytest.approx(row["estimate"]["nps"] - row["competitor_estimate"]["nps"], abs=0.02)
    assert row["difference"] > 0 and row["significant"]
    assert row["difference_low"] < row["difference"] < row["difference_high"]
