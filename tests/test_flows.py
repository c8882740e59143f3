"""The nightly flow under Prefect, end to end on the demo: run report, truth check, overlap, retries, a run
killed with -9 and resumed, the Dask task runner, the deployment.

One Prefect API server serves every test here and the child processes of the kill test, so Prefect's start
(10-30 s on a loaded 2-core box) is paid once; and one reference run (`run_demo`: serve the demo on 127.0.0.1,
crawl it, run every stage) gives the crawled documents and the results the other runs must reproduce. The other
runs work on copies of the reference store with everything after the crawl deleted.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import func, select

from flows.orchestrator import configure

ROOT = Path(__file__).resolve().parents[1]
PREFECT_HOME = ROOT / "var" / "prefect-tests"  # Prefect's database persists here: created once, faster after
configure(PREFECT_HOME)  # before anything imports Prefect

from config.schema import OnpsConfig  # noqa: E402
from flows import exitcodes, locks, report, stages  # noqa: E402
from flows.nightly import LOCK, run_nightly  # noqa: E402
from store.engine import session_scope  # noqa: E402
from store.organic import members_of  # noqa: E402
from store.schema import (  # noqa: E402
    Alert,
    BotVerdict,
    Campaign,
    Document,
    Entity,
    NpsEstimate,
    Score,
    Source,
)

DOWNSTREAM = ("alerts", "nps_estimates", "document_organic", "campaign_members", "campaigns",
              "bot_verdicts", "reasons", "scores", "flow_locks")
BATCH = "16"  # small batches: many tasks to spread over Dask workers, and a window to kill a run in


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Crawl job folders in a scratch dir and one batch size for every run (child processes inherit both)."""
    scratch = tmp_path_factory.mktemp("flows")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ONPS_CRAWL__JOBDIR", str(scratch / "jobs"))
        mp.setenv("ONPS_MODELS__BATCH_SIZE", BATCH)
        yield scratch


@pytest.fixture(scope="module")
def prefect_api(env: Path) -> Iterator[str]:
    """One Prefect API server for this module and its child processes (PREFECT_API_URL points at it)."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, temporary_settings

    # A port of its own: SubprocessASGIServer() is a singleton per port, and the port-less one is the ephemeral
    # server an earlier in-process flow may have started (and whose process may be gone while it still says running).
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = SubprocessASGIServer(port=port)
    server.start(timeout=180)
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield server.api_url
    finally:
        del os.environ["PREFECT_API_URL"]
        server.stop()


@pytest.fixture(scope="module")
def reference(prefect_api: str, env: Path) -> dict[str, Any]:
    """The demo run: its exit code, printed output, store and the demo's truth."""
    from demo.generate import generate
    from flows.demo_run import VAR, run_demo

    db_path = env / "reference.db"
    console = Console(record=True, width=160)
    code = run_demo(seed=11, scale=0.1, port=0, db_url=f"sqlite:///{db_path}", console=console)
    return {"code": code, "output": console.export_text(), "db": db_path,
            "truth": generate(seed=11, scale=0.1).truth,
            "config": str(VAR.resolve() / "onps-seed11-scale0.1.toml")}  # the demo config the run wrote


def crawled_copy(reference: dict[str, Any], path: Path) -> str:
    """A copy of the reference store as the crawl left it: documents kept, every later stage's rows gone."""
    with sqlite3.connect(reference["db"]) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
        for table in DOWNSTREAM:
            dst.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
    return f"sqlite:///{path}"


def snapshot(db_url: str) -> dict[str, Any]:
    """Everything the stages wrote, keyed by natural keys (not row ids), rounded where floats are compared."""

    def r(x: float | None) -> float | None:
        return None if x is None else round(x, 6)

    with session_scope(db_url) as s:
        key = {d: (src, ext) for d, src, ext in s.execute(
            select(Document.id, Source.name, Document.external_id).join(Source, Source.id == Document.source_id))}
        ent = dict(s.execute(select(Entity.id, Entity.name)).all())
        return {
            "documents": sorted(key.values()),
            "scores": sorted((key[x.document_id], x.model_version, r(x.score), r(x.p_promoter), r(x.p_detractor))
                             for x in s.execute(select(Score)).scalars()),
            "verdicts": sorted((key[x.document_id], x.model_version, r(x.p_bot), x.decision)
                               for x in s.execute(select(BotVerdict)).scalars()),
            "campaigns": sorted((ent[c.entity_id], c.kind, c.window_start.isoformat(),
                                 sorted(key[m] for m in members_of(s, [c.id])[c.id]))
                                for c in s.execute(select(Campaign)).scalars()),
            "estimates": sorted((ent[e.entity_id], e.segment_key, e.window_kind, e.window_start.isoformat(), r(e.n),
                                 r(e.nps), r(e.low), r(e.high)) for e in s.execute(select(NpsEstimate)).scalars()),
            "alerts": sorted(a.cause_key for a in s.execute(select(Alert)).scalars()),
        }


def stage_status(db_url: str, run_id: int, stage: str) -> str:
    return report.load_run(db_url, run_id)["report"]["stages"][stage]["status"]


def test_demo_run_reports_recovered_beside_true(reference: dict[str, Any]) -> None:
    out, truth = reference["output"], reference["truth"]
    runs = report.recent_runs(f"sqlite:///{reference['db']}")
    assert runs[0]["flow"] == "nightly" and runs[0]["status"] == "completed", runs[0]
    stages_run = runs[0]["report"]["stages"]
    assert stages_run["crawl"]["status"] == "done" and stages_run["crawl"]["counts"]["new"] > 100
    assert reference["code"] == exitcodes.OK
    assert {name: s["status"] for name, s in stages_run.items()} == dict.fromkeys(stages.STAGES, "done")
    assert "organic NPS vs the demo's truth" in out
    check = out[out.index("organic NPS vs the demo's truth"):].splitlines()
    for name, brand in truth.brands.items():  # every brand's true NPS is printed beside what was recovered
        line = next(line for line in check if line.lstrip().startswith(name.split()[0]))
        assert f"{brand.true_nps:+.1f}" in line
    assert f"planted smear campaign against {truth.campaign.entity}" in out
    assert "truth inside" in out and "[" in out
    assert "bots excluded:" in out


def test_demo_invited_reviews_are_kept_apart_and_anonymous_reviewers_stay_voices(reference: dict[str, Any]) -> None:
    """The demo's real-world cases, against its truth: every invited review (served as Trustpilot's
    BusinessGeneratedLink) is out of the organic NPS for that reason alone, and no reviewer shown as "Anonymous"
    is merged with another into one voice."""
    from demo.truth import PLACEHOLDER_NAMES
    from store.schema import DocumentOrganic

    url, truth = f"sqlite:///{reference['db']}", reference["truth"]
    with session_scope(url) as s:
        verdicts = dict(s.execute(select(Document.external_id, DocumentOrganic.excluded)
                                  .join(DocumentOrganic, DocumentOrganic.document_id == Document.id)).all())
    invited = {d["id"] for d in truth.documents if d.get("invited")}
    assert invited and invited <= set(verdicts)
    assert {verdicts[i] for i in invited} <= {"invited", "bot"}  # a bot verdict comes first in the order
    assert sum(verdicts[i] == "invited" for i in invited) >= 0.9 * len(invited)
    assert not {doc for doc, why in verdicts.items() if why == "invited"} - invited  # nothing else called invited
    anonymous = {d["id"] for d in truth.documents if d["kind"] == "genuine" and d["author"] in PLACEHOLDER_NAMES
                 and d["id"] in verdicts}
    assert len(anonymous) >= 3
    assert not [doc for doc in anonymous if verdicts.get(doc) == "repeat_author"]
    assert "invited reviews, reported apart" in reference["output"]


def test_stored_scores_carry_star_levels_and_the_estimates_adjust_over_them(reference: dict[str, Any]) -> None:
    from nps.organic import ADJUSTED

    url = f"sqlite:///{reference['db']}"
    with session_scope(url) as s:
        scores = s.execute(select(Score.p_levels, Score.p_promoter, Score.p_detractor)).all()
        adjustments = {e.extra["adjustment"] for e in s.execute(select(NpsEstimate)).scalars()}
    assert scores and all(len(levels) == 5 for levels, _, _ in scores)
    assert all(abs(levels[4] - pro) < 1e-6 and abs(sum(levels[:3]) - det) < 1e-6 for levels, pro, det in scores)
    assert adjustments == {ADJUSTED}


def test_overlapping_run_is_skipped_and_writes_nothing(reference: dict[str, Any], tmp_path: Path) -> None:
    db_url = crawled_copy(reference, tmp_path / "overlap.db")
    other = locks.claim(db_url, LOCK, "other-host:1:999")  # a live run on another machine holds the store
    skipped = report.load_run(db_url, run_nightly(reference["config"], db_url, crawl=False))
    assert skipped["status"] == "skipped"
    assert "held by other-host:1:999" in skipped["report"]["notes"][0]
    assert skipped["report"]["stages"] == {}
    assert snapshot(db_url)["scores"] == []
    from typer.testing import CliRunner

    from flows.cli import app

    cli = CliRunner().invoke(app, ["-c", reference["config"], "nightly", "--no-crawl", "--db", db_url])
    assert cli.exit_code == exitcodes.SKIPPED != exitcodes.RUN_FAILED, cli.output  # its own code: not a failure
    locks.release(db_url, other)


def test_transient_error_is_retried_with_backoff(reference: dict[str, Any], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.exc import OperationalError

    db_url = crawled_copy(reference, tmp_path / "retry.db")
    calls: list[float] = []

    def flaky(db_url: str, cfg: OnpsConfig) -> stages.Plan:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise OperationalError("SELECT 1", {}, Exception("database is locked"))
        return stages.Plan()  # nothing left to score

    monkeypatch.setattr(stages, "score_plan", flaky)
    run_id = run_nightly(reference["config"], db_url, crawl=False)
    assert len(calls) == 2 and calls[1] - calls[0] >= 1.0  # retried once, after a backoff (2 s +- jitter)
    assert stage_status(db_url, run_id, "score") == "done"

    def broken(db_url: str, cfg: OnpsConfig) -> None:
        calls.append(time.monotonic())
        raise ValueError("a bug, not a hiccup")

    calls.clear()
    monkeypatch.setattr(stages, "score_plan", broken)
    run = report.load_run(db_url, run_nightly(reference["config"], db_url, crawl=False))
    assert len(calls) == 1  # not retried
    assert run["status"] == "failed"
    assert run["errors"] == [{"stage": "score", "error": "ValueError: a bug, not a hiccup"}]
    assert list(run["report"]["stages"]) == list(stages.STAGES)  # the run went on to the end


def test_a_missing_model_fails_the_run_and_names_the_file(reference: dict[str, Any], tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A deleted scorer is an error, not a stage to skip: every stage that needs it fails with the file's name
    and the command that builds it, the run ends failed and `onps nightly` exits with RUN_FAILED."""
    from typer.testing import CliRunner

    from flows.cli import app

    db_url = crawled_copy(reference, tmp_path / "no-model.db")
    gone = tmp_path / "deleted-scorer.joblib"
    monkeypatch.setenv("ONPS_MODELS__SCORER_PATH", str(gone))
    cli = CliRunner().invoke(app, ["-c", reference["config"], "nightly", "--no-crawl", "--db", db_url])
    assert cli.exit_code == exitcodes.RUN_FAILED, cli.output
    run = report.recent_runs(db_url)[0]
    assert run["status"] == "failed"
    failed = {e["stage"] for e in run["errors"] if f"{gone} is missing" in e["error"] and "onps retrain" in e["error"]}
    assert failed == {"score", "bots", "campaigns", "estimate"}
    assert all(stage_status(db_url, run["id"], stage) == "failed" for stage in failed)
    assert snapshot(db_url)["scores"] == []


def test_killed_run_resumes_with_no_duplicates_and_no_loss(reference: dict[str, Any], tmp_path: Path) -> None:
    db_url = crawled_copy(reference, tmp_path / "killed.db")
    with session_scope(db_url) as s:
        total = s.execute(select(func.count(Document.id))).scalar_one()
    script = ("import sys; from flows.orchestrator import configure; configure(sys.argv[1]); "
              "from flows.nightly import run_nightly; run_nightly(sys.argv[3], sys.argv[2], crawl=False)")
    child = subprocess.Popen([sys.executable, "-c", script, str(PREFECT_HOME), db_url, reference["config"]], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    scored = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and child.poll() is None:
        with session_scope(db_url) as s:
            scored = s.execute(select(func.count(Score.id))).scalar_one()
        if 0 < scored < total:
            break
        time.sleep(0.02)
    assert child.poll() is None, f"the run ended before it could be killed: {child.stderr.read().decode()[-2000:]}"
    os.killpg(child.pid, signal.SIGKILL)  # the whole process group, as when a machine dies
    child.wait()
    with session_scope(db_url) as s:  # a batch may have committed between the count and the kill
        scored = s.execute(select(func.count(Score.id))).scalar_one()
    killed = report.recent_runs(db_url, 1)[0]
    assert killed["status"] == "running" and 0 < scored < total

    resumed = report.load_run(db_url, run_nightly(reference["config"], db_url, crawl=False))
    assert resumed["status"] == "completed", resumed
    assert report.load_run(db_url, killed["id"])["status"] == "interrupted"
    assert resumed["counts"]["score"]["scored"] == total - scored  # only what the killed run had not done
    assert snapshot(db_url) == snapshot(f"sqlite:///{reference['db']}")  # nothing lost, nothing twice


def crawled_copy_on_postgresql(reference: dict[str, Any], admin_url: str) -> str:
    """The crawled part of the reference store copied into a fresh PostgreSQL database (ids kept)."""
    from sqlalchemy import insert, text

    from store.engine import engine_for
    from store.migrate import upgrade
    from store.schema import Author, CrawlRun
    from tests import pg

    url = pg.fresh_database(admin_url)
    upgrade(url)
    source = engine_for(f"sqlite:///{reference['db']}")
    with source.connect() as src, engine_for(url).begin() as dst:
        for model in (CrawlRun, Entity, Source, Author, Document):
            rows = [dict(r) for r in src.execute(select(model.__table__)).mappings()]
            dst.execute(insert(model.__table__), rows)
            name = model.__tablename__
            dst.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"))
    return url


def test_dask_workers_give_the_same_results(reference: dict[str, Any], tmp_path: Path,
                                            pg_admin_url: str | None) -> None:
    """On PostgreSQL (the shared store of a scaled-out setup) where it can start here, else on SQLite."""
    if pg_admin_url is not None:
        db_url = crawled_copy_on_postgresql(reference, pg_admin_url)
    else:
        db_url = crawled_copy(reference, tmp_path / "dask.db")
    run = report.load_run(db_url, run_nightly(reference["config"], db_url, crawl=False, dask_workers=2))
    assert run["status"] == "completed", run
    if run["report"]["stages"]["score"]["status"] == "done":
        assert run["counts"]["score"]["batches"] > 2  # several batches were there to spread
    assert snapshot(db_url) == snapshot(f"sqlite:///{reference['db']}")


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


def test_cli_lists_runs_shows_a_report_and_checks_its_input(reference: dict[str, Any]) -> None:
    from typer.testing import CliRunner

    from flows.cli import app

    db = f"sqlite:///{reference['db']}"
    cli = CliRunner()
    listed = cli.invoke(app, ["runs", "--db", db])
    assert listed.exit_code == 0 and "nightly" in listed.output and "completed" in listed.output
    run_id = report.recent_runs(db, 1)[0]["id"]
    shown = cli.invoke(app, ["runs", "--db", db, "--id", str(run_id)])
    assert shown.exit_code == 0 and f"run {run_id} (nightly)" in shown.output and "crawl" in shown.output
    assert cli.invoke(app, ["runs", "--db", db, "--id", "99999"]).exit_code == exitcodes.USAGE
    bad = cli.invoke(app, ["backfill", "--since", "last tuesday", "--db", db])
    assert bad.exit_code == exitcodes.USAGE and "YYYY-MM-DD" in bad.output
    planned = cli.invoke(app, ["-c", reference["config"], "deploy", "--dry-run"])
    assert planned.exit_code == 0 and "cron" in planned.output and "0 3 * * *" in planned.output


def test_the_nightly_estimates_each_source_family_of_the_demo(reference: dict[str, Any]) -> None:
    """The demo's review sites, app store, forum and feed: each family a segment of its own beside the entity
    total (the default ``[estimate] segments``), in the alert window and all time."""
    with session_scope(f"sqlite:///{reference['db']}") as s:
        found = s.execute(select(NpsEstimate.segment_key, NpsEstimate.window_kind, NpsEstimate.n)
                          .where(NpsEstimate.segment_key.like("source_family=%"))).all()
        totals = {e: n for e, n in s.execute(select(NpsEstimate.entity_id, NpsEstimate.n).where(
            NpsEstimate.segment_key == "", NpsEstimate.window_kind == "all"))}
        families = {e: n for e, n in s.execute(
            select(NpsEstimate.entity_id, func.sum(NpsEstimate.n)).where(
                NpsEstimate.segment_key.like("source_family=%"), NpsEstimate.window_kind == "all")
            .group_by(NpsEstimate.entity_id))}
    if not totals:
        pytest.skip("the estimate stage is not built here")
    assert {key for key, _, _ in found} == {"source_family=reviews", "source_family=app_stores",
                                            "source_family=social"}
    assert {kind for _, kind, _ in found} >= {"all", "week"}
    # every organic voice is in a family (one who wrote in two families is one voice in the total, one in each)
    assert set(families) == set(totals) and all(families[e] >= totals[e] for e in totals)


def test_every_configured_window_kind_is_estimated_and_another_on_demand(reference: dict[str, Any],
                                                                        tmp_path: Path) -> None:
    """The nightly writes each kind of estimate.windows; a kind it did not write is estimated when asked for, as a
    run of its own, and the all-time figure it rewrites is the nightly's (the same stage, the same store)."""
    from config.load import load
    from flows.on_demand import estimate_on_demand

    db_url = f"sqlite:///{tmp_path / 'copy.db'}"
    with sqlite3.connect(reference["db"]) as src, sqlite3.connect(tmp_path / "copy.db") as dst:
        src.backup(dst)
    cfg = load(reference["config"])
    assert "day" not in cfg.estimate.windows

    def totals(kind: str) -> dict[tuple[int, str], float]:
        with session_scope(db_url) as s:
            return {(e.entity_id, e.window_start.isoformat()): round(e.nps, 6) for e in s.scalars(
                select(NpsEstimate).where(NpsEstimate.window_kind == kind, NpsEstimate.segment_key == ""))}

    for kind in cfg.estimate.windows:
        assert totals(kind), f"the nightly stored no {kind} estimates"
    assert not totals("day")
    all_time = totals("all")
    result = estimate_on_demand(db_url, cfg, "day")
    assert result.status == "done" and totals("day") and totals("all") == all_time
    assert report.recent_runs(db_url, 1)[0]["flow"] == "estimate"
    assert report.recent_runs(db_url, 1)[0]["status"] == "completed"
