"""Property-based fuzzing (Hypothesis) of what reads outside input: the record contract, the survey CSV reader
and time parsing. Whatever arrives, these return a verdict, a row or a problem naming its line; they never raise.
A bounded budget keeps the suite's time (set ONPS_FUZZ_EXAMPLES to go deeper). A spider's page parser is held to
a weaker rule, tested in test_api_sources: a reply of another shape fails its page, reported, never the crawl.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.analyse import check_record
from nps.record import parse_iso, parse_time
from nps.survey_import import Mapping, parse_survey_csv

BUDGET = settings(max_examples=int(os.environ.get("ONPS_FUZZ_EXAMPLES", "150")), deadline=None,
                  suppress_health_check=[HealthCheck.too_slow])
LEAF = st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=True) | st.text(max_size=40)
JSON = st.recursive(LEAF, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                     max_size=4), max_leaves=20)


def shaped(example: Any) -> st.SearchStrategy[Any]:
    """EXAMPLE's structure (a real capture's object) with any JSON value in place of any leaf or sub-tree: what a
    changed or hostile reply of the same service looks like."""
    if isinstance(example, dict):
        return st.fixed_dictionaries({k: shaped(v) | JSON for k, v in example.items()})
    if isinstance(example, list):
        return st.lists(shaped(example[0]) | JSON, max_size=3) if example else st.just([])
    return JSON


RECORD = {"id": "r1", "text": "Great service", "title": "t", "rating": 4, "rating_scale": 5, "lang": "en",
          "author": "a", "entity": "Acme", "published_at": "2026-11-02T10:00:00Z", "invited": False,
          "audience": "customer", "recommends": None, "author_facts": {"review_count": 3}, "source_family": "reviews"}


@BUDGET
@given(shaped(RECORD) | JSON)
def test_the_record_contract_judges_anything(record: Any) -> None:
    verdict = check_record(record)
    assert verdict is None or (isinstance(verdict, str) and verdict)


@BUDGET
@given(st.binary(max_size=400) | st.text(max_size=400).map(lambda t: ("score,date,comment\n" + t).encode()))
def test_the_survey_reader_names_a_line_for_every_problem(data: bytes) -> None:
    parsed = parse_survey_csv(data, Mapping(comment="comment"))
    assert all(0 <= row["score"] <= 10 and row["answered_at"].tzinfo is not None for row in parsed.rows)
    assert all(p.startswith("line ") or p.startswith("the file is empty") or p.startswith("no rows")
               for p in parsed.problems)


@BUDGET
@given(JSON)
def test_times_are_read_or_refused(value: Any) -> None:
    for moment in (parse_time(value), parse_iso(value)):
        assert moment is None or moment.tzinfo is not None
