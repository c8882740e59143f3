"""The store on SQLite and PostgreSQL: migrations, idempotent upserts, UTC times, unique keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from store.engine import session_scope
from store.migrate import current, upgrade
from store.schema import BotVerdict, Document, Entity, Score, Source
from store.upsert import upsert


def _source(session) -> int:
    entity = Entity(name="Velora", aliases={"en": ["Velora"]})
    session.add(entity)
    session.flush()
    source = Source(name="velora-shop", kind="schemaorg", base_url="http://127.0.0.1/", entity_id=entity.id)
    session.add(source)
    session.flush()
    return source.id


def _doc(source_id: int, ext: str, text: str = "great") -> dict:
    return {
        "source_id": source_id, "external_id": ext, "url": f"http://127.0.0.1/r/{ext}", "text": text,
        "content_hash": f"h{ext}", "published_at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        "crawled_at": datetime(2026, 1, 3, tzinfo=UTC), "extra": {}, "rating": 4.0, "rating_scale": 5.0,
    }


HEAD = "0009"


def test_upgrade_is_repeatable(db_url: str) -> None:
    assert current(db_url) == HEAD
    assert upgrade(db_url) == HEAD


def test_upgrade_from_the_first_revision_keeps_the_data(db_url: str) -> None:
    """A store created at 0001 and filled, then upgraded: rows survive and the new column is there."""
    from alembic import command

    from store.migrate import alembic_config

    command.downgrade(alembic_config(db_url), "0001")
    assert current(db_url) == "0001"
    with session_scope(db_url) as s:
        sid = _source(s)
        upsert(s, Document.__table__, [_doc(sid, "1")], key=["source_id", "external_id"])
    assert upgrade(db_url) == HEAD
    with session_scope(db_url) as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 1
        assert s.scalar(select(func.count()).select_from(BotVerdict)) == 0


def test_scores_stored_before_star_levels_survive_0003_with_none(db_url: str) -> None:
    """A score written at 0002 (no star levels) comes back with p_levels None after the upgrade, and a new
    score keeps its five levels: old rows are estimated over the classes, new ones over the levels."""
    from alembic import command

    from store.migrate import alembic_config

    command.downgrade(alembic_config(db_url), "0002")
    score = {"model_version": "m", "score": 7.0, "p_promoter": 0.2, "p_passive": 0.5, "p_detractor": 0.3,
             "confidence": 0.5}
    with session_scope(db_url) as s:
        sid = _source(s)
        upsert(s, Document.__table__, [_doc(sid, "1"), _doc(sid, "2")], key=["source_id", "external_id"])
        ids = list(s.scalars(select(Document.id).order_by(Document.id)))
        s.execute(insert(Score.__table__), [{**score, "document_id": ids[0]}])
    assert upgrade(db_url) == HEAD
    levels = [0.1, 0.1, 0.1, 0.5, 0.2]
    with session_scope(db_url) as s:
        upsert(s, Score.__table__, [{**score, "document_id": ids[1], "p_levels": levels}],
               key=["document_id", "model_version"])
    with session_scope(db_url) as s:
        stored = dict(s.execute(select(Score.document_id, Score.p_levels).order_by(Score.document_id)).all())
    assert stored == {ids[0]: None, ids[1]: levels}


def test_company_replies_kept_in_extra_move_to_their_column_in_0006(db_url: str) -> None:
    """Trustpilot replies stored before 0006 sat in extra as {text, published_at}: after the upgrade they are the
    record's company_reply {text, time} with the time also as a column, and the rest of extra stays."""
    from alembic import command

    from store.migrate import alembic_config

    command.downgrade(alembic_config(db_url), "0005")
    old = {"company_reply": {"text": "Sorry to hear that.", "published_at": "2026-01-04T10:00:00.000Z"},
           "channel": "trustpilot: Organic"}
    with session_scope(db_url) as s:
        sid = _source(s)
        upsert(s, Document.__table__, [{**_doc(sid, "1"), "extra": old}, _doc(sid, "2")],
               key=["source_id", "external_id"])
    assert upgrade(db_url) == HEAD
    with session_scope(db_url) as s:
        rows = s.execute(select(Document.external_id, Document.company_reply, Document.company_replied_at,
                                Document.extra).order_by(Document.external_id)).all()
    assert rows[0][1] == {"text": "Sorry to hear that.", "time": "2026-01-04T10:00:00+00:00"}
    assert rows[0][2] == datetime(2026, 1, 4, 10, tzinfo=UTC) and rows[0][3] == {"channel": "trustpilot: Organic"}
    assert rows[1][1:3] == (None, None)


def test_survey_answers_imported_twice_before_0009_are_kept_once(db_url: str) -> None:
    """Before 0009 the same answers from two files were two rows each: the upgrade keys every answer by its
    content (nps.survey_import.answer_key) and keeps one of each, two equal answers in one file staying two."""
    from alembic import command
    from sqlalchemy import text

    from store.migrate import alembic_config

    command.downgrade(alembic_config(db_url), "0008")
    with session_scope(db_url) as s:
        for batch in ("file-a", "file-b"):
            for row, score in ((2, 9), (3, 3), (4, 3)):  # the two 3s of one file: two people
                s.execute(text("INSERT INTO surveys (batch, row_number, score, answered_at, segment) VALUES "
                               "(:b, :r, :s, :at, '{}')"),
                          {"b": batch, "r": row, "s": score, "at": datetime(2026, 11, 2, tzinfo=UTC)})
    assert upgrade(db_url) == HEAD
    with session_scope(db_url) as s:
        rows = s.execute(text("SELECT batch, score, answer_key FROM surveys ORDER BY row_number")).all()
    assert [(b, sc) for b, sc, _ in rows] == [("file-a", 9), ("file-a", 3), ("file-a", 3)]
    assert len({k for _, _, k in rows}) == 3


def test_upsert_never_duplicates_and_updates_when_asked(db_url: str) -> None:
    with session_scope(db_url) as s:
        sid = _source(s)
        upsert(s, Document.__table__, [_doc(sid, "1"), _doc(sid, "2")], key=["source_id", "external_id"])
    with session_scope(db_url) as s:
        upsert(s, Document.__table__, [_doc(sid, "1", "changed"), _doc(sid, "3")],
               key=["source_id", "external_id"])
        assert s.scalar(select(func.count()).select_from(Document)) == 3
        assert s.scalar(select(Document.text).where(Document.external_id == "1")) == "great"
    with session_scope(db_url) as s:
        upsert(s, Document.__table__, [_doc(sid, "1", "changed")], key=["source_id", "external_id"],
               update=["text"])
        assert s.scalar(select(Document.text).where(Document.external_id == "1")) == "changed"
        assert s.scalar(select(func.count()).select_from(Document)) == 3


def test_times_come_back_aware_utc(db_url: str) -> None:
    berlin = timezone(timedelta(hours=1))
    with session_scope(db_url) as s:
        sid = _source(s)
        row = _doc(sid, "9")
        row["published_at"] = datetime(2026, 3, 1, 12, 0, tzinfo=berlin)
        upsert(s, Document.__table__, [row], key=["source_id", "external_id"])
    with session_scope(db_url) as s:
        got = s.scalar(select(Document.published_at))
    assert got == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    assert got.utcoffset() == timedelta(0)


def test_unique_key_is_enforced_by_the_database(db_url: str) -> None:
    with pytest.raises(IntegrityError):
        with session_scope(db_url) as s:
            sid = _source(s)
            s.add(Document(**_doc(sid, "x")))
            s.add(Document(**_doc(sid, "x")))
            s.flush()


def test_0004_moves_campaign_members_to_rows_and_rederives_ratings_and_hashes(db_url: str) -> None:
    """A store at 0003: a campaign's JSON member list (ids as strings and ints, one gone), a 1-star review
    stored as 2.0. After 0004: members are rows, the rating reads 0.0 as the bot model does, the hash is the
    one `onps estimate` computes."""
    from alembic import command
    from sqlalchemy import text

    from nps.record import content_hash
    from store.migrate import alembic_config
    from store.schema import CampaignMember

    command.downgrade(alembic_config(db_url), "0003")
    with session_scope(db_url) as s:
        sid = _source(s)
        upsert(s, Document.__table__, [{**_doc(sid, "1", "Awful!"), "rating": 1.0, "rating_0_10": 2.0},
                                       _doc(sid, "2", "Fine")], key=["source_id", "external_id"])
        one, two = s.scalars(select(Document.id).order_by(Document.id)).all()
        s.execute(text("INSERT INTO campaigns (entity_id, kind, window_start, window_end, member_documents, "
                       "member_authors, strength, evidence, status) VALUES (1, 'smear', :t, :t, :m, '[]', 0.9, "
                       "'{}', 'open')"), {"t": datetime(2026, 1, 2, tzinfo=UTC), "m": f'["{one}", {two}, 999]'})
    assert upgrade(db_url) == HEAD
    with session_scope(db_url) as s:
        assert sorted(s.scalars(select(CampaignMember.document_id))) == [one, two]
        doc = s.get(Document, one)
        assert doc.rating_0_10 == 0.0 and doc.content_hash == content_hash("awful") and doc.invited is None


def test_two_first_starts_on_postgresql_migrate_once(pg_admin_url: str | None) -> None:
    """Two `onps db upgrade` at once on an empty PostgreSQL database: before the advisory lock, 6 of 6 trials
    ended in a unique violation while both created the schema; now the second waits and finds it current."""
    import subprocess
    import sys

    from tests import pg

    if pg_admin_url is None:
        pytest.skip("no PostgreSQL server binaries here (set ONPS_REQUIRE_POSTGRES=1 to make this fatal)")
    for _ in range(3):
        url = pg.fresh_database(pg_admin_url)
        code = f"from store.migrate import upgrade; print(upgrade({url!r}))"
        runs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for _ in range(2)]
        results = [(p.wait(timeout=120), p.stdout.read() if p.stdout else "", p.stderr.read() if p.stderr else "")
                   for p in runs]
        assert [(rc, out.strip()) for rc, out, _ in results] == [(0, HEAD), (0, HEAD)], results
        assert current(url) == HEAD


def test_two_first_starts_on_sqlite_migrate_once(tmp_path: Path) -> None:
    """The same on a new SQLite file: without a lock, one run in three died on "duplicate column name" while both
    applied the same migration; now the file is locked while migrating and the second finds it current."""
    import subprocess
    import sys
    for trial in range(3):
        url = f"sqlite:///{tmp_path / f'first-{trial}.db'}"
        code = f"from store.migrate import upgrade; print(upgrade({url!r}))"
        runs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for _ in range(3)]
        results = [(p.wait(timeout=120), p.stdout.read() if p.stdout else "", p.stderr.read() if p.stderr else "")
                   for p in runs]
        assert [(rc, out.strip()) for rc, out, _ in results] == [(0, HEAD)] * 3, results
        assert current(url) == HEAD
