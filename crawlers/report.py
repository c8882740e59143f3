"""The run report: counts per source and every error by URL, gathered from Scrapy signals into the crawler's
stats, so the parent process can read them back as JSON.

Counts: ``pages`` parsed, ``items`` yielded by the spider, ``new`` documents stored (or exported), ``duplicates``
(seen earlier in the run or already stored), ``dropped`` (invalid items, each also listed as an error).
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.http import Response
from scrapy.logformatter import LogFormatter, LogFormatterResult
from twisted.python.failure import Failure

from crawlers.items import ReviewItem
from crawlers.spiders.base import ERRORS_KEY
from pipelines.dedupe import DuplicateItem
from pipelines.validate import TooOld

COUNTS = ("pages", "items", "new", "duplicates", "dropped")
NOTED = ("too_old", "recoded", "bad_dates", "own_posts")  # counted from the crawler's stats beside COUNTS


@dataclass
class SourceCounts:
    pages: int = 0
    items: int = 0
    new: int = 0
    duplicates: int = 0
    dropped: int = 0
    too_old: int = 0
    finish_reason: str = ""
    seconds: float = 0.0  # from the spider's opening to its closing
    recovered: int = 0  # pages owed from earlier crawls (store.owed) fetched in this one
    owed: int = 0  # pages the source still owes after this crawl (failed now or before, not given up)
    given_up: int = 0  # owed pages given up in this crawl (crawl.owed_max_runs / owed_max_days)
    recoded: int = 0  # pages declared UTF-8 that were not, decoded again (crawlers.middlewares)
    bad_dates: int = 0  # items stored without a date: the one they gave cannot be read (extra.date_unreadable)
    own_posts: int = 0  # the entity's own accounts' posts left out, not replies riding on what they answer


@dataclass
class CrawlError:
    source: str
    url: str
    reason: str
    owed: bool = False  # the page may hold reviews and failed for a passing reason: fetched again next crawl
    callback: str = "parse"  # the spider method that parses the page


@dataclass
class CrawlReport:
    """What a crawl did: counts per source name and the errors, each naming its URL."""

    sources: dict[str, SourceCounts] = field(default_factory=dict)
    errors: list[CrawlError] = field(default_factory=list)
    run_id: int | None = None
    recovered: dict[str, list[str]] = field(default_factory=dict)  # source -> owed page URLs parsed this crawl

    @property
    def totals(self) -> SourceCounts:
        total = SourceCounts()
        for counts in self.sources.values():
            for name in (*COUNTS, *NOTED, "recovered", "owed", "given_up"):
                setattr(total, name, getattr(total, name) + getattr(counts, name))
            total.seconds = max(total.seconds, counts.seconds)  # sources crawl at the same time
        return total

    def failed_sources(self) -> list[dict[str, Any]]:
        """Sources that gave no item at all and had failing pages (a 404, a 5xx after the retries, a page whose
        format changed): broken, not merely quiet (an incremental crawl with nothing new still sees its known
        reviews). Each with its page counts and last error, for the operator alert (nps.alerts.source_alerts)."""
        failed = []
        for name, counts in self.sources.items():
            errors = [e for e in self.errors if e.source == name]
            if errors and counts.items == 0:
                failed.append({"source": name, "pages": max(counts.pages, len(errors)), "failed_pages": len(errors),
                               "last_error": f"{errors[-1].url}: {errors[-1].reason}"[:300]})
        return failed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CrawlReport:
        return cls(
            sources={name: SourceCounts(**counts) for name, counts in data.get("sources", {}).items()},
            errors=[CrawlError(**error) for error in data.get("errors", [])],
            run_id=data.get("run_id"),
            recovered=data.get("recovered", {}),
        )


def counts_from_stats(stats: dict[str, Any]) -> SourceCounts:
    return SourceCounts(
        **{name: int(stats.get(f"onps/{name}", 0)) for name in (*COUNTS, *NOTED)},
        finish_reason=str(stats.get("finish_reason", "")),
        seconds=round(float(stats.get("elapsed_time_seconds", 0.0)), 3),
    )


class ReportCollector:
    """Scrapy extension: counts items by fate and lists parse failures and invalid items as errors.

    With ``ONPS_PROGRESS`` set it also prints one JSON line per parsed page on stdout, which the parent turns
    into a progress bar.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.persisting = bool(crawler.settings.get("ONPS_DB_URL"))
        self.progress = crawler.settings.getbool("ONPS_PROGRESS")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReportCollector:
        collector = cls(crawler)
        crawler.signals.connect(collector.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(collector.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(collector.spider_error, signal=signals.spider_error)
        crawler.signals.connect(collector.response_received, signal=signals.response_received)
        return collector

    def _error(self, url: str, reason: str, owed: bool = False, callback: str = "parse") -> None:
        assert self.stats is not None
        errors = self.stats.get_value(ERRORS_KEY) or []
        errors.append({"url": url, "reason": reason, "owed": owed, "callback": callback})
        self.stats.set_value(ERRORS_KEY, errors)

    def item_scraped(self, item: ReviewItem) -> None:
        assert self.stats is not None
        self.stats.inc_value("onps/items")
        if not self.persisting:
            self.stats.inc_value("onps/new")

    def item_dropped(self, item: ReviewItem, exception: DropItem) -> None:
        assert self.stats is not None
        self.stats.inc_value("onps/items")
        if isinstance(exception, DuplicateItem):
            self.stats.inc_value("onps/duplicates")
        elif isinstance(exception, TooOld):
            self.stats.inc_value("onps/too_old")
        else:
            self.stats.inc_value("onps/dropped")
            self._error(str(item.get("url") or ""), f"item dropped: {exception}")

    def spider_error(self, failure: Failure, response: Response) -> None:
        """A parse callback that raised: the page is owed (the next crawl parses it again), the crawl goes on."""
        callback = getattr(response.request.callback, "__name__", None) if response.request else None
        self._error(response.url, f"parse failed: {type(failure.value).__name__}: {failure.value}", owed=True,
                    callback=callback or "parse")

    def response_received(self, response: Response) -> None:
        if self.progress and not response.url.endswith("/robots.txt"):
            spider = self.crawler.spider
            line = {"source": getattr(spider, "source", ""), "url": response.url}
            sys.stdout.write("PROGRESS " + json.dumps(line) + "\n")
            sys.stdout.flush()


class QuietLogFormatter(LogFormatter):
    """Scrapy's log lines, without the per-page and per-item DEBUG ones when the log level drops them anyway.

    Scrapy filters by level in its root handler, not in the loggers, so each "Crawled (200)" and "Scraped from"
    record would be built and then thrown away: one per page and one per item.
    """

    def __init__(self, level: int | str = logging.DEBUG) -> None:
        self.debug = (level if isinstance(level, int) else logging.getLevelName(level)) <= logging.DEBUG

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> QuietLogFormatter:
        return cls(crawler.settings.get("LOG_LEVEL", "DEBUG"))

    def crawled(self, *args: Any, **kwargs: Any) -> LogFormatterResult | None:  # type: ignore[override]  # Scrapy skips the line on None (its docs), its annotation says otherwise
        return super().crawled(*args, **kwargs) if self.debug else None

    def scraped(self, *args: Any, **kwargs: Any) -> LogFormatterResult | None:  # type: ignore[override]  # Scrapy skips the line on None (its docs), its annotation says otherwise
        return super().scraped(*args, **kwargs) if self.debug else None
