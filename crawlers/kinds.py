"""The source kinds, in one table: adding a spider is one entry here.

Each kind names its spider by import path (``crawlers.spiders.spider_class`` imports it on demand, so a crawl
loads only the parsers it uses: extruct, feedparser, ...), its category (stored as ``sources.category``) and, for a
service where a company has accounts of its own, what names one (``[[entities]] own_accounts``). The
config's ``[[sources]] kind`` accepts exactly these keys. Only the standard library is imported here, so the config
and the CLI's help read the table without loading Scrapy.
"""

from __future__ import annotations

from typing import NamedTuple


class Kind(NamedTuple):
    spider: str
    category: str
    own_account: str | None = None  # what identifies the entity's own account there (nps.authors.is_own_account)


KINDS: dict[str, Kind] = {
    "schemaorg": Kind("crawlers.spiders.schemaorg.SchemaOrgSpider", "aggregator"),
    "trustpilot": Kind("crawlers.spiders.trustpilot.TrustpilotSpider", "aggregator"),
    "appstore": Kind("crawlers.spiders.appstore.AppStoreSpider", "app_store"),
    "discourse": Kind("crawlers.spiders.discourse.DiscourseSpider", "forum"),
    "reddit": Kind("crawlers.spiders.reddit.RedditSpider", "forum"),
    "feed": Kind("crawlers.spiders.feed.FeedSpider", "feed"),
    "forum": Kind("crawlers.spiders.forum.ForumSpider", "forum"),
    "glassdoor": Kind("crawlers.spiders.glassdoor.GlassdoorSpider", "employer"),
    "googleplay": Kind("crawlers.spiders.googleplay.GooglePlaySpider", "app_store", "developer name"),
    "mastodon": Kind("crawlers.spiders.mastodon.MastodonSpider", "social", "user@instance"),
    "bluesky": Kind("crawlers.spiders.bluesky.BlueskySpider", "social", "DID or handle"),
    "youtube": Kind("crawlers.spiders.youtube.YouTubeSpider", "video", "channel id (UC...)"),
}
