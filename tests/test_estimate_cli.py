"""`onps estimate`: input validation, the whole path, and a loud failure when the scorer cannot be opened."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from config.schema import OnpsConfig
from flows import exitcodes
from flows.cli import app
from flows.commands.estimate import read_records
from flows.stages import scorer_for

LINES = [json.dumps({"id": i, "text": t, "entity": "Acme", "source": s, "author": f"a{i}",
                     "published_at": "2026-11-02T10:00:00Z"})
         for i, (t, s) in enumerate([("Great service, I recommend them to everyone", "shop"),
                                     ("Terrible, never again, avoid", "shop"),
                                     ("Fine, nothing special", "forum")])]


def write(tmp_path: Path, lines: list[str | bytes]) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join(x if isinstance(x, bytes) else x.encode() for x in lines) + b"\n")
    return path


def test_read_records_reports_every_bad_line(tmp_path: Path) -> None:
    path = write(tmp_path, [
        json.dumps({"id": 1, "text": "good"}),
        "{not json",
        json.dumps({"text": "no id"}),
        b'{"id": "x", "text": "caf\xe9"}',
        json.dumps({"id": "y", "text": "late", "published_at": "yesterday"}),
        "",
        json.dumps({"id": "z", "text": "fine", "published_at": "2026-11-02T10:00:00Z"}),
    ])
    records, problems = read_records(path)
    assert [r["id"] for r in records] == ["1", "z"]
    assert [p.split(":")[0] for p in problems] == ["line 2", "line 3", "line 4", "line 5"]
    assert "not JSON" in problems[0] and "not UTF-8" in problems[2] and "ISO 8601" in problems[3]


def test_a_bad_window_is_the_same_usage_error_in_every_command(tmp_path: Path) -> None:
    path = write(tmp_path, [json.dumps({"id": 1, "text": "x"})])
    for args in (["estimate", str(path), "--by", "entity"], ["survey", "compare"]):
        result = CliRunner().invoke(app, [*args, "--window", "year"], env={"COLUMNS": "200"})
        assert result.exit_code == exitcodes.USAGE, args
        assert result.stderr.strip() == "error: --window must be one of day, week, month, rolling28, got 'year'"


def test_estimate_runs_the_whole_path(tmp_path: Path) -> None:
    path = write(tmp_path, LINES)
    result = CliRunner().invoke(app, ["estimate", str(path), "--by", "entity,source", "--window", "week"])
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert {tuple(sorted(o["group"].items())) for o in out} == {
        (("entity", "Acme"), ("source", "shop")), (("entity", "Acme"), ("source", "forum"))}
    for o in out:
        assert o["low"] <= o["high"] and o["method"]
        assert abs(o["promoters"] + o["passives"] + o["detractors"] - o["n"]) < 0.05


@pytest.mark.parametrize("command", ["estimate", "score"])
@pytest.mark.parametrize("model, content", [("scorer", None), ("scorer", b"not a joblib file"),
                                            ("bot_model", None)])
def test_a_model_that_cannot_be_opened_ends_the_command_naming_the_file(
        tmp_path: Path, command: str, model: str, content: bytes | None) -> None:
    """A deleted or broken model file is an error with the file and the command that builds it (exit 3), never
    output made without it."""
    artifact = tmp_path / f"{model}.joblib"
    if content is not None:
        artifact.write_bytes(content)
    config = tmp_path / "onps.toml"
    config.write_text(f'[models]\n{model}_path = "{artifact}"\n', encoding="utf-8")
    path = write(tmp_path, LINES)
    args = ["--by", "entity"] if command == "estimate" else ["--output", str(tmp_path / "out.jsonl")]
    result = CliRunner().invoke(app, ["-c", str(config), command, str(path), *args])
    said = " ".join(result.output.split())
    assert result.exit_code == exitcodes.MODEL_UNAVAILABLE, result.output
    assert str(artifact) in said and "onps retrain" in said
    assert ("cannot be loaded" if content else "is missing") in said
    assert '"nps"' not in result.stdout


def test_table_shows_each_group_with_its_interval_and_exclusions() -> None:
    from types import SimpleNamespace

    from rich.console import Console

    from flows.commands.estimate import _table
    from nps.organic import estimate_groups

    rows = [{"id": str(i), "text": f"t{i}", "entity": "Acme", "source": "shop", "author": f"a{i}", "bot": i == 0,
             "p_promoter": 0.8, "p_passive": 0.1, "p_detractor": 0.1} for i in range(12)]
    limits = SimpleNamespace(dirichlet_below_n=50, thin_segment_n=30, copy_min_words=10)
    lines = [e.to_dict() for e in estimate_groups(rows, ["entity", "source"], None, limits, None)]
    console = Console(width=250, record=True)
    console.print(_table(lines, ["entity", "source"]))
    text = console.export_text()
    assert "Acme" in text and "shop" in text and "+70.0" in text and "bot 1" in text and "dirichlet" in text


def test_rated_reviews_carry_the_rated_paths_model_error_and_text_only_drops_it(tmp_path: Path) -> None:
    """A review scored with its stars has the scorer's (smaller) rated group error in its interval; the same
    lines with --text-only carry the text-only error, so their interval is wider."""
    scorer = scorer_for(OnpsConfig())
    assert scorer.group_nps_error_rated < scorer.group_nps_error  # the card measures both paths
    texts = ["Great service, I recommend them", "Terrible, avoid", "Fine, nothing special", "Love it"]
    path = write(tmp_path, [json.dumps({"id": i, "text": t, "entity": "Acme", "rating": 5 - i, "rating_scale": 5,
                                        "author": f"a{i}"}) for i, t in enumerate(texts)])
    runs = {}
    for flags in ([], ["--text-only"]):
        result = CliRunner().invoke(app, ["estimate", str(path), "--by", "entity", *flags])
        assert result.exit_code == 0, result.output
        [runs[bool(flags)]] = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert runs[False]["method"].endswith(f"model error {scorer.group_nps_error_rated:.3g}")
    assert runs[True]["method"].endswith(f"model error {scorer.group_nps_error:.3g}")
    assert runs[True]["high"] - runs[True]["low"] > runs[False]["high"] - runs[False]["low"]


def test_odd_records_are_reported_one_by_one_and_the_rest_is_scored(tmp_path: Path) -> None:
    """Each hostile line of the issue (a number for lang, an overflowing date, review_count "many", a list for
    entity, a 5 MB text, 200,000-deep JSON) is a bad line with its reason; the good lines are still scored."""
    from tests.real_streams import keytrade_records

    good = [{k: r[k] for k in ("id", "text", "rating", "published_at", "entity", "author")}
            for r in keytrade_records()[:2]]
    odd = [{"id": "lang", "text": "Fine app.", "lang": 5},
           {"id": "date", "text": "Fine app.", "published_at": "99999-01-01T00:00:00Z"},
           {"id": "facts", "text": "Fine app.", "author_facts": {"review_count": "many"}},
           {"id": "entity", "text": "Fine app.", "entity": ["A", "B"]},
           {"id": "big", "text": "x" * 5_000_000}]
    path = write(tmp_path, [json.dumps(good[0]), *map(json.dumps, odd), "[" * 200_000 + "]" * 200_000,
                            json.dumps(good[1])])
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["score", str(path), "-o", str(out)])
    assert result.exit_code == exitcodes.BAD_INPUT, result.output
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == [good[0]["id"], good[1]["id"]]
    errors = [json.loads(line) for line in (tmp_path / "out.errors.jsonl").read_text().splitlines()]
    assert [e["line"] for e in errors] == [2, 3, 4, 5, 6, 7]
    for error, word in zip(errors, ("lang", "published_at", "review_count", "entity", "100,000", "nested"),
                           strict=True):
        assert word in error["error"], error
    records, problems = read_records(path)  # onps estimate reads the same way
    assert len(records) == 2 and len(problems) == 6


def test_estimate_by_source_family_where_the_lines_carry_it(tmp_path: Path) -> None:
    """The optional ``source_family`` of a line (docs/CONTRACTS.md) groups like any segment key; a non-string one
    is a bad line."""
    texts = [("Great service, I recommend them to everyone", "reviews"), ("Terrible, never again, avoid", "reviews"),
             ("loving the new app #velora", "social")]
    lines = [json.dumps({"id": i, "text": t, "entity": "Acme", "source_family": f, "author": f"a{i}",
                         "published_at": "2026-11-02T10:00:00Z"}) for i, (t, f) in enumerate(texts)]
    path = write(tmp_path, [*lines, json.dumps({"id": "odd", "text": "fine", "source_family": 3})])
    records, problems = read_records(path)
    assert len(records) == 3 and len(problems) == 1 and "source_family" in problems[0]
    result = CliRunner().invoke(app, ["estimate", str(path), "--by", "source_family"])
    assert result.exit_code == exitcodes.BAD_INPUT, result.output  # the odd line reported, the rest estimated
    out = {o["group"]["source_family"]: o for o in map(json.loads, (line for line in result.stdout.splitlines()
                                                                    if line.startswith("{")))}
    assert set(out) == {"reviews", "social"} and (out["reviews"]["n"], out["social"]["n"]) == (2, 1)
