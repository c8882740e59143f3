"""Which entities a nightly run re-estimates: crawled, scored or (re-)judged since the last run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store.engine import session_scope
from store.queries import affected_entities
from store.schema import BotVerdict, Document, Entity, Source


def test_a_rejudged_document_puts_its_entity_in_scope(db_url: str) -> None:
    long_ago = datetime(2025, 1, 1, tzinfo=UTC)
    with session_scope(db_url) as s:
        entity = Entity(name="Velora")
        s.add(entity)
        s.flush()
        source = Source(name="shop", kind="schemaorg", base_url="http://127.0.0.1/", entity_id=entity.id)
        s.add(source)
        s.flush()
        doc = Document(source_id=source.id, external_id="1", url="http://127.0.0.1/1", entity_id=entity.id,
                       text="fine", content_hash="h", published_at=long_ago, crawled_at=long_ago)
        s.add(doc)
        s.flush()
        doc_id = doc.id
    since = datetime.now(UTC) - timedelta(minutes=5)
    with session_scope(db_url) as s:
        assert affected_entities(s, since) == {}
        s.add(BotVerdict(document_id=doc_id, model_version="bots-v2", p_bot=0.9, decision=True, evidence=[]))
        s.flush()
        assert affected_entities(s, since) == {"Velora": long_ago}
