"""One spider per source format; ``SPIDERS`` maps a config ``kind`` to its spider class."""

from __future__ import annotations

from crawlers.spiders.appstore import AppStoreSpider
from crawlers.spiders.base import SourceSpider
from crawlers.spiders.discourse import DiscourseSpider
from crawlers.spiders.feed import FeedSpider
from crawlers.spiders.forum import ForumSpider
from crawlers.spiders.reddit import RedditSpider
from crawlers.spiders.schemaorg import SchemaOrgSpider
from crawlers.spiders.trustpilot import TrustpilotSpider

SPIDERS: dict[str, type[SourceSpider]] = {
    spider.kind: spider
    for spider in (
        SchemaOrgSpider,
        TrustpilotSpider,
        AppStoreSpider,
        DiscourseSpider,
        RedditSpider,
        FeedSpider,
        ForumSpider,
    )
}
