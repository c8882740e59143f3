"""One poison record never stops its batch: it is set aside with its error (store.quarantine) and the rest of the
batch is scored; once it can be processed, it leaves the quarantine."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from config.schema import OnpsConfig
from flows.stages import score_batch
from store.engine import session_scope
from store.quarantine import quarantined
from store.schema import Document, Entity, Score, Source
from tests.real_streams import keytrade_reviews

POISON = "Slow app. " * 110_000  # 1.1 million characters: spaCy refuses texts over a million (E088)


def test_a_text_spacy_refuses_is_quarantined_and_the_batch_is_scored(sqlite_url: str) -> None:
    reviews = keytrade_reviews()[:7]
    when = datetime(2026, 11, 1, tzinfo=UTC)
    with session_scope(sqlite_url) as s:
        entity = Entity(name="Keytrade")
        s.add(entity)
        s.flush()
        source = Source(name="trustpilot", kind="trustpilot", base_url="http://127.0.0.1/", entity_id=entity.id)
        s.add(source)
        s.flush()
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
