"""The nightly flow under Prefect: run records, overlap, retries, resume after kill -9, Dask, deployment.

One Prefect API server (a temporary one, as Prefect's test harness starts it) serves every test here and the
child processes of the kill test, so Prefect's ~10-30 s start is paid once. Documents come from the demo
generator, stored the way the crawl stage stores them, so these tests exercise the orchestration, not the crawl.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from flows.orchestrator import configure

ROOT = Path(__file__).resolve().parents[1]
# Prefect's own database persists under var/ between test sessions (created once; ~40% faster starts after).
configure(ROOT / "var" / "prefect-tests")  # before anything imports Prefect

from config.schema import OnpsConfig  # noqa: E402
from flows import locks, report, stages  # noqa: E402
from flows.nightly import LOCK, run_nightly  # noqa: E402
from store.engine import session_scope  # noqa: E402
from store.schema import Author, Document, Entity, Score, Source  # noqa: E402


@pytest.fixture(scope="module")
def prefect_api() -> Iterator[str]:
    """One Prefect API server for this module and its child processes (PREFECT_API_URL points at it)."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, temporary_settings

    server = SubprocessASGIServer()
    server.start(timeout=180)
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield server.api_url
    finally:
        del os.environ["PREFECT_API_URL"]
        server.stop()


@pytest.fixture(scope="module")
def demo_content():  # noqa: ANN201 (demo.model.DemoContent)
    from demo.generate import generate

    return generate(seed=11, scale=0.1)


def demo_cfg(db_url: str, batch_size: int = 16) -> OnpsConfig:
    from demo.config import demo_config

    cfg = demo_config()
    return cfg.model_copy(update={
        "database": cfg.database.model_copy(update={"url": db_url}),
        "models": cfg.models.model_copy(update={"batch_size": batch_size}),
    })


def store_demo(db_url: str, content, cfg: OnpsConfig) -> int:  # noqa: ANN001
    """The demo documents as the crawl stage would have stored them (entities, sources, authors, documents)."""
    with session_scope(db_url) as session:
        entities = {e.name: Entity(name=e.name, aliases=e.aliases) for e in cfg.entities}
        session.add_all(entities.values())
        sources = {s.name: Source(name=s.name, kind=s.kind, base_url=s.url, region=s.region,
                                  touchpoint=s.touchpoint, entity_id=None) for s in cfg.sources}
        session.add_all(sources.values())
        session.flush()
        authors: dict[tuple[str, str], Author] = {}
        for doc in content.docs:
            if doc.entity is None:
                continue
            key = (doc.source, doc.author.id)
            if key not in authors:
                authors[key] = Author(source_id=sources[doc.source].id, external_id=doc.author.id,
                                      display_name=doc.author.name,
                                      facts={"review_count": doc.author.review_count, "country": doc.author.country,
                                             "verified": doc.author.verified})
                session.add(authors[key])
            session.flush()
            session.add(Document(
                source_id=sources[doc.source].id, external_id=doc.id, url=f"http://demo/{doc.id}",
                entity_id=entities[doc.entity].id, author_id=authors[key].id, title=doc.title, text=doc.text,
                rating=doc.stars, rating_scale=5 if doc.stars else None,
                rating_0_10=(doc.stars - 1) * 2.5 if doc.stars else None, language=doc.lang,
                published_at=doc.published_at, content_hash=f"{doc.id:0>64}"[-64:],
            ))
        session.flush()
        return session.execute(select(func.count(Document.id))).scalar_one()


def test_overlapping_run_is_skipped_and_a_free_run_records_every_stage(
    prefect_api: str, sqlite_url: str, demo_content, tmp_path: Path,  # noqa: ANN001
) -> None:
    cfg = demo_cfg(sqlite_url)
    n = store_demo(sqlite_url, demo_content, cfg)
    config_path = tmp_path / "onps.toml"
    config_path.write_text(f'[database]\nurl = "{sqlite_url}"\n', encoding="utf-8")

    other = locks.claim(sqlite_url, LOCK, "other-host:1:999")  # a live run elsewhere holds the store
    skipped = report.load_run(sqlite_url, run_nightly(str(config_path), sqlite_url, crawl=False))
    assert skipped["status"] == "skipped"
    assert "held by other-host:1:999" in skipped["report"]["notes"][0]
    assert skipped["report"]["stages"] == {}  # it wrote nothing
    locks.release(sqlite_url, other)

    run = report.load_run(sqlite_url, run_nightly(str(config_path), sqlite_url, crawl=False))
    assert run["status"] == "completed", run
    stage_report = run["report"]["stages"]
    assert list(stage_report) == list(stages.STAGES)
    assert stage_report["crawl"]["status"] == "skipped"
    for name, entry in stage_report.items():
        if entry["status"] == "not built":  # said, and no numbers made up
            assert entry["counts"] == {} and f"stage not built: {name}" in run["report"]["notes"]
    if stage_report["score"]["status"] == "done":
        with session_scope(sqlite_url) as session:
            assert session.execute(select(func.count(Score.id))).scalar_one() == n
    with session_scope(sqlite_url) as session:  # the lease was given back
        assert locks.claim(sqlite_url, LOCK, locks.holder_id(0)).took_over is None
    del session


def test_transient_error_is_retried_with_backoff(prefect_api: str, sqlite_url: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.exc import OperationalError

    calls: list[float] = []
    real = stages.score_plan

    def flaky(db_url: str, cfg: OnpsConfig):  # noqa: ANN202
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise OperationalError("SELECT 1", {}, Exception("database is locked"))
        return real(db_url, cfg)

    monkeypatch.setattr(stages, "score_plan", flaky)
    run = report.load_run(sqlite_url, run_nightly(None, sqlite_url, crawl=False))
    assert len(calls) == 2 and calls[1] - calls[0] >= 1.0  # retried once, after a backoff (2 s +- jitter)
    assert run["status"] == "completed" and not run["errors"]

    def broken(db_url: str, cfg: OnpsConfig):  # noqa: ANN202
        calls.append(time.monotonic())
        raise ValueError("a bug, not a hiccup")

    calls.clear()
    monkeypatch.setattr(stages, "score_plan", broken)
    run = report.load_run(sqlite_url, run_nightly(None, sqlite_url, crawl=False))
    assert len(calls) == 1  # not retried
    assert run["status"] == "failed"
    assert run["errors"] == [{"stage": "score", "error": "ValueError: a bug, not a hiccup"}]
    assert run["report"]["stages"]["bots"]["status"] in ("done", "not built")  # the run went on


def test_deployment_has_the_configured_schedule(tmp_path: Path) -> None:
    from flows.deploy import nightly_deployment

    cfg = OnpsConfig.model_validate({"schedule": {"cron": "15 2 * * 1-5", "timezone": "Europe/Berlin"}})
    deployment = nightly_deployment(cfg, tmp_path / "onps.toml", work_pool="onps")
    (schedule,) = deployment.schedules
    assert schedule.schedule.cron == "15 2 * * 1-5" and schedule.schedule.timezone == "Europe/Berlin"
    assert deployment.entrypoint == "flows.nightly.nightly"
    assert deployment.parameters == {"config_path": str((tmp_path / "onps.toml").resolve())}
    assert deployment.work_pool_name == "onps" and deployment.concurrency_limit == 1


def test_retrain_refuses_a_worse_model(tmp_path: Path) -> None:
    from flows.retrain import Trainer, decide, promote

    trainer = Trainer("models.train", tmp_path / "artifacts", "bot_filter.metrics.json", "roc_auc",
                      ("salminen_test", "yelp_test"))
    current = {"sets": {"validation": {"roc_auc": 0.99}, "salminen_test": {"roc_auc": 0.9},
                        "yelp_test": {"roc_auc": 0.7}}}
    worse = {"sets": {"validation": {"roc_auc": 1.0}, "salminen_test": {"roc_auc": 0.95},
                      "yelp_test": {"roc_auc": 0.6}}}  # better on validation, worse where it counts
    better = {"sets": {"salminen_test": {"roc_auc": 0.92}, "yelp_test": {"roc_auc": 0.7}}}
    assert decide(current, worse, trainer).status == "refused"
    assert decide(current, better, trainer).status == "promoted"
    assert decide(None, worse, trainer).status == "first model"
    with pytest.raises(ValueError, match="held-out sets"):
        decide(current, {"sets": {"validation": {"roc_auc": 1.0}}}, trainer)
    candidate = tmp_path / "candidate"
    candidate.mkdir()
    (candidate / trainer.metrics_file).write_text(json.dumps(better))
    assert promote(candidate, trainer.artifacts) == [trainer.metrics_file]
    assert json.loads((trainer.artifacts / trainer.metrics_file).read_text()) == better


del signal, subprocess, sys, ROOT
