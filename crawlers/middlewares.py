"""Downloader middlewares: retry with backoff, and pages whose declared charset is wrong.

Scrapy's RetryMiddleware retries 429/5xx at once; a site that says "slow down" should get a pause first, the one
it asks for in ``Retry-After`` or an exponential one.
"""

from __future__ import annotations

import asyncio
import codecs

import charset_normalizer
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request, Response, TextResponse
from scrapy.settings import BaseSettings
from scrapy.statscollectors import StatsCollector

MAX_PAUSE = 60.0


def backoff_seconds(retry_after: str | None, retries_so_far: int, base: float) -> float:
    """The site's Retry-After (seconds) if it gives one, else base * 2^retries, capped at a minute."""
    if retry_after and retry_after.strip().isdigit():
        return min(float(retry_after), MAX_PAUSE)
    return min(base * 2**retries_so_far, MAX_PAUSE)


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("ONPS_RETRY_BACKOFF", 1.0)

    # a coroutine: Scrapy awaits a downloader middleware's async process_response (the pause must not block)
    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        if response.status in self.retry_http_codes and not request.meta.get("dont_retry", False):
            header = response.headers.get("Retry-After")
            pause = backoff_seconds(header.decode("latin-1") if header else None,
                                    request.meta.get("retry_times", 0), self.base)
            await asyncio.sleep(pause)
        return super().process_response(request, response)


# The single-byte code pages of the languages the product reads: cp1252 (a superset of latin-1's letters) for
# de/en/fr/es/da, cp1251 and koi8-r for ru. Left to guess among every code page, charset-normalizer reads French
# latin-1 as iso8859-10 or cp1250 ("systčme"); among these it picks the right one.
LEGACY_CHARSETS = ("cp1252", "cp1251", "koi8_r")


class DeclaredCharsetMiddleware:
    """A page that says UTF-8 and is not (latin-1 or cp1252 behind a wrong header or meta tag) decodes with U+FFFD
    for every accented letter, and those letters are lost before any text repair can see them. Such a body is
    decoded again in the legacy charset charset-normalizer finds in the bytes, and counted (``onps/recoded``: the crawl
    report's ``recoded``). It runs after decompression (priority below HttpCompressionMiddleware's 590)."""

    def __init__(self, stats: StatsCollector | None) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DeclaredCharsetMiddleware:
        return cls(crawler.stats)

    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, TextResponse) or codecs.lookup(response.encoding).name != "utf-8":
            return response
        try:
            response.body.decode("utf-8")
            return response
        except UnicodeDecodeError:
            pass
        found = charset_normalizer.from_bytes(response.body, cp_isolation=list(LEGACY_CHARSETS)).best()
        if found is None or codecs.lookup(found.encoding).name == "utf-8":
            return response
        if self.stats is not None:
            self.stats.inc_value("onps/recoded")
        return response.replace(encoding=found.encoding)
