"""One spider per source format; ``crawlers.kinds.KINDS`` names each kind's spider by import path and
``spider_class`` imports it on demand, so a crawl loads only the parsers it uses (extruct, feedparser, ...)."""

from __future__ import annotations

from scrapy.utils.misc import load_object

from crawlers.kinds import KINDS
from crawlers.spiders.base import SourceSpider


def spider_class(kind: str) -> type[SourceSpider]:
    """The spider for a source kind; KeyError names the kinds there are."""
    if kind not in KINDS:
        raise KeyError(f"no spider for kind {kind!r}; kinds: {', '.join(KINDS)}")
    return load_object(KINDS[kind].spider)
