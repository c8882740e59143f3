"""Checkpoint a spider's state into JOBDIR after each stored batch: a Scrapy extension on signals, as Scrapy's own
``SpiderState`` saves the state at close and loads it at open.

The persist pipeline sends ``batch_stored`` once a batch is committed and knows nothing of JOBDIR; this extension
decides what is finished then. A killed crawl loses only the uncommitted batch, whose pages the checkpoint leaves
undone, so the resumed crawl asks for them again (``SourceSpider.start``; the upserts make that harmless).
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.job import job_dir

from crawlers.spiders.base import SourceSpider

batch_stored = object()  # signal: a batch of the crawler's items is committed to the store


def save_state(jobdir: str, state: dict[str, Any], unfinished: Iterable[str]) -> None:
    """Write STATE as the one a killed crawl resumes from, with only the pages whose items are all stored as done.

    UNFINISHED are the pages still being parsed or piped (their remaining items are not stored yet), so they are
    asked again on resume. Written to a temporary file and renamed, so a kill mid-write leaves the previous
    checkpoint; the live state is not changed.
    """
    done: set[str] = state.get("done", set())
    snapshot = {**state, "done": done - set(unfinished)}
    path = Path(jobdir, "spider.state")
    partial = path.with_name("spider.state.partial")
    with partial.open("wb") as file:
        pickle.dump(snapshot, file, protocol=4)  # Scrapy's SpiderState reads it back at spider_opened
    os.replace(partial, path)


class Checkpoint:
    """Saves the spider's state on ``batch_stored``; off (NotConfigured) for a crawl without JOBDIR."""

    def __init__(self, crawler: Crawler, jobdir: str) -> None:
        self.crawler, self.jobdir = crawler, jobdir

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Checkpoint:
        jobdir = job_dir(crawler.settings)
        if not jobdir:
            raise NotConfigured("no JOBDIR: nothing to resume from")
        extension = cls(crawler, jobdir)
        crawler.signals.connect(extension.batch_stored, signal=batch_stored)
        return extension

    def batch_stored(self) -> None:
        """The pages Scrapy's scraper still holds (it keeps each response until all its items have gone through
        the pipelines) and the ones the spider says wait for more (``SourceSpider.unfinished_pages``) stay
        unfinished."""
        spider = self.crawler.spider
        assert isinstance(spider, SourceSpider)
        assert self.crawler.engine is not None and self.crawler.engine.scraper.slot is not None
        active = self.crawler.engine.scraper.slot.active
        scraping = {url for r in active for url in (r.url, *r.meta.get("redirect_urls", []))}
        save_state(self.jobdir, spider.state, {*scraping, *spider.unfinished_pages()})
