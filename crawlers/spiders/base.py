"""What every source spider shares: the source's budget, loop protection, incremental stop, mention filter, and
errors recorded per URL instead of raised.

A spider here only parses and yields ``ReviewItem``s and requests; the pipelines clean and persist (STYLE.md).
Counters go to the crawler's stats under ``onps/``; the runner turns them into the run report.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure
from w3lib.html import remove_tags

from crawlers.items import ReviewItem, document_key
from nps.record import parse_time

log = logging.getLogger(__name__)

GONE = (404, 410)  # a page that does not exist (any more) is not owed: a listing shrank, or the URL was wrong

ERRORS_KEY = "onps/errors"  # a list of {"url", "reason", "owed", "callback"} in the crawler's stats
RECOVERED_KEY = "onps/recovered"  # the owed pages (store.owed) parsed in this crawl


class SourceSpider(scrapy.Spider):
    """Base of the format spiders; a subclass sets ``kind`` and implements ``parse``."""

    name = "source"
    kind: ClassVar[str] = ""
    mention_filter: ClassVar[bool] = False  # forums and feeds keep only posts that name an entity
    newest_first: ClassVar[bool] = True  # pages list the newest reviews first (incremental stop applies)

    def __init__(
        self,
        source: str,
        url: str,
        entity: str | None = None,
        max_pages: int = 50,
        max_age_days: int | None = 730,
        known_keys: Iterable[str] = (),
        newest: str | None = None,
        entities: dict[str, list[str]] | None = None,
        run_id: int | None = None,
        region: str | None = None,
        touchpoint: str | None = None,
        language: str | None = None,
        query: str | None = None,
        selectors: dict[str, str] | None = None,
        owed: Iterable[dict[str, str]] = (),
        api_base: str | None = None,
        credentials: dict[str, str] | None = None,
        quota: int | None = None,
        own_accounts: Iterable[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.source, self.start_url, self.entity = source, url, entity
        self.max_pages, self.max_age_days = max_pages, max_age_days
        self.known_keys = frozenset(known_keys)
        self.newest = parse_time(newest)
        self.entities = entities or {}
        self.run_id, self.region, self.touchpoint, self.language = run_id, region, touchpoint, language
        self.query, self.selectors = query, selectors or {}
        self.cutoff = datetime.now(UTC) - timedelta(days=max_age_days) if max_age_days else None
        self.state: dict[str, Any] = {}  # replaced by Scrapy's persisted state when JOBDIR is set
        self._matcher: Any = None
        self._first_words = {a.split()[0].lower() for names in self.entities.values() for a in names if a.split()}
        self._page_keys: set[str] = set()
        self._asked: set[str] = set()  # URLs requested by this process (a resumed crawl's state has older ones)
        self._resumed: set[str] = set()  # pages a resumed crawl asks for again
        # pages that failed in an earlier crawl (store.owed): asked again first; while any is owed, what is stored
        # is not a complete prefix of the listing, so the incremental stop is not trusted in this crawl
        self.owed = {page["url"]: page["callback"] for page in owed}
        # API sources (crawlers/spiders/api.py): another host for the service's calls, the names of the
        # credentials' variables (never their values), and the units this crawl may spend
        self.api_base, self.credential_names, self.quota = api_base, credentials or {}, quota
        self.own_accounts = tuple(own_accounts)  # the entity's own accounts at this source's service

    # ---- requests ---------------------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[Any]:
        """The first page; on a resumed crawl (JOBDIR), every page requested but not finished when it stopped.

        The state is the frontier: ``requested`` holds every URL asked for, ``done`` the pages whose items are all
        stored (``crawlers.checkpoint``), so the pages that were queued, downloading or still being parsed are asked
        again.
        """
        requested: dict[str, str] = self.state.setdefault("requested", {})
        done: set[str] = self.state.setdefault("done", set())
        if not requested:
            first = self.request(self.first_url(), self.first_callback())
            if first is not None:
                yield first
        else:
            self._resumed = set(requested) - done
            self.stat("resumed_in_flight", len(self._resumed))
            for url in self._resumed:
                yield self.make_request(url, getattr(self, requested[url]), dont_filter=True)
        for url, callback in self.owed.items():
            if url not in requested and (again := self.request(url, getattr(self, callback, self.parse))):
                yield again

    def first_url(self) -> str:
        return self.start_url

    def first_callback(self) -> Any:
        """The parser of the first page (an API source may start with a lookup, not a listing)."""
        return self.parse

    def request(self, url: str, callback: Any = None, **meta: Any) -> scrapy.Request | None:
        """A request within the source's page budget, or None (budget spent, or a URL already requested)."""
        requested: dict[str, str] = self.state.setdefault("requested", {})
        if url in requested:
            if url in self._asked and url not in self.owed:  # an owed page asked first is reached again by paging
                self.page_error(url, "pagination loop: this URL was already requested in this crawl")
            # else it was asked before a stop: done then, or asked again by ``start``
            return None
        if len(requested) >= self.max_pages:
            self.stat("budget_stops")
            log.info("%s: page budget of %d spent, not requesting %s", self.source, self.max_pages, url)
            return None
        callback = callback or self.parse
        requested[url] = callback.__name__
        self._asked.add(url)
        if self.crawler.settings.getbool("ONPS_RENDER_JS"):
            meta["playwright"] = True  # scrapy-playwright renders only the requests that ask for it
        return self.make_request(url, callback, meta=meta)

    def make_request(self, url: str, callback: Any, meta: dict[str, Any] | None = None,
                     dont_filter: bool = False) -> scrapy.Request:
        """The request that fetches the page URL names. URL is the page's whole identity (the frontier, the owed
        pages and the report keep only it); an API spider that must POST or send a credential header builds
        that request from the URL here."""
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta=meta or {}, dont_filter=dont_filter)

    def failure_reason(self, status: int, body: bytes) -> str:
        """What an HTTP error status means for this source (an API spider names the credential to fix)."""
        return f"HTTP {status}"

    def on_error(self, failure: Failure) -> Iterable[Any] | None:
        """A page that could not be fetched (after the retries): recorded with its reason and owed to the source,
        so the next crawl asks for it again (robots.txt refusals are not owed); the crawl goes on. A subclass may
        yield what the failure settles (items held back for the page)."""
        request = failure.request  # type: ignore[attr-defined]  # Scrapy sets .request on an errback's Failure
        owed = True
        if failure.check(HttpError):
            reason = self.failure_reason(failure.value.response.status, failure.value.response.body)
            owed = failure.value.response.status not in GONE
        elif failure.check(IgnoreRequest) and "robots" in str(failure.value).lower():
            reason, owed = "disallowed by robots.txt", False
        else:
            reason = f"{type(failure.value).__name__}: {failure.value}".strip()
        if not owed:  # an owed page stays undone in the JOBDIR state: a killed crawl that resumes asks it again
            self.state.setdefault("done", set()).add(request.url)
        self.page_error(request.url, reason, owed=owed)
        return None

    # ---- accounting ---------------------------------------------------------------------------------------
    def stat(self, key: str, count: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"onps/{key}", count)

    def page_error(self, url: str, reason: str, owed: bool = False) -> None:
        """Log and count a bad page by its URL; never raises, so one bad page never ends the crawl. OWED: the page
        may hold reviews and failed for a reason that can pass (a 5xx, a timeout, a truncated body), so the
        store keeps it owed and the next crawl asks again."""
        log.warning("%s: %s: %s", self.source, url, reason)
        assert self.crawler.stats is not None
        errors = self.crawler.stats.get_value(ERRORS_KEY) or []
        callback = self.state.get("requested", {}).get(url) or self.owed.get(url) or "parse"
        errors.append({"url": url, "reason": reason, "owed": owed, "callback": callback})
        self.crawler.stats.set_value(ERRORS_KEY, errors)

    def unfinished_pages(self) -> Iterable[str]:
        """Pages parsed already whose items are not all made yet (a subclass holding items back names them), so
        the checkpoint written after a stored batch (``crawlers.checkpoint``) leaves them undone."""
        return ()

    def begin_page(self, response: Response) -> bool:
        """Count a page reaching its parser and mark it done; False when it was parsed already in this crawl.

        A resumed crawl may fetch a page twice (once re-asked as in flight, once from Scrapy's saved queue);
        the second copy is skipped here rather than parsed again.
        """
        done: set[str] = self.state.setdefault("done", set())
        url = response.request.url if response.request else response.url
        if url in done:
            self.stat("pages_parsed_twice")
            return False
        self.stat("pages")
        done.update([url, *response.meta.get("redirect_urls", [])])
        if url in self.owed:
            assert self.crawler.stats is not None
            self.crawler.stats.set_value(RECOVERED_KEY, [*(self.crawler.stats.get_value(RECOVERED_KEY) or []), url])
        return True

    def json_page(self, response: Response) -> Any:
        """A JSON page's body for its parser: None when the page was parsed already (``begin_page``) or its JSON
        is malformed (``json_body`` records the error)."""
        return self.json_body(response) if self.begin_page(response) else None

    def json_body(self, response: Response) -> Any:
        """The page's JSON, or None with an error recorded (malformed, truncated or not JSON at all)."""
        try:
            return json.loads(response.body)
        except (ValueError, UnicodeDecodeError) as exc:
            self.page_error(response.url, f"malformed JSON: {exc}", owed=True)  # often a truncated body
            return None

    # ---- items ----------------------------------------------------------------------------------------------
    def make_item(self, **fields: Any) -> ReviewItem:
        item = ReviewItem(
            source=self.source,
            entity=self.entity,
            run_id=self.run_id,
            region=self.region,
            touchpoint=self.touchpoint,
            language=self.language,
            crawled_at=datetime.now(UTC).isoformat(),
        )
        for key, value in fields.items():
            if value is not None or key not in item:
                item[key] = value
        return item

    def mentioned(self, text: str) -> list[str] | None:
        """Entity names TEXT mentions; None when this spider keeps every post (no filter, or no entities).

        A text containing no alias's first word cannot match, so it skips spaCy: on a general forum most posts
        name no brand, and the matcher is the dearest step of a forum page.
        """
        if not self.mention_filter or not self.entities:
            return None
        lowered = text.lower()
        if not any(word in lowered for word in self._first_words):
            return []
        if self._matcher is None:
            from config.schema import EntityConfig
            from nlp.mentions import EntityMatcher

            self._matcher = EntityMatcher(
                [EntityConfig(name=name, aliases={"*": aliases}) for name, aliases in self.entities.items()]
            )
        return self._matcher.find(text)

    def on_topic(self, text: str, **fields: Any) -> list[ReviewItem]:
        """The items of a forum/feed post that names entities: none when it names none; one, with the post's own
        id, when it names one (or the spider keeps every post); one per entity when it names several, each on the
        sentences about that entity (``nlp.mentions.EntityMatcher.sentences_about``), so "left Acme for Globex"
        is not read as Globex's review of Globex. Those keep the post's id as ``extra.post_id`` and take
        ``ID@ENTITY`` as theirs."""
        found = self.mentioned(text)
        if found == []:
            self.stat("off_topic")
            return []
        extra = dict(fields.pop("extra", None) or {})
        if not found or len(found) == 1:
            if found:
                extra["mentions"] = found
            return [self.make_item(entity=found[0] if found else self.entity, extra=extra, **fields)]
        assert self._matcher is not None  # mentioned() built it to find several
        parts = self._matcher.sentences_about(remove_tags(text))  # a feed's post is HTML: split its words
        post_id = fields.pop("external_id")
        fields.pop("title", None)  # the post's title is among its sentences where it names the entity
        fields.pop("raw_text", None)
        return [self.make_item(entity=name, external_id=f"{post_id}@{name}", raw_text=sentences, title=None,
                               extra={**extra, "mentions": found, "post_id": post_id}, **fields)
                for name, sentences in parts.items() if sentences]

    def keep_paging(self, response: Response, items: list[ReviewItem]) -> bool:
        """Whether the page's next page is worth fetching.

        Stop on an empty page; on a page older than the age budget; on a page whose storable reviews are all
        stored already (incremental: the site lists newest first, so the rest is stored too; a spider whose
        pages run oldest first, like a forum thread, sets ``newest_first = False``; a page a resumed crawl asks
        again was stored by the stopped crawl, which had not reached its next page yet; not while the source owes
        pages, whose reviews may sit anywhere below the stored ones); and on a page repeating
        reviews seen earlier in this crawl (a pagination loop that changes the URL but not the content: an error).
        """
        if not items:
            return False
        times = [parse_time(i.get("published_at")) for i in items]
        if self.cutoff and all(t is not None and t < self.cutoff for t in times):
            self.stat("age_stops")
            return False
        storable = [
            document_key(i.get("external_id"), i["url"], i["raw_text"])
            for i, t in zip(items, times, strict=True)
            if isinstance(i.get("raw_text"), str) and i["raw_text"].strip()
            and not (self.cutoff and t is not None and t < self.cutoff)
        ]
        resumed = (response.request.url if response.request else response.url) in self._resumed
        if self.owed and storable and all(key in self.known_keys for key in storable):
            self.stat("incremental_stops_distrusted")  # pages are owed: the stored reviews may have a gap
        elif self.newest_first and storable and not resumed and all(key in self.known_keys for key in storable):
            self.stat("incremental_stops")
            log.info("%s: %s holds only reviews already stored; stop paging", self.source, response.url)
            return False
        if storable and all(key in self._page_keys for key in storable):
            self.page_error(response.url, "pagination loop: the page repeats reviews seen earlier in this crawl")
            return False
        self._page_keys.update(storable)
        return True
