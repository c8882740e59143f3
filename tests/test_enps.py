"""eNPS beside NPS (issue #21): the ``audience`` of a record, the employee class rule, groups that never mix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from flows import exitcodes
from flows.analyse import check_record
from flows.cli import app
from nlp.reasons import EMPLOYEE_DATA, reason_codes
from nlp.score import employee_levels
from nps.classes import employee_class

SURE_TEXT = np.array([0.05, 0.05, 0.1, 0.5, 0.3])  # a text the head reads as a mild 4


def test_audience_other_than_customer_or_employee_is_refused_with_what_to_write() -> None:
    assert check_record({"id": 1, "text": "ok", "audience": "employee"}) is None
    assert check_record({"id": 1, "text": "ok", "audience": "customer"}) is None
    problem = check_record({"id": 1, "text": "ok", "audience": "staff"})
    assert problem is not None and '"employee"' in problem and "'staff'" in problem
    assert "recommends" in (check_record({"id": 1, "text": "ok", "recommends": "yes"}) or "")


@pytest.mark.parametrize(("stars", "recommends", "expected"), [
    (5, None, "promoter"), (4, False, "passive"), (3, True, "detractor"), (1, None, "detractor"),
    (None, False, "detractor"), (None, True, None), (None, None, None),
])
def test_employee_class_stars_decide_then_a_no_to_recommending(stars: float | None, recommends: bool | None,
                                                                expected: str | None) -> None:
    assert employee_class(stars, None, recommends) == expected


def test_employee_levels_keep_the_text_inside_the_class_the_answers_decide() -> None:
    three = employee_levels(SURE_TEXT, {"rating": 3, "audience": "employee"})
    assert three[3:].sum() == 0 and three[:3].sum() == pytest.approx(1)
    assert three[2] > three[0]  # the text's own order within the detractor levels is kept
    no = employee_levels(SURE_TEXT, {"recommends": False})
    assert no[3:].sum() == 0
    assert employee_levels(SURE_TEXT, {"recommends": True}) is SURE_TEXT
    assert employee_levels(SURE_TEXT, {"rating": 5}, text_only=True) is SURE_TEXT


def test_one_file_with_customer_and_employee_records_gives_an_nps_and_an_enps(tmp_path: Path) -> None:
    customer = [{"id": f"c{i}", "entity": "Acme", "text": t, "rating": r}
                for i, (t, r) in enumerate([("Great product, fast delivery", 5), ("Broken on arrival", 1),
                                            ("Works as described", 4)])]
    employee = [{"id": f"e{i}", "entity": "Acme", "audience": "employee", "text": t, "rating": r}
                for i, (t, r) in enumerate([("Pros: nice colleagues\nCons: low pay", 3),
                                            ("Pros: flexible hours\nCons: none", 5),
                                            ("Pros: the canteen\nCons: managers shout", 2),
                                            ("Pros: training\nCons: long shifts", 2)])]
    path = tmp_path / "mixed.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in customer + employee))
    result = CliRunner().invoke(app, ["estimate", str(path), "--by", "entity"])
    assert result.exit_code == exitcodes.OK, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    by_audience = {line["audience"]: line for line in lines}
    assert sorted(by_audience) == ["customer", "employee"] and len(lines) == 2
    assert by_audience["employee"]["metric"] == "enps" and by_audience["customer"]["metric"] == "nps"
    assert by_audience["employee"]["n"] == 4 and by_audience["customer"]["n"] == 3
    # with stars, the employees' classes are the stars' (1 promoter, 3 detractors: eNPS -50)
    assert by_audience["employee"]["nps"] == pytest.approx(-50, abs=0.01)


def test_employee_records_get_employee_reasons_with_the_section_as_polarity() -> None:
    from config.schema import OnpsConfig
    from flows.stages import scorer_for

    scorer = scorer_for(OnpsConfig())
    text = "Pros: the pay is fine and colleagues are friendly\nCons: managers shout at everyone"
    staff, customer = scorer.derive([{"id": "e", "text": text, "audience": "employee"}, {"id": "c", "text": text}])
    found = {(r.code, r.polarity) for r in staff.reasons}
    assert ("pay_benefits", "positive") in found  # said under "Pros:" (the reviewer's heading decides)
    assert ("management", "negative") in found
    assert all(r.evidence in text for r in staff.reasons)
    assert {r.code for r in staff.reasons} <= set(reason_codes(EMPLOYEE_DATA))
    assert {r.code for r in customer.reasons} <= set(reason_codes())  # customers keep the customer codes


def test_employee_head_is_split_by_employer_and_served_for_employee_records() -> None:
    from config.schema import OnpsConfig
    from flows.stages import scorer_for
    from nlp.employee import load_split
    from nlp.score import EMPLOYEE_ARTIFACT
    from tests.conftest import DATA, need_shared

    need_shared(DATA / "glassdoor-uk")
    split = load_split()
    employers = [{r["entity"] for r in part} for part in (split.train, split.dev, split.test)]
    assert all(a.isdisjoint(b) for i, a in enumerate(employers) for b in employers[i + 1:])
    card = json.loads(EMPLOYEE_ARTIFACT.with_suffix(".card.json").read_text())
    assert set(card["data"]["test_employers"]) == employers[2] and set(card["data"]["dev_employers"]) == employers[1]
    scorer = scorer_for(OnpsConfig())
    assert scorer.employee is not None and scorer.employee.model_version == card["version"]
    one = split.test[0]
    assert scorer.model_error(one, text_only=True) == card["group_nps_error"]
    assert scorer.derive([one])[0].model_version == card["version"]


def seed_with_enps(sqlite_url: str) -> Any:
    """The API tests' store plus Velora's eNPS (`add_enps`)."""
    from tests.test_api import seed

    seeded = seed(sqlite_url)
    add_enps(sqlite_url)
    return seeded


def add_enps(sqlite_url: str) -> None:
    """Velora's eNPS: one week (-21) and all time (-21.5), with employee reasons."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from store.engine import session_scope
    from store.schema import Entity, NpsEstimate

    start = datetime(2026, 10, 5, tzinfo=UTC)
    reasons = {"reasons": {"management": {"mentions": 40, "negative": 30, "detractors": 33.0, "promoters": 2.0}}}
    with session_scope(sqlite_url) as s:
        velora = s.scalars(select(Entity).where(Entity.name == "Velora")).one()
        for kind, begin, nps in (("week", start, -21.0), ("all", datetime(1970, 1, 1, tzinfo=UTC), -21.5)):
            s.add(NpsEstimate(entity_id=velora.id, segment={"audience": "employee"},
                              segment_key="audience=employee", window_kind=kind, window_start=begin,
                              window_end=start + timedelta(days=7), n=140, nps=nps, low=nps - 14, high=nps + 14,
                              promoters=30, passives=50, detractors=60, excluded={}, method="adjusted-wald",
                              extra=reasons))


def test_api_audience_filter_keeps_enps_apart_from_nps(sqlite_url: str) -> None:
    from fastapi.testclient import TestClient

    from web.app import create_app

    seeded = seed_with_enps(sqlite_url)
    client = TestClient(create_app(sqlite_url))
    key = {"X-API-Key": seeded.keys["read"]}

    def nps(**params: str) -> list[float]:
        reply = client.get("/api/estimates", params={"entity": "Velora", "window": "week", **params}, headers=key)
        assert reply.status_code == 200, reply.text
        return [row["nps"] for row in reply.json()]

    assert nps(audience="employee", segment="total") == [-21.0]
    assert nps(audience="employee") == [-21.0]
    customer_total = nps(audience="customer", segment="total")
    assert customer_total == seeded.velora_nps and -21.0 not in nps(audience="customer")
    assert len(nps()) == len(nps(audience="customer")) + 1
    bad = client.get("/api/estimates", params={"audience": "staff"}, headers=key)
    assert bad.status_code == 422


def test_enps_dashboard_view_shows_employers_apart_from_the_customer_charts(sqlite_url: str) -> None:
    from fastapi.testclient import TestClient

    from web.app import create_app

    seeded = seed_with_enps(sqlite_url)
    client = TestClient(create_app(sqlite_url))
    assert client.post("/login", data={"key": seeded.keys["read"], "next": "/enps"}).status_code == 200
    page = client.get("/enps", params={"window": "week"})
    assert page.status_code == 200 and 'id="enps-table"' in page.text and 'id="enps-trend"' in page.text
    assert "Velora" in page.text and "-22" in page.text and "-21" in page.text  # all time -21.5, week -21
    assert "management 33 / 2" in page.text  # the employees' reasons
    overview = client.get("/", params={"entity": "Velora", "window": "week"})
    assert overview.status_code == 200 and "-21.0" not in overview.text and "enps-trend" not in overview.text
