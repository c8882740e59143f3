"""A Scrapy scheduler whose queue lives in memory even when JOBDIR is set.

Our spiders keep their own frontier in ``spider.state`` (every URL requested, every page parsed) and the
``crawlers.checkpoint`` extension saves that state into JOBDIR after each committed batch, so a stopped or killed
crawl re-asks the pages it had not finished (``SourceSpider.start``). Scrapy's disk queue would duplicate that
record, and it costs a queue directory created and removed per page (sequential paging empties the queue after every
request): about a millisecond of CPU per page, a fifth of the crawler's whole budget.
"""

from __future__ import annotations

from scrapy.core.scheduler import Scheduler


class MemoryQueueScheduler(Scheduler):
    def _dqdir(self, jobdir: str | None) -> str | None:
        return None
