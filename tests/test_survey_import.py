"""`onps survey import`: every malformed row is reported with its line and nothing is half-imported."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from flows import exitcodes
from flows.cli import app
from store.engine import session_scope
from store.schema import SurveyResponse

GOOD = "score,date,region,comment\n9,2026-11-02,north,great\n3,2026-11-03T10:00:00Z,south,\"slow, rude\"\n"


def run(db_url: str, tmp_path: Path, body: bytes, *args: str) -> tuple[int, str]:
    path = tmp_path / "survey.csv"
    path.write_bytes(body)
    config = tmp_path / "onps.toml"
    config.write_text('[[entities]]\nname = "Acme"\n', encoding="utf-8")
    result = CliRunner().invoke(
        app, ["--config", str(config), "survey", "import", str(path), "--segment-col", "region",
              "--comment-col", "comment", "--entity", "Acme", *args],
        env={"ONPS_DATABASE_URL": db_url},
    )
    return result.exit_code, " ".join(result.output.split())  # rich wraps long lines


def stored(db_url: str) -> list[tuple[int, str, str | None]]:
    with session_scope(db_url) as session:
        return [(r.score, r.segment["region"], r.comment) for r in
                session.execute(select(SurveyResponse).order_by(SurveyResponse.row_number)).scalars()]


def test_good_file_imports_once(db_url: str, tmp_path: Path) -> None:
    code, output = run(db_url, tmp_path, GOOD.encode())
    assert code == 0, output
    assert stored(db_url) == [(9, "north", "great"), (3, "south", "slow, rude")]
    code, output = run(db_url, tmp_path, GOOD.encode())
    assert code == 0 and "imported 0 new" in output
    with session_scope(db_url) as session:
        assert session.execute(select(func.count()).select_from(SurveyResponse)).scalar_one() == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (GOOD + "11,2026-11-04,north,x\n", "line 4: score must be a whole number 0-10, got '11'"),
        (GOOD + "seven,2026-11-04,north,x\n", "line 4: score must be a whole number 0-10"),
        (GOOD + "7.5,2026-11-04,north,x\n", "line 4: score must be a whole number 0-10, got '7.5'"),
        (GOOD + "7,04/11/2026,north,x\n", "line 4: date must be ISO 8601"),
        (GOOD + "7,2026-11-04,north\n", "line 4: expected 4 fields, found 3"),
        (GOOD.encode() + "7,2026-11-04,K\xf6ln,x\n".encode("latin-1"), "line 4: not UTF-8 (byte 0xf6"),
    ],
)
def test_one_bad_row_imports_nothing(db_url: str, tmp_path: Path, body: str | bytes, message: str) -> None:
    raw = body if isinstance(body, bytes) else body.encode()
    code, output = run(db_url, tmp_path, raw)
    assert code == exitcodes.BAD_INPUT
    assert message in output
    assert "nothing was imported" in output
    assert stored(db_url) == []


def test_skip_bad_imports_the_valid_rows_and_still_reports(db_url: str, tmp_path: Path) -> None:
    code, output = run(db_url, tmp_path, (GOOD + "12,2026-11-04,north,x\n").encode(), "--skip-bad")
    assert code == exitcodes.BAD_INPUT
    assert "line 4" in output and "1 bad row(s) skipped" in output
    assert len(stored(db_url)) == 2


def test_missing_column_is_a_usage_error_naming_the_columns(db_url: str, tmp_path: Path) -> None:
    code, output = run(db_url, tmp_path, b"rating,date,region,comment\n9,2026-11-02,north,x\n")
    assert code == exitcodes.USAGE
    assert "score" in output and "rating, date, region, comment" in output
    assert stored(db_url) == []


def test_multiline_comment_keeps_line_numbers(db_url: str, tmp_path: Path) -> None:
    body = 'score,date,region,comment\n9,2026-11-02,north,"two\nlines"\nx,2026-11-03,south,y\n'
    code, output = run(db_url, tmp_path, body.encode())
    assert code == exitcodes.BAD_INPUT and "line 4:" in output


def test_an_empty_or_wordy_score_says_what_to_fix() -> None:
    from flows.commands.survey import parse_score

    for text, words in (("", "score is empty"), ("  ", "score is empty"), ("nine", "whole number 0-10"),
                        ("nan", "whole number 0-10"), ("11", "whole number 0-10")):
        with pytest.raises(ValueError, match=words):
            parse_score(text)
    assert parse_score(" 9.0 ") == 9
