"""The detractor worklist as a queue: who is on it (text and rating together), its states, CSV, API and CLI."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from nps.classes import followup_class
from store.engine import session_scope
from store.schema import Author, DocumentOrganic, Entity, Score, Source
from tests.test_api import FIRST_WEEK, WEEK, Seeded, _doc, seed
from web.app import create_app


def test_the_text_overrules_the_stars_only_where_they_clearly_disagree() -> None:
    assert followup_class(0.1, 0.1, 0.8, 9.4) == "promoter"  # 1 star, "fast and convenient app, thanks"
    assert followup_class(0.7, 0.2, 0.1, 1.0) == "detractor"  # 5 stars, "never again"
    assert followup_class(0.1, 0.1, 0.8, 7.5) == "detractor"  # a lukewarm text: the rating tips it
    assert followup_class(0.1, 0.1, 0.8, None) == "detractor"
    assert followup_class(0.4, 0.4, 0.2, 0.0) == "detractor"  # a tie is promoter, and the text overrules it
    assert followup_class(0.3, 0.4, 0.3, 0.0) == "passive"


def add_review(url: str, name: str, text: str, stars: float, probs: tuple[float, float, float],
               text_score: float | None, author: str | None = None) -> int:
    """One organic Velora review scored as given (the combined probabilities and the text's own score)."""
    with session_scope(url) as s:
        shop = s.scalar(select(Source).where(Source.name == "velora-shop"))
        velora = s.scalar(select(Entity).where(Entity.name == "Velora"))
        assert shop and velora
        doc = _doc(shop, velora, name, text, FIRST_WEEK + 5 * WEEK + timedelta(days=2), rating=stars,
                   rating_scale=5.0, rating_0_10=(stars - 1) * 2.5)
        if author:
            who = Author(source_id=shop.id, external_id=f"u-{name}", display_name=author)
            s.add(who)
            s.flush()
            doc.author_id = who.id
        s.add(doc)
        s.flush()
        s.add(Score(document_id=doc.id, model_version="test-1", score=3.0, p_promoter=probs[0], p_passive=probs[1],
                    p_detractor=probs[2], confidence=max(probs), text_only_score=text_score))
        s.add(DocumentOrganic(document_id=doc.id, excluded=None))
        return doc.id


@pytest.fixture
def queue(db_url: str) -> tuple[TestClient, Seeded, dict[str, int]]:
    seeded = seed(db_url)
    added = {
        "thanks": add_review(db_url, "thanks", "Fast and convenient app, thanks for your dedication.", 1.0,
                             (0.1, 0.1, 0.8), 9.4),
        "angry": add_review(db_url, "angry", "Never again, they lost my money twice.", 5.0, (0.6, 0.3, 0.1), 0.8,
                            author="Mira K."),
    }
    return TestClient(create_app(db_url)), seeded, added


def _h(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def test_worklist_lists_detractors_by_text_and_rating(queue: tuple[TestClient, Seeded, dict[str, int]]) -> None:
    client, seeded, added = queue
    items = client.get("/api/worklist?entity=Velora", headers=_h(seeded.keys["read"])).json()
    ids = [i["id"] for i in items]
    assert added["thanks"] not in ids and added["angry"] in ids
    assert ids[0] == seeded.docs["broken"]  # the active detractor (warns others) comes first
    angry = next(i for i in items if i["id"] == added["angry"])
    assert angry["author"] == "Mira K." and angry["url"].startswith("http://127.0.0.1/r/")
    assert angry["worklist"] == {"status": "open", "owner": None, "note": None, "updated_at": None,
                                 "updated_by": None}


def test_worklist_states_need_the_write_scope_and_filter_the_queue(
        queue: tuple[TestClient, Seeded, dict[str, int]]) -> None:
    client, seeded, added = queue
    late = seeded.docs["late"]
    body = {"status": "contacted", "owner": "ana", "note": "called back, refund offered"}
    assert client.post(f"/api/worklist/{late}", json=body, headers=_h(seeded.keys["read"])).status_code == 403
    assert client.post(f"/api/worklist/{late}", json={"status": "done"},
                       headers=_h(seeded.keys["write"])).status_code == 422
    assert client.post("/api/worklist/999999", json=body, headers=_h(seeded.keys["write"])).status_code == 404
    state = client.post(f"/api/worklist/{late}", json=body, headers=_h(seeded.keys["write"])).json()
    assert state["status"] == "contacted" and state["owner"] == "ana" and state["updated_by"] == "write-user"
    done = client.post(f"/api/worklist/{late}", json={"status": "resolved"}, headers=_h(seeded.keys["write"]))
    assert done.json()["owner"] == "ana" and done.json()["note"] == "called back, refund offered"
    key = _h(seeded.keys["read"])
    open_ids = [i["id"] for i in client.get("/api/worklist?entity=Velora&status=open", headers=key).json()]
    assert late not in open_ids and added["angry"] in open_ids
    resolved = client.get("/api/worklist?status=resolved", headers=key).json()
    assert [i["id"] for i in resolved] == [late] and resolved[0]["worklist"]["status"] == "resolved"
    assert client.get("/api/worklist?status=closed", headers=key).status_code == 422


def test_worklist_csv_has_a_row_per_item_and_defuses_formulas(
        queue: tuple[TestClient, Seeded, dict[str, int]], db_url: str) -> None:
    client, seeded, _ = queue
    formula = add_review(db_url, "formula", "=HYPERLINK(\"http://x\") worst bank", 1.0, (0.05, 0.05, 0.9), 1.0)
    answer = client.get("/api/worklist.csv?entity=Velora", headers=_h(seeded.keys["read"]))
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    listed = client.get("/api/worklist?entity=Velora", headers=_h(seeded.keys["read"])).json()
    assert [int(r["id"]) for r in rows] == [i["id"] for i in listed]
    assert next(r for r in rows if int(r["id"]) == formula)["text"].startswith("'=HYPERLINK")


def test_onps_worklist_lists_and_moves_an_item(queue: tuple[TestClient, Seeded, dict[str, int]],
                                               db_url: str) -> None:
    from flows.cli import app

    _, seeded, added = queue
    runner = CliRunner()
    env = {"ONPS_DATABASE_URL": db_url}
    listed = runner.invoke(app, ["worklist", "list", "--entity", "Velora", "--format", "json"], env=env)
    assert listed.exit_code == 0, listed.output
    assert added["angry"] in [i["id"] for i in json.loads(listed.stdout)]
    moved = runner.invoke(app, ["worklist", "set", str(added["angry"]), "--status", "not_actionable",
                                "--owner", "li", "--note", "no contact details"], env=env)
    assert moved.exit_code == 0, moved.output
    shown = runner.invoke(app, ["worklist", "list", "--status", "not_actionable", "--format", "csv"], env=env)
    rows = list(csv.DictReader(io.StringIO(shown.stdout)))
    assert [(int(r["id"]), r["owner"], r["note"]) for r in rows] == [(added["angry"], "li", "no contact details")]
    bad = runner.invoke(app, ["worklist", "set", str(added["angry"]), "--status", "done"], env=env)
    assert bad.exit_code == 2 and "contacted" in bad.output
    missing = runner.invoke(app, ["worklist", "set", "999999", "--status", "resolved"], env=env)
    assert missing.exit_code == 2 and "no review" in missing.output
