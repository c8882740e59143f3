"""Crawl entry points others call: ``crawl_sources`` (configured sources into the store, incrementally) and
``crawl_url`` (one source tried out, no config, no store: JSON lines).

Both run Scrapy in a child process (``crawlers.runner``), because Twisted's reactor cannot restart: a nightly
flow, the CLI and the tests may each crawl many times in one Python process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select

from config.schema import OnpsConfig, SourceConfig
from crawlers import credentials
from crawlers.credentials import MissingCredential
from crawlers.items import as_record
from crawlers.kinds import KINDS
from crawlers.report import CrawlError, CrawlReport, SourceCounts
from crawlers.settings import scrapy_settings
from store.clock import utcnow
from store.engine import session_scope
from store.owed import GiveUp, owed_pages, settle
from store.registry import sync_config
from store.schema import CrawlRun, Document

ROOT = Path(__file__).resolve().parents[1]
KNOWN_KEYS_LIMIT = 5000  # newest stored keys per source handed to the spider: enough to spot the first known page

__all__ = ["CrawlError", "CrawlFailed", "CrawlReport", "MissingCredential", "SourceCounts", "crawl_sources",
           "crawl_url"]


class CrawlFailed(RuntimeError):
    """The crawler process itself failed (not a bad page: those are in the report)."""


def run_spec(spec: dict[str, Any], progress: bool, budgets: dict[str, int]) -> CrawlReport:
    """Run one crawl in a child process; show a progress bar per source from its PROGRESS lines."""
    with tempfile.TemporaryDirectory(prefix="onps-crawl-") as tmp:
        spec = {**spec, "report_path": str(Path(tmp) / "report.json"), "parent_pid": os.getpid()}
        spec["settings"] = {**spec["settings"], "ONPS_PROGRESS": progress}
        spec_path = Path(tmp) / "spec.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        log_path = Path(tmp) / "crawl.log"
        with open(log_path, "w+", encoding="utf-8") as log:
            child = subprocess.Popen(
                [sys.executable, "-m", "crawlers.runner", str(spec_path)],
                stdout=subprocess.PIPE, stderr=log, text=True, env=env, cwd=os.getcwd(),
            )
            assert child.stdout is not None
            with Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("pages"),
                TimeElapsedColumn(), console=Console(stderr=True), disable=not progress, transient=False,
            ) as bar:
                tasks = {name: bar.add_task(name, total=budget) for name, budget in budgets.items()}
                for line in child.stdout:
                    if line.startswith("PROGRESS "):
                        source = json.loads(line[len("PROGRESS "):]).get("source")
                        if source in tasks:
                            bar.advance(tasks[source])
                for task in bar.tasks:  # a source that stopped early (incremental, last page) is complete too
                    bar.update(task.id, total=task.completed)
            code = child.wait()
            log.seek(0)
            tail = log.read()[-3000:]
        report_path = Path(spec["report_path"])
        if code != 0 or not report_path.exists():
            raise CrawlFailed(f"the crawler process ended with code {code}:\n{tail}")
        return CrawlReport.from_dict(json.loads(report_path.read_text(encoding="utf-8")))


def spider_entities(cfg: OnpsConfig, source: SourceConfig) -> dict[str, list[str]]:
    """Aliases the mention filter looks for: the source's entity alone, else every configured entity."""
    chosen = [cfg.entity(source.entity)] if source.entity else cfg.entities
    return {e.name: e.all_aliases() for e in chosen}


def spider_own_accounts(cfg: OnpsConfig, kind: str, entity: str | None) -> list[str]:
    """The accounts of the source's kind that speak for the company (``[[entities]] own_accounts``): the source's
    entity's, else every configured entity's (on a hashtag no company's own post is customer voice)."""
    chosen = [e for e in cfg.entities if e.name == entity] if entity else cfg.entities
    return [account for e in chosen for account in e.own_accounts.get(kind, [])]


def spider_arguments(cfg: OnpsConfig, source: SourceConfig) -> dict[str, Any]:
    """What a configured source's spider is told that needs no store (the store adds ids and known keys)."""
    return {
        "source": source.name, "url": source.url, "entity": source.entity,
        "max_pages": source.max_pages or cfg.crawl.max_pages, "max_age_days": cfg.crawl.max_age_days,
        "entities": spider_entities(cfg, source), "region": source.region, "touchpoint": source.touchpoint,
        "language": source.language, "query": source.query, "selectors": source.selectors,
        "api_base": source.api_base, "credentials": source.credentials, "quota": source.quota,
        "own_accounts": spider_own_accounts(cfg, source.kind, source.entity),
    }


def crawl_sources(
    cfg: OnpsConfig,
    db_url: str,
    run_id: int | None = None,
    sources: Iterable[str] | None = None,
    progress: bool = True,
) -> CrawlReport:
    """Crawl the enabled configured sources (or the named ones) into the store at DB_URL.

    Incremental: each spider gets the newest stored keys and time of its source and stops paging where the
    stored reviews begin. Resumable: each source has a JOBDIR under ``crawl.jobdir``. With no RUN_ID a ``runs``
    row (flow "crawl") is opened and closed with the report; with one, the caller owns that row.
    """
    wanted = set(sources) if sources is not None else None
    chosen = [s for s in cfg.sources if s.enabled and (wanted is None or s.name in wanted)]
    if wanted is not None and (missing := wanted - {s.name for s in cfg.sources}):
        raise ValueError(f"no configured source named {', '.join(sorted(missing))}; see `onps config check`")
    for source in chosen:  # before any request, and before a run row says a crawl began
        credentials.check(source.kind, source.credentials)
    own_run = run_id is None
    specs: list[dict[str, Any]] = []
    with session_scope(db_url) as session:
        registry = sync_config(session, cfg)
        if own_run:
            run = CrawlRun(flow="crawl", status="running")
            session.add(run)
            session.flush()
            run_id = run.id
        for source in chosen:
            source_id = registry.sources[source.name]
            keys = session.scalars(
                select(Document.external_id).where(Document.source_id == source_id)
                .order_by(Document.published_at.desc().nulls_last(), Document.id.desc()).limit(KNOWN_KEYS_LIMIT)
            ).all()
            newest = session.scalar(select(func.max(Document.published_at)).where(Document.source_id == source_id))
            specs.append({
                "kind": source.kind,
                "jobdir": str(Path(cfg.crawl.jobdir) / source.name),
                "spider": {
                    **spider_arguments(cfg, source),
                    "known_keys": list(keys), "newest": newest.isoformat() if newest else None,
                    "run_id": run_id,
                    "owed": owed_pages(session, source_id),
                },
            })
    spec = {"settings": scrapy_settings(cfg.crawl, db_url=db_url, placeholders=cfg.authors.names()),
            "sources": specs, "run_id": run_id}
    budgets = {s["spider"]["source"]: s["spider"]["max_pages"] for s in specs}
    try:
        report = run_spec(spec, progress, budgets) if specs else CrawlReport(run_id=run_id)
    except CrawlFailed as exc:
        if own_run:
            _close_run(db_url, run_id, "failed", None, str(exc))
        raise
    report.run_id = run_id
    _settle_owed(db_url, report, {source.name: registry.sources[source.name] for source in chosen},
                 GiveUp(cfg.crawl.owed_max_runs, cfg.crawl.owed_max_days))
    if own_run:
        _close_run(db_url, run_id, "completed", report, None)
    return report


def _settle_owed(db_url: str, report: CrawlReport, source_ids: dict[str, int], rule: GiveUp) -> None:
    """Carry each source's failed pages into the store as owed and pay the ones fetched now (store.owed); the
    counts go into the report, so a source that still owes pages says so every night until it is paid."""
    with session_scope(db_url) as session:
        for name, source_id in source_ids.items():
            failed = [(e.url, e.callback, e.reason) for e in report.errors if e.source == name and e.owed]
            done = settle(session, source_id, failed, report.recovered.get(name, []), rule)
            counts = report.sources.setdefault(name, SourceCounts())
            counts.recovered, counts.owed, counts.given_up = done.recovered, done.owed, done.given_up


def _close_run(db_url: str, run_id: int | None, status: str, report: CrawlReport | None, failure: str | None) -> None:
    with session_scope(db_url) as session:
        run = session.get(CrawlRun, run_id)
        if run is None:
            return
        run.finished_at, run.status = utcnow(), status
        if report is not None:
            total = report.totals
            run.counts = {"crawl": {k: getattr(total, k) for k in ("pages", "items", "new", "duplicates", "dropped")}}
            run.errors = [vars(e) for e in report.errors[:1000]]
            run.report = {"crawl": report.to_dict()["sources"]}
        if failure:
            run.errors = [{"stage": "crawl", "reason": failure}]


def crawl_url(
    url: str,
    kind: str,
    entity: str | None = None,
    max_pages: int | None = None,
    out_path: str | Path = "crawl.jsonl",
    cfg: OnpsConfig | None = None,
    progress: bool = False,
    api_base: str | None = None,
) -> CrawlReport:
    """Crawl one source given by URL and spider KIND into OUT_PATH as JSON lines (the stored fields).

    No store, no JOBDIR, no incremental memory, no age budget: a dry run of a source before it goes into onps.toml. With
    ENTITY, forum-like kinds keep only posts naming it (and its aliases, when CFG knows it), and the entity's own
    accounts in CFG (any entity's without ENTITY) speak for the company, not as customers. API_BASE sends an API
    source's calls to another host (same paths). A credential the kind needs must be in the environment under its
    default variable (crawlers.credentials), else MissingCredential before any request.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    credentials.check(kind)
    cfg = cfg or OnpsConfig()
    known = {e.name: e for e in cfg.entities}
    entities = {entity: known[entity].all_aliases() if entity in known else [entity]} if entity else {}
    name = urlsplit(url).netloc or url
    budget = max_pages or cfg.crawl.max_pages
    spec = {
        "settings": scrapy_settings(cfg.crawl, placeholders=cfg.authors.names()),
        "sources": [{
            "kind": kind,
            "feed": str(Path(out_path).resolve()),
            "spider": {"source": name, "url": url, "entity": entity, "max_pages": budget,
                       "max_age_days": None, "entities": entities, "api_base": api_base,
                       "own_accounts": spider_own_accounts(cfg, kind, entity)},
        }],
    }
    out = Path(out_path).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    report = run_spec(spec, progress, {name: budget})
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line.strip()] \
        if out.exists() else []
    out.write_text("".join(json.dumps(as_record(item), ensure_ascii=False) + "\n" for item in lines),
                   encoding="utf-8")
    return report
