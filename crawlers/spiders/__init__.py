"""One spider per source format. ``SPIDERS`` names each config ``kind``'s spider by import path, and
``spider_class`` imports it on demand, so a crawl loads only the parsers it uses (extruct, feedparser, ...)."""

from __future__ import annotations

from scrapy.utils.misc import load_object

from crawlers.spiders.base import SourceSpider

SPIDERS: dict[str, str] = {
    "schemaorg": "crawlers.spiders.schemaorg.SchemaOrgSpider",
    "trustpilot": "crawlers.spiders.trustpilot.TrustpilotSpider",
    "appstore": "crawlers.spiders.appstore.AppStoreSpider",
    "discourse": "crawlers.spiders.discourse.DiscourseSpider",
    "reddit": "crawlers.spiders.reddit.RedditSpider",
    "feed": "crawlers.spiders.feed.FeedSpider",
    "forum": "crawlers.spiders.forum.ForumSpider",
    "glassdoor": "crawlers.spiders.glassdoor.GlassdoorSpider",
    "googleplay": "crawlers.spiders.googleplay.GooglePlaySpider",
    "mastodon": "crawlers.spiders.mastodon.MastodonSpider",
    "bluesky": "crawlers.spiders.bluesky.BlueskySpider",
    "youtube": "crawlers.spiders.youtube.YouTubeSpider",
}


def spider_class(kind: str) -> type[SourceSpider]:
    """The spider for a source kind; KeyError names the kinds there are."""
    if kind not in SPIDERS:
        raise KeyError(f"no spider for kind {kind!r}; kinds: {', '.join(SPIDERS)}")
    return load_object(SPIDERS[kind])
