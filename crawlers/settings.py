"""Scrapy settings built from ``[crawl]`` of onps.toml: politeness first (robots.txt, AutoThrottle, per-domain
concurrency, a descriptive User-Agent, retries with backoff), a page-size cap, our pipelines and report."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from config.schema import CrawlConfig

PIPELINES = {
    "pipelines.validate.ValidatePipeline": 100,
    "pipelines.normalise.NormalisePipeline": 200,
    "pipelines.dedupe.DedupePipeline": 300,
    "pipelines.persist.PersistPipeline": 400,
}


# Headless without a sandbox (crawls run as root in containers) and without the browser's own background traffic.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


class RenderUnavailable(RuntimeError):
    """JavaScript rendering was asked for but scrapy-playwright or a chromium browser is missing."""


def scrapy_settings(crawl: CrawlConfig, db_url: str | None = None, progress: bool = False,
                    placeholders: list[str] | None = None) -> dict[str, Any]:
    """The settings of one crawl; ``db_url`` None means no persist pipeline (JSON lines only); PLACEHOLDERS are
    the author names that are no author (``[authors]``; default: the built-in list)."""
    settings: dict[str, Any] = {
        "BOT_NAME": "organic-nps",
        "USER_AGENT": crawl.user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(crawl.download_delay, 0.1),
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrency_per_domain,
        "DOWNLOAD_DELAY": crawl.download_delay,
        "RETRY_TIMES": crawl.retry_times,
        "RETRY_HTTP_CODES": [429, 500, 502, 503, 504, 522, 524, 408],
        "ONPS_RETRY_BACKOFF": max(crawl.download_delay, 0.5),
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawlers.middlewares.BackoffRetryMiddleware": 550,
            "crawlers.middlewares.DeclaredCharsetMiddleware": 580,
        },
        "DOWNLOAD_MAXSIZE": crawl.max_page_bytes,
        "DOWNLOAD_WARNSIZE": crawl.max_page_bytes // 2,
        "DOWNLOAD_TIMEOUT": 60,
        "ITEM_PIPELINES": PIPELINES,
        # The spider's persisted state is the frontier and its request log the duplicate filter (SourceSpider.request):
        # no disk queue and no fingerprint file in JOBDIR (crawlers/scheduler.py says why).
        "SCHEDULER": "crawlers.scheduler.MemoryQueueScheduler",
        "DUPEFILTER_CLASS": "scrapy.dupefilters.BaseDupeFilter",
        "EXTENSIONS": {"crawlers.report.ReportCollector": 0, "crawlers.checkpoint.Checkpoint": 0},
        "LOG_FORMATTER": "crawlers.report.QuietLogFormatter",
        "TELNETCONSOLE_ENABLED": False,  # no listening ports in a crawler
        "REMOTE_CONTROL_ENABLED": False,
        "FEED_EXPORT_ENCODING": "utf-8",
        "LOG_LEVEL": "WARNING",
        "ONPS_DB_URL": db_url,
        "ONPS_PROGRESS": progress,
        "ONPS_RENDER_JS": crawl.render_js,
        "ONPS_AUTHOR_PLACEHOLDERS": list(placeholders or []),
    }
    if crawl.render_js:
        try:
            import scrapy_playwright  # noqa: F401
        except ImportError as exc:
            raise RenderUnavailable(
                "crawl.render_js needs scrapy-playwright: pip install 'organic-nps[js]' (or scrapy-playwright), "
                "or set render_js = false"
            ) from exc
        handler = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
        settings["DOWNLOAD_HANDLERS"] = {"http": handler, "https": handler}
        settings["PLAYWRIGHT_BROWSER_TYPE"] = "chromium"
        # The system's chromium, never a browser Playwright would download; root in a container needs no sandbox.
        settings["PLAYWRIGHT_LAUNCH_OPTIONS"] = {
            "executable_path": chromium(crawl.chromium_path), "headless": True, "args": CHROMIUM_ARGS,
        }
    return settings


def chromium(configured: str) -> str:
    """The browser to render with: the configured path, else a chromium found on PATH."""
    if Path(configured).is_file():
        return configured
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    raise RenderUnavailable(
        f"crawl.render_js needs a chromium browser: {configured} does not exist and none is on PATH; "
        "install Debian's (apt-get install chromium) or set crawl.chromium_path"
    )
