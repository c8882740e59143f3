"""Retry with backoff: Scrapy's RetryMiddleware retries 429/5xx at once; a site that says "slow down" should get
a pause first, the one it asks for in ``Retry-After`` or an exponential one."""

from __future__ import annotations

import asyncio

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request, Response
from scrapy.settings import BaseSettings

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

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        if response.status in self.retry_http_codes and not request.meta.get("dont_retry", False):
            header = response.headers.get("Retry-After")
            pause = backoff_seconds(header.decode("latin-1") if header else None,
                                    request.meta.get("retry_times", 0), self.base)
            await asyncio.sleep(pause)
        return super().process_response(request, response)
