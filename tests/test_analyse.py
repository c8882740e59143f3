"""The one composition `onps score` / `onps estimate` use: scorer, bot filter and campaign detector together."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from config.schema import OnpsConfig
from demo.generate import generate
from flows.analyse import flag_campaigns, understand
from flows.cli import app


@pytest.fixture(scope="module")
def nordkauf_rows() -> list[dict]:
    """The demo's reviews of the brand it plants a smear campaign against, with their ground-truth kind."""
    content = generate(seed=7, scale=0.5)
    docs = [d for d in content.docs if d.entity == "Nordkauf" and d.format != "discourse" and d.copy_of is None]
    records = [{"id": d.id, "text": d.text, "title": d.title, "rating": d.stars, "rating_scale": 5,
                "author": d.author.id, "published_at": d.published_at.isoformat(), "entity": d.entity,
                "kind": d.kind} for d in docs]
    return flag_campaigns(understand(records, OnpsConfig()), OnpsConfig())


def test_planted_smear_members_are_flagged_and_genuine_reviews_are_not(nordkauf_rows: list[dict]) -> None:
    smear = [r for r in nordkauf_rows if r["kind"] == "smear"]
    genuine = [r for r in nordkauf_rows if r["kind"] == "genuine"]
    assert len(smear) >= 10 and len(genuine) >= 100
    assert sum(r["campaign"] for r in smear) / len(smear) >= 0.5
    assert sum(r["campaign"] or r["bot"] for r in genuine) / len(genuine) <= 0.03


def test_planted_bot_bursts_leave_the_organic_count(nordkauf_rows: list[dict]) -> None:
    bots = [r for r in nordkauf_rows if r["kind"] == "bot"]
    assert len(bots) >= 5
    assert sum(r["campaign"] or r["bot"] for r in bots) / len(bots) >= 0.75


def test_every_row_carries_score_and_bot_fields(nordkauf_rows: list[dict]) -> None:
    for row in nordkauf_rows:
        assert 0 <= row["score"] <= 10
        assert abs(row["p_promoter"] + row["p_passive"] + row["p_detractor"] - 1) < 1e-3
        assert 0 <= row["p_bot"] <= 1 and isinstance(row["bot"], bool) and isinstance(row["bot_evidence"], list)


def test_score_command_adds_the_bot_fields(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in [
        {"id": "a", "text": "Fantastic service, fast delivery, I recommend them to all my friends."},
        {"id": "b", "text": "Never again. The refund took three months. Stay away!", "rating": 1},
    ]) + "\n")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["score", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["id"] for line in lines] == ["a", "b"]
    assert {"p_bot", "bot", "bot_evidence", "score", "reasons"} <= set(lines[0])
    assert lines[0]["score"] > lines[1]["score"]
