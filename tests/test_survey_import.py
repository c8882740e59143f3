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
    from nps.survey_import import parse_score

    for text, words in (("", "score is empty"), ("  ", "score is empty"), ("nine", "whole number 0-10"),
                        ("nan", "whole number 0-10"), ("11", "whole number 0-10")):
        with pytest.raises(ValueError, match=words):
            parse_score(text)
    assert parse_score(" 9.0 ") == 9


def invoke(db_url: str, tmp_path: Path, body: bytes, *args: str, name: str = "survey.csv") -> tuple[int, str]:
    """`onps survey import` of BODY with exactly ARGS (no defaults added), as a user types it."""
    path = tmp_path / name
    path.write_bytes(body)
    config = tmp_path / "onps.toml"
    config.write_text('[[entities]]\nname = "Acme"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["--config", str(config), "survey", "import", str(path), *args],
                                env={"ONPS_DATABASE_URL": db_url, "COLUMNS": "300"})
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        ('7,2026-11-04,north,"never closed\n8,2026-11-05,south,ok\n', "line 4: a quote opened here is never closed"),
        ('7,2026-11-04,north,"' + "x" * 200_000 + '"\n', "line 4: field larger than field limit"),
        ("7,2100-01-01,north,x\n", "line 4: date '2100-01-01' is in the future"),
        ("7,9999-01-01,north,x\n", "line 4: date '9999-01-01' is not a real date in 1990-2100"),
        ("7,01/05/2024,north,x\n", "--date-format %d/%m/%Y or --date-format %m/%d/%Y"),
    ],
)
def test_hostile_rows_are_named_by_line_and_nothing_is_imported(db_url: str, tmp_path: Path, tail: str,
                                                                message: str) -> None:
    """An unterminated quote used to swallow every later row with exit 0; a long field and a far-future date
    ended in tracebacks."""
    code, output = invoke(db_url, tmp_path, (GOOD + tail).encode(), "--entity", "Acme", "--segment-col", "region",
                          "--comment-col", "comment")
    assert code == exitcodes.BAD_INPUT and message in output and "Traceback" not in output, output
    assert "nothing was imported" in output and stored(db_url) == []


def test_semicolon_and_tab_exports_are_read_and_say_how(db_url: str, tmp_path: Path) -> None:
    for sep, name in ((";", "semicolon"), ("\t", "tab")):
        body = GOOD.replace(",", sep).replace('"slow' + sep + ' rude"', '"slow, rude"')
        code, output = invoke(db_url, tmp_path, body.encode(), "--entity", "Acme", "--segment-col", "region",
                              "--comment-col", "comment", name=f"{name}.csv")
        assert code == 0 and f"{name}-separated" in output, output
    assert sorted(stored(db_url)) == [(3, "south", "slow, rude"), (9, "north", "great")]  # the same answers: once
    code, output = invoke(db_url, tmp_path, GOOD.encode(), "--entity", "Acme", "--delimiter", ";")
    assert code == exitcodes.USAGE and "semicolon-separated" in output and "--delimiter" in output


def test_a_day_first_export_with_its_date_format(db_url: str, tmp_path: Path) -> None:
    body = b"score,date\n9,01/05/2024\n6,13/05/2024\n"
    code, output = invoke(db_url, tmp_path, body, "--entity", "Acme", "--date-format", "%d/%m/%Y")
    assert code == 0 and "dates %d/%m/%Y" in output, output
    with session_scope(db_url) as session:
        days = sorted(r.answered_at.date().isoformat() for r in session.scalars(select(SurveyResponse)))
    assert days == ["2024-05-01", "2024-05-13"]
    code, output = invoke(db_url, tmp_path, body, "--entity", "Acme", "--date-format", "%m/%d/%Y")
    assert code == exitcodes.BAD_INPUT and "does not match --date-format '%m/%d/%Y'" in output


def test_an_import_names_its_entity(db_url: str, tmp_path: Path) -> None:
    """Answers about nobody were accepted and then shown nowhere."""
    code, output = invoke(db_url, tmp_path, GOOD.encode())
    assert code == exitcodes.USAGE and "--entity" in output and stored(db_url) == []
    code, output = invoke(db_url, tmp_path, GOOD.encode(), "--entity", "Nobody")
    assert code == exitcodes.USAGE and "not configured" in output and "Acme" in output


def test_the_same_answers_from_another_file_are_stored_once(db_url: str, tmp_path: Path) -> None:
    """It used to be keyed on the file's hash and the row number: a re-export in another order doubled them."""
    first = "id,score,date\nr1,9,2026-11-02\nr2,3,2026-11-03\nr3,3,2026-11-03\n"
    again = "id,score,date\nr3,3,2026-11-03\nr1,9,2026-11-02\nr2,3,2026-11-03\nr4,10,2026-11-04\n"
    code, output = invoke(db_url, tmp_path, first.encode(), "--entity", "Acme", "--respondent-col", "id")
    assert code == 0 and "imported 3 new" in output, output
    code, output = invoke(db_url, tmp_path, again.encode(), "--entity", "Acme", "--respondent-col", "id",
                          name="export-2.csv")
    assert code == 0 and "imported 1 new answer(s) of 4" in output, output
    # without respondents two equal answers are two people; the same file again adds nothing
    anonymous = b"score,date\n3,2026-11-03\n3,2026-11-03\n"
    for _ in range(2):
        invoke(db_url, tmp_path, anonymous, "--entity", "Acme", name="anonymous.csv")
    with session_scope(db_url) as session:
        assert session.execute(select(func.count()).select_from(SurveyResponse)).scalar_one() == 4 + 2
