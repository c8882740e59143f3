"""A survey export (CSV bytes) read into answers, every bad row named by its line: the pure half of
`onps survey import` (the command reads the file and ``store.surveys`` writes the rows).

Exports come from many tools: comma, semicolon or tab separated (the delimiter is sniffed from the header line
unless given), dates in ISO 8601 or in the tool's own format (``date_format``: strptime codes; a day/month date
without it is refused as ambiguous rather than guessed). A quote left open would swallow every row after it, a
field beyond the csv module's limit raised a traceback: both are now a problem on the line where they start.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from nps.record import EARLIEST_YEAR, LATEST_YEAR, parse_iso, parse_time

DELIMITERS = ",;\t|"
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
FUTURE_SLACK = timedelta(days=1)  # an answer stamped in a zone ahead of UTC may read as tomorrow
_DAY_MONTH = re.compile(r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")


@dataclass(frozen=True)
class Mapping:
    """Which CSV column holds what; ``respondent`` (optional) identifies who answered."""

    score: str = "score"
    date: str = "date"
    segments: tuple[str, ...] = ()
    comment: str | None = None
    respondent: str | None = None


@dataclass
class Parsed:
    """Valid rows (ready to store, keyed by their line) and every problem found, as 'line N: what'."""

    rows: list[dict[str, Any]]
    problems: list[str]
    missing_columns: list[str]
    columns: list[str]
    delimiter: str = ","


def parse_score(text: str) -> int:
    """A 0-10 whole number ("9" or "9.0"); anything else is an error saying what was found."""
    if not text.strip():
        raise ValueError("score is empty: every answer needs a whole number 0-10 (leave out rows with no answer)")
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"score must be a whole number 0-10, got {text[:40]!r}") from None
    if not value.is_integer() or not 0 <= value <= 10:
        raise ValueError(f"score must be a whole number 0-10, got {text!r}")
    return int(value)


def parse_date(text: str, date_format: str | None = None, now: datetime | None = None) -> datetime:
    """The answer's time as aware UTC: ISO 8601 (UTC when no zone), or DATE_FORMAT (strptime) when given.

    A day/month date without a format is refused (01/05/2024 is January or May), a date outside
    EARLIEST_YEAR..LATEST_YEAR or after NOW (plus a day) is an error, never stored.
    """
    raw = text.strip()
    if date_format:
        try:
            moment = parse_time(datetime.strptime(raw, date_format))
        except ValueError:
            raise ValueError(f"date {raw[:40]!r} does not match --date-format {date_format!r}") from None
    else:
        moment = parse_iso(raw)
        if moment is None and _DAY_MONTH.fullmatch(raw):
            raise ValueError(f"date must be ISO 8601 (YYYY-MM-DD), got {raw!r}: day-first or month-first? say "
                             "which with --date-format %d/%m/%Y or --date-format %m/%d/%Y")
        if moment is None and not re.match(r"\d{4,}-\d", raw):
            raise ValueError(f"date must be ISO 8601 (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ), got {raw[:40]!r}")
    if moment is None:
        raise ValueError(f"date {raw[:40]!r} is not a real date in {EARLIEST_YEAR}-{LATEST_YEAR}")
    if moment > (now or datetime.now(UTC)) + FUTURE_SLACK:
        raise ValueError(f"date {raw[:40]!r} is in the future: a survey answer cannot be")
    return moment


def sniff_delimiter(header_line: str) -> str:
    """The delimiter of a CSV from its header line: the one of DELIMITERS it uses most (comma when none)."""
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def answer_key(entity_id: int | None, row: dict[str, Any], occurrence: int) -> str:
    """The identity of one answer, so the same answers imported from another file (a re-export, another order)
    are stored once: the respondent, time and score where the file names respondents; else the answer's whole
    content and how many identical answers came before it in its file (two people may give the same answer)."""
    if row.get("respondent"):
        parts: list[Any] = [entity_id, row["respondent"], row["answered_at"].isoformat(), row["score"]]
    else:
        parts = [entity_id, row["answered_at"].isoformat(), row["score"], row.get("segment") or {},
                 row.get("comment"), occurrence]
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def _bad_encoding_lines(data: bytes) -> dict[int, str]:
    bad = {}
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad[number] = f"not UTF-8 (byte 0x{line[exc.start]:02x} at column {exc.start + 1}); save the file as UTF-8"
    return bad


def parse_survey_csv(data: bytes, mapping: Mapping, delimiter: str | None = None, date_format: str | None = None,
                     now: datetime | None = None) -> Parsed:
    """Validate every row of a survey CSV; a row's line is the physical line it starts on (header = line 1)."""
    bad_lines = _bad_encoding_lines(data)
    text = data.decode("utf-8-sig", errors="replace")
    chosen = delimiter or sniff_delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=chosen, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        return Parsed([], [f"line 1: the header cannot be read ({exc})"], [], [], chosen)
    if header is None:
        return Parsed([], ["the file is empty: expected a header line with column names"], [], [], chosen)
    header = [h.strip() for h in header]
    wanted = [mapping.score, mapping.date, *mapping.segments,
              *(c for c in (mapping.comment, mapping.respondent) if c)]
    missing = [c for c in wanted if c not in header]
    if missing:
        return Parsed([], [], missing, header, chosen)
    index = {name: header.index(name) for name in wanted}
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    last = reader.line_num
    while True:
        start = last + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            reason = ("a quote opened here is never closed" if "end of data" in str(exc) or "EOF" in str(exc)
                      else str(exc))
            problems.append(f"line {start}: {reason}; the rest of the file cannot be read")
            break
        last = reader.line_num
        if not fields or all(not f.strip() for f in fields):
            continue
        encoding = [bad_lines[n] for n in range(start, last + 1) if n in bad_lines]
        if encoding:
            problems.append(f"line {start}: {encoding[0]}")
            continue
        if len(fields) != len(header):
            problems.append(f"line {start}: expected {len(header)} fields, found {len(fields)}")
            continue
        try:
            score = parse_score(fields[index[mapping.score]])
            answered = parse_date(fields[index[mapping.date]], date_format, now)
        except ValueError as exc:
            problems.append(f"line {start}: {exc}")
            continue
        rows.append({
            "row_number": start,
            "score": score,
            "answered_at": answered,
            "segment": {s: fields[index[s]].strip() for s in mapping.segments},
            "comment": fields[index[mapping.comment]].strip() or None if mapping.comment else None,
            "respondent": fields[index[mapping.respondent]].strip() or None if mapping.respondent else None,
        })
    if not rows and not problems:
        problems.append("no rows after the header: nothing to import")
    return Parsed(rows, problems, [], header, chosen)
