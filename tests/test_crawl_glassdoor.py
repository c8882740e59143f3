"""Kind ``glassdoor`` on the real captured Glassdoor reviews page (../shared/fixtures/employer-reviews), served on
127.0.0.1: `onps crawl`, and the nightly's crawl stage from an onps.toml into a real store (issue #21)."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_httpserver import HTTPServer
from sqlalchemy import select
from typer.testing import CliRunner

from config.load import load
from flows.cli import app
from flows.stages import crawl
from store.engine import session_scope
from store.schema import Document
from store.streams import as_record
from tests.conftest import FIXTURES, need_shared

PAGE = "glassdoor_uk_aetna_reviews_P234"
PATH = "/Reviews/Aetna-Reviews-E16_P234.htm"  # the page's own "next" link points here, with this query
QUERY = "filter.defaultEmploymentStatuses=false&filter.defaultLocation=false"
REVIEW_IDS = {"12449", "12754", "12997", "13453", "14145", "15874", "30704"}  # from the page's RVW links


def serve(server: HTTPServer) -> str:
    folder = need_shared(FIXTURES / "employer-reviews")
    server.expect_request(PATH, query_string=QUERY).respond_with_data(
        (folder / f"{PAGE}.html").read_bytes(), content_type="text/html")
    return server.url_for(PATH) + "?" + QUERY


def expected() -> dict:
    return json.loads((FIXTURES / "employer-reviews" / f"{PAGE}.expected.json").read_text())["first_review"]


def fast_toml(tmp_path: Path, sources: str = "") -> Path:
    config = tmp_path / "onps.toml"
    config.write_text("[crawl]\nautothrottle = false\ndownload_delay = 0\nretry_times = 0\n"
                      f"jobdir = \"{tmp_path / 'jobs'}\"\n" + sources, encoding="utf-8")
    return config


def test_onps_crawl_glassdoor_gives_one_employee_item_per_review(httpserver: HTTPServer, tmp_path: Path) -> None:
    url = serve(httpserver)
    out = tmp_path / "aetna.jsonl"
    result = CliRunner().invoke(app, ["--config", str(fast_toml(tmp_path)), "crawl", url, "--kind", "glassdoor",
                                      "--entity", "Aetna", "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(line["external_id"] for line in lines) == sorted(REVIEW_IDS)  # 9 containers, 7 reviews
    pages = [req.path for req, _ in httpserver.log if req.path != "/robots.txt"]
    assert pages == [PATH]  # the last page's "next" is itself: fetched once, no loop error
    for line in lines:
        assert line["audience"] == "employee" and line["entity"] == "Aetna"
        assert line["author"] is None and line["author_id"] is None and line["author_name"] is None
        assert "company_reply" not in (line["extra"] or {})  # the empty reply template is no reply
    first, truth = next(x for x in lines if x["external_id"] == "12449"), expected()
    assert first["rating"] == float(truth["rating"]) and first["rating_scale"] == 5
    assert first["published_at"].startswith(truth["date"])
    assert first["title"] == truth["title"]
    assert first["text"] == (f"Pros: {truth['pros']}\nCons: {truth['cons']}\n"
                             f"Advice to management: {truth['advice']}")
    assert first["sub_ratings"] == {k: float(v) for k, v in truth["sub_ratings"].items()}
    assert first["url"] == truth["link"].replace("https://www.glassdoor.co.uk", url.split("/Reviews")[0])
    assert first["author_facts"] == {"current_employee": True, "job_title": "Senior Consultant"}
    assert first["region"] == truth["location"] and first["extra"]["ceo_approval"] == "approves"
    assert first["recommends"] is None  # the page shows no recommend answer for this one
    by_id = {x["external_id"]: x for x in lines}
    assert by_id["12997"]["recommends"] is True and by_id["30704"]["recommends"] is False
    assert by_id["30704"]["author_facts"]["current_employee"] is False
    scored = tmp_path / "scored.jsonl"  # the crawled file is valid `onps score` input as it stands
    assert CliRunner().invoke(app, ["score", str(out), "-o", str(scored)]).exit_code == 0


def test_nightly_crawl_stage_stores_glassdoor_reviews_as_employee_records(httpserver: HTTPServer, db_url: str,
                                                                         tmp_path: Path) -> None:
    url = serve(httpserver)
    cfg = load(fast_toml(tmp_path, f"""max_age_days = 10000  # the captured reviews are from 2008

[[entities]]
name = "Aetna"

[[sources]]
name = "glassdoor-aetna"
kind = "glassdoor"
url = "{url}"
entity = "Aetna"
"""))
    result = crawl(db_url, cfg, run_id=None)  # type: ignore[arg-type]
    assert result.status == "done", result
    with session_scope(db_url) as session:
        docs = session.scalars(select(Document)).all()
        assert {d.external_id for d in docs} == REVIEW_IDS and all(d.author_id is None for d in docs)
        records = [as_record(d, "glassdoor-aetna", "Aetna", None, None, None, "employer") for d in docs]
    assert {r["audience"] for r in records} == {"employee"}
    first = next(r for r in records if r["text"].startswith("Pros: 401k"))
    assert first["sub_ratings"]["comp_and_benefits"] == 2.0 and "recommends" not in first
    assert [r["recommends"] for r in records if r["title"] == "Aetna Sucks"] == [False]
