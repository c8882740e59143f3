"""Classic HTML forum threads (phpBB-like) read with CSS selectors from the source's config.

Selectors (``SourceConfig.selectors``): ``post`` (one post's element, required), ``text`` (required), ``author``,
``date``, ``id`` and ``next`` (default ``a[rel=next]``). A selector may end in ``::attr(name)`` or ``::text``;
otherwise the element's text is used (its HTML for ``text``, which the pipeline cleans).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from parsel import Selector
from scrapy.http import Response

from crawlers.spiders.base import SourceSpider

DEFAULT_NEXT = 'a[rel~="next"]::attr(href), link[rel~="next"]::attr(href)'


def pick(node: Selector, css: str | None, html: bool = False) -> str | None:
    """The value a selector names inside NODE: pseudo-element results joined, else the element's text (or HTML)."""
    if not css:
        return None
    if "::" in css:
        values = [v.strip() for v in node.css(css).getall() if v.strip()]
        return " ".join(values) or None
    found = node.css(css)
    if not found:
        return None
    return found[0].get() if html else " ".join(found[0].xpath("string()").get("").split()) or None


class ForumSpider(SourceSpider):
    name = "forum"
    kind = "forum"
    mention_filter = True
    newest_first = False  # a thread's pages run oldest first: new replies are on the last page

    def parse(self, response: Response) -> Iterator[Any]:
        if not self.begin_page(response):
            return
        post_css, text_css = self.selectors.get("post"), self.selectors.get("text")
        if not post_css or not text_css:
            self.page_error(response.url, "forum source needs selectors.post and selectors.text in onps.toml")
            return
        items = []
        for number, post in enumerate(response.css(post_css), start=1):
            raw = pick(post, text_css, html=True)
            post_id = pick(post, self.selectors.get("id")) or post.attrib.get("id")
            fields = {
                "url": f"{response.url.split('#')[0]}#{post_id or number}",
                "external_id": post_id and f"{response.url.split('?')[0]}#{post_id}",
                "author_id": pick(post, self.selectors.get("author")),
                "author_name": pick(post, self.selectors.get("author")),
                "title": pick(post, self.selectors.get("title")),
                "raw_text": raw,
                "published_at": pick(post, self.selectors.get("date")),
            }
            if not raw:
                items.append(self.make_item(**fields))  # validate drops it, naming the URL
                continue
            items += self.on_topic(Selector(text=raw).xpath("string()").get(""), **fields)
        if not items and not response.css(post_css):
            self.page_error(response.url, f"no post matches selectors.post {post_css!r}")
        yield from items
        next_css = self.selectors.get("next") or DEFAULT_NEXT
        next_url = response.css(next_css if "::" in next_css else f"{next_css}::attr(href)").get()
        if next_url and self.keep_paging(response, items):
            request = self.request(response.urljoin(next_url))
            if request is not None:
                yield request
