"""One poison record never stops its batch: it is set aside with its error (store.quarantine) and the rest of the
batch is scored; once it can be processed, it leaves the quarantine."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from config.schema import OnpsConfig
from crawlers.items import ReviewItem
from flows.report import start_run
from flows.stages import Scope, detect_campaigns_stage, judge_batch, score_batch
from pipelines.normalise import NormalisePipeline
from store.engine import session_scope
from store.quarantine import quarantined
from store.schema import Author, BotVerdict, Document, Entity, Score, Source
from tests.real_streams import keytrade_reviews

POISON = "Slow app. " * 110_000  # 1.1 million characters: spaCy refuses texts over a million (E088)


def entity_source(s, entity_name: str, source_name: str) -> tuple[Entity, Source]:
    """A stored entity with one Trustpilot source on loopback."""
    entity = Entity(name=entity_name)
    s.add(entity)
    s.flush()
    source = Source(name=source_name, kind="trustpilot", base_url="http://127.0.0.1/", entity_id=entity.id)
    s.add(source)
    s.flush()
    return entity, source


def test_a_text_spacy_refuses_is_quarantined_and_the_batch_is_scored(sqlite_url: str) -> None:
    reviews = keytrade_reviews()[:7]
    when = datetime(2026, 11, 1, tzinfo=UTC)
    with session_scope(sqlite_url) as s:
        entity, source = entity_source(s, "Keytrade", "trustpilot")
        texts = [r["text"] for r in reviews[:3]] + [POISON] + [r["text"] for r in reviews[3:]]
        docs = [Document(source_id=source.id, external_id=str(n), url=f"http://127.0.0.1/{n}", entity_id=entity.id,
                         text=text, content_hash=str(n), published_at=when, crawled_at=when)
                for n, text in enumerate(texts)]
        s.add_all(docs)
        s.flush()
        ids, poison = [d.id for d in docs], docs[3].id
    cfg = OnpsConfig()
    result = score_batch(sqlite_url, cfg, ids)
    assert result.status == "done" and result.counts["scored"] == 7 and result.counts["quarantined"] == 1
    assert "E088" in result.errors[0]
    with session_scope(sqlite_url) as s:
        scored = set(s.scalars(select(Score.document_id)))
        assert scored == set(ids) - {poison}
        [held] = quarantined(s)
        assert held["document_id"] == poison and held["stage"] == "score" and "E088" in str(held["error"])
    score_batch(sqlite_url, cfg, [poison])  # fails again: one more attempt, still held
    with session_scope(sqlite_url) as s:
        assert [q["attempts"] for q in quarantined(s)] == [2]
        s.get(Document, poison).text = "Slow app, but the support helped me at once."  # repaired
    score_batch(sqlite_url, cfg, [poison])
    with session_scope(sqlite_url) as s:
        assert quarantined(s) == [] and s.scalar(select(Score.document_id).where(Score.document_id == poison))


def stored_stream(db_url: str, entities: list[str], facts_of: dict[int, dict]) -> dict[str, list[int]]:
    """Real Keytrade reviews stored for each of ENTITIES, the n-th author of each with FACTS_OF[n] (default
    a review count of 3), scored by the default scorer."""
    reviews = keytrade_reviews()[:12]
    ids: dict[str, list[int]] = {}
    with session_scope(db_url) as s:
        for name in entities:
            entity, source = entity_source(s, name, f"tp-{name}")
            docs = []
            for n, r in enumerate(reviews):
                author = Author(source_id=source.id, external_id=f"a{n}", facts=facts_of.get(n, {"review_count": 3}))
                s.add(author)
                s.flush()
                when = datetime(2026, 10, 1 + n, tzinfo=UTC)
                docs.append(Document(source_id=source.id, external_id=str(n), url=f"http://127.0.0.1/{name}/{n}",
                                     entity_id=entity.id, author_id=author.id, text=r["text"], rating=r["rating"],
                                     rating_0_10=(r["rating"] - 1) * 2.5, content_hash=f"{name}{n}",
                                     published_at=when, crawled_at=when))
            s.add_all(docs)
            s.flush()
            ids[name] = [d.id for d in docs]
    score_batch(db_url, OnpsConfig(), [i for group in ids.values() for i in group])
    return ids


def test_a_profile_fact_that_is_no_number_is_quarantined_by_the_bot_stage_and_the_rest_judged(sqlite_url: str):
    ids = stored_stream(sqlite_url, ["Keytrade"], {4: {"review_count": "many"}})["Keytrade"]
    result = judge_batch(sqlite_url, OnpsConfig(), ids)
    assert result.counts["judged"] == 11 and result.counts["quarantined"] == 1, result
    with session_scope(sqlite_url) as s:
        judged = set(s.scalars(select(BotVerdict.document_id)))
        [held] = quarantined(s)
    assert judged == set(ids) - {ids[4]} and held["document_id"] == ids[4] and held["stage"] == "bots"
    assert "many" in str(held["error"])


def test_one_entity_the_campaign_detector_cannot_read_never_skips_the_entities_after_it(sqlite_url: str):
    stored_stream(sqlite_url, ["A first", "B second"], {})
    with session_scope(sqlite_url) as s:  # a fact stored before the pipeline typed them
        first = s.scalar(select(Entity.id).where(Entity.name == "A first"))
        for author in s.scalars(select(Author).join(Source).where(Source.entity_id == first)):
            author.facts = {"account_age_days": "new"}
    run_id = start_run(sqlite_url, "nightly", {})
    result = detect_campaigns_stage(sqlite_url, OnpsConfig(), run_id, Scope())
    assert result.status == "done" and result.counts["failed"] == 1
    assert len(result.errors) == 1 and result.errors[0].startswith("entity A first:")


def test_the_pipeline_types_profile_facts_and_says_what_it_dropped() -> None:
    item = ReviewItem(source="src", url="http://127.0.0.1/1", external_id="1", author_id="u1", raw_text="Slow app.",
                      author_facts={"review_count": "1,234", "account_age_days": "many", "country": "BE"},
                      crawled_at="2026-11-24T00:00:00+00:00", entity="Acme")
    kept = NormalisePipeline(None).process_item(item)
    assert kept["author_facts"] == {"review_count": 1234, "country": "BE"}
    assert kept["extra"]["facts_dropped"] == {"account_age_days": "many"}
