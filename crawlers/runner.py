"""``python -m crawlers.runner SPEC.json``: one Scrapy process running every source of one crawl at once.

Twisted's reactor cannot be restarted inside a process, so ``crawlers.run`` starts this module as a child
process for each crawl; the spec (settings and per-source spider arguments) comes in as JSON and the report
goes out as JSON. A first SIGINT/SIGTERM stops the crawl gracefully and leaves each source's JOBDIR ready to
resume; a source that finished has its JOBDIR removed, so the next crawl starts from its first page again.
"""

from __future__ import annotations

import ctypes
import gc
import json
import logging
import os
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess

from crawlers import credentials
from crawlers.items import FIELDS
from crawlers.report import CrawlError, CrawlReport, counts_from_stats
from crawlers.spiders import spider_class
from crawlers.spiders.base import ERRORS_KEY, RECOVERED_KEY
from web.logs import RedactKeys


def source_settings(source: dict[str, Any]) -> dict[str, Any]:
    """Per-source settings: its own JOBDIR (resume) and, without a database, its JSON-lines feed."""
    custom: dict[str, Any] = {}
    if source.get("jobdir"):
        custom["JOBDIR"] = source["jobdir"]
    if source.get("feed"):
        custom["FEEDS"] = {
            Path(source["feed"]).resolve().as_uri(): {
                "format": "jsonlines", "encoding": "utf8", "fields": list(FIELDS), "overwrite": True,
            }
        }
    return custom


GC_THRESHOLDS = (10_000, 10, 10)  # CPython's default first generation is 700 allocations


def tune_gc() -> None:
    """Make Python's cycle collector cheap for a crawl, just before the reactor starts.

    A crawl allocates many short-lived objects (responses, selectors, items) over a large long-lived heap
    (Scrapy, Twisted, lxml, SQLAlchemy, spaCy). With the default thresholds the collector ran about 1,000 times in
    a 400-page crawl of the demo sites and took about 2 ms of CPU per page, a third of the crawler's budget
    (bench/crawl.py). Freezing what start-up built keeps it out of every collection, and a larger first
    generation makes collections rarer; items hold no reference cycles, so they are still freed at once.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def hide_secrets(sources: list[dict[str, Any]]) -> None:
    """Mask every credential value the sources of this crawl read from the environment in every log line this
    process writes (Scrapy's root handler and any other), whatever logs it: a request, a failure, a traceback."""
    secrets = [value for source in sources
               for value in credentials.read(source["kind"], source["spider"].get("credentials")).secrets()]
    if not secrets:
        return
    redaction = RedactKeys(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redaction)


def crawl(spec: dict[str, Any]) -> CrawlReport:
    process = CrawlerProcess(spec["settings"])
    hide_secrets(spec["sources"])
    crawlers: list[tuple[dict[str, Any], Crawler]] = []
    for number, source in enumerate(spec["sources"]):
        base = spider_class(source["kind"])
        # A subclass per source carries that source's settings (Scrapy reads them from the spider class).
        spider_cls = type(f"{base.__name__}{number}", (base,),
                          {"custom_settings": {**(base.custom_settings or {}), **source_settings(source)}})
        crawler = process.create_crawler(spider_cls)
        process.crawl(crawler, **source["spider"])
        crawlers.append((source, crawler))
    tune_gc()
    process.start()
    report = CrawlReport(run_id=spec.get("run_id"))
    for source, crawler in crawlers:
        assert crawler.stats is not None
        stats = crawler.stats.get_stats()
        name = source["spider"]["source"]
        report.sources[name] = counts_from_stats(stats)
        report.errors.extend(CrawlError(source=name, **error) for error in stats.get(ERRORS_KEY, []))
        report.recovered[name] = list(stats.get(RECOVERED_KEY, []))
        if stats.get("finish_reason") == "finished" and source.get("jobdir"):
            shutil.rmtree(source["jobdir"], ignore_errors=True)
    return report


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent: int | None) -> None:
    """A parent killed with -9 cannot stop its crawl, which would go on writing documents after the next run took
    the lease. On Linux the kernel is asked to SIGKILL this process when its parent dies (prctl PR_SET_PDEATHSIG);
    a parent already gone before the call ends the crawl here. What was stored is safe either way: the upserts are
    idempotent and each source's JOBDIR is saved after every stored batch."""
    if parent is None or not sys.platform.startswith("linux"):
        return
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        sys.exit(f"the process that started this crawl ({parent}) is gone; nothing crawled")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m crawlers.runner SPEC.json (written by crawlers.run)", file=sys.stderr)
        return 2
    # The mention filter imports spaCy, whose thinc imports torch when it can: 5 s of start-up per crawl for a
    # library this process never uses. Marking it absent makes thinc take its no-torch path.
    sys.modules.setdefault("torch", None)  # type: ignore[arg-type]  # None blocks an import (the import system's rule)
    spec = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    die_with_parent(spec.get("parent_pid"))
    report = crawl(spec)
    Path(spec["report_path"]).write_text(json.dumps(report.to_dict()), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
