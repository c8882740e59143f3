"""Rules about one document record (docs/CONTRACTS.md, "The document record") that every stage shares: reading
its time, its content hash, and when two texts are copies rather than two people saying the same thing.

Each lives here once. The crawl pipeline, the bot filter, the campaign detector, the organic rules, the CLI and
the web layer call these; a second time parser or hash elsewhere is how `onps estimate` and the nightly once found
different syndicated copies.
"""

# no `from __future__ import annotations`: DocumentRecord's Required[...] keys must be seen at run time too
import hashlib
import math
import re
import time
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Required, TypedDict
from urllib.parse import urlsplit

from dateutil import parser as dateparser

# Times outside these years are not review times but parse accidents (a day-first date read as 9999, epoch
# milliseconds read as seconds): they are treated as unreadable rather than stored.
EARLIEST_YEAR, LATEST_YEAR = 1990, 2100
_WORD = re.compile(r"\w+")


class DocumentRecord(TypedDict, total=False):
    """The document record of docs/CONTRACTS.md as a type: what one `onps score` line, a crawled item
    (`crawlers.items.as_record`) and a stored document (`store.streams.as_record`) are. Its optional keys change
    what the rules decide (``invited``, ``audience``, ``author`` None), so a misspelt key is a type error rather
    than a silently organic review.

    No pydantic model duplicates it: `flows.analyse.check_record` is the one validation of an input line (it
    reports every problem as a numbered bad line rather than raising), and this type is what passes the check.
    Functions that only read a record take ``Mapping[str, Any]``, which a ``DocumentRecord`` is, because the
    scored rows (a record plus the scorer's and the bot filter's fields) go through them too."""

    id: Required[str | int]  # the store's id as a string; a CLI line's id as the line says (string or number)
    text: Required[str]
    title: str | None
    rating: float | None
    rating_scale: float | None
    lang: str | None
    author: str | None
    author_name: str | None
    author_anonymous: bool  # set by nps.authors.resolve_authors where the author key was no author
    author_facts: dict[str, Any] | None
    published_at: str | datetime | None
    source: str | None
    entity: str | None
    region: str | None
    touchpoint: str | None
    url: str | None
    invited: bool | None
    channel: str | None
    company_reply: dict[str, str | None] | None  # company_reply()
    app_version: str | None
    source_family: str | None  # source_family(); what a stored document's source category says
    audience: str | None  # AUDIENCES; absent = customer
    sub_ratings: dict[str, Any] | None
    recommends: bool | None
    # what a stored document adds (store.streams.as_record)
    rating_0_10: float | None
    content_hash: str | None
    extra: dict[str, Any]


MAX_TEXT_CHARS = 100_000  # no review is longer; a page dump would stall every stage (spaCy refuses 10^6)


def parse_iso(value: Any) -> datetime | None:
    """An ISO 8601 text (or a datetime) as aware UTC, None otherwise: the contract's own form, for inputs
    where a day-first or month-first date would be a guess (`onps score` lines, survey files)."""
    if isinstance(value, datetime):
        return parse_time(value)
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        return None
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return None
    return parse_time(moment)


def parse_time(value: Any) -> datetime | None:
    """The instant a source gives, as aware UTC: ISO 8601, a datetime or date, epoch seconds, a UTC
    ``struct_time`` (feedparser), RFC 2822 or free text (dateutil). A time without a zone is read as UTC.

    None when absent or unreadable, never a guess; also None outside EARLIEST_YEAR..LATEST_YEAR.
    """
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime(value.year, value.month, value.day)
        elif isinstance(value, int | float):
            moment = datetime.fromtimestamp(value, UTC)
        elif isinstance(value, time.struct_time):
            moment = datetime(*value[:6], tzinfo=UTC)
        else:
            text = str(value).strip()
            if len(text) > 100:
                return None
            iso = parse_iso(text)
            if iso is not None:
                return iso
            # RFC 2822 and free text; not email.utils, which reads "6:04 pm" as 06:04
            moment = dateparser.parse(text)
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError, OSError, TypeError, dateparser.ParserError):
        return None
    return moment if EARLIEST_YEAR <= moment.year <= LATEST_YEAR else None


def iso_time(value: Any) -> str | None:
    """``parse_time`` as ISO 8601 text (what records and items carry), or None."""
    moment = parse_time(value)
    return None if moment is None else moment.isoformat()


def folded_words(text: Any) -> list[str]:
    """The words of a text, case-folded, punctuation and layout dropped: what two copies have in common."""
    return _WORD.findall(str(text or "").casefold())


def content_hash(text: Any) -> str:
    """sha256 of the text's folded words: equal for copies that differ only in case, punctuation or layout.

    The text alone, not the title: a syndicated copy keeps the review and often loses or changes its title.
    """
    return hashlib.sha256(" ".join(folded_words(text)).encode("utf-8")).hexdigest()


def copy_words(text: Any) -> int:
    """How many words a text has for the copy rule (``nps.organic``): short texts repeat by chance."""
    return len(folded_words(text))


def web_url(value: Any) -> str | None:
    """VALUE when it is an absolute http(s) URL with a host, else None: the one test for a link the store keeps
    and the dashboard renders (a crawled ``javascript:`` or ``data:`` URL would run in the analyst's browser)."""
    if not isinstance(value, str) or len(value) > 2000 or any(c in value for c in "\x00\r\n\t"):
        return None
    parts = urlsplit(value.strip())
    return value.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


# Author facts that are counts: a source that sends one as text ("12", "1,234") is read as a number, anything
# else ("many", a list) is no fact at all. Booleans are never counts.
COUNT_FACTS: tuple[str, ...] = ("review_count", "account_age_days", "followers", "statuses_count")


def count_like(value: Any) -> bool:
    """None, or a finite non-negative number (a JSON true/false is not one): what a count fact may hold."""
    return value is None or (not isinstance(value, bool) and isinstance(value, (int, float))
                             and math.isfinite(value) and value >= 0)


def typed_facts(facts: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A crawled ``author_facts`` as (facts with every count a number, the values that could not be one).

    The one rule behind both doors: the crawl pipeline keeps the typed facts and states what it dropped;
    `onps score` refuses a line whose count fact is not `count_like` (flows.analyse.check_record)."""
    if not isinstance(facts, dict):
        return {}, ({"author_facts": facts} if facts not in (None, {}) else {})
    typed, dropped = dict(facts), {}
    for key in COUNT_FACTS:
        value = facts.get(key)
        if count_like(value):
            continue
        number = _count_text(value)
        if number is None:
            dropped[key] = value
            del typed[key]
        else:
            typed[key] = number
    return typed, dropped


def _count_text(value: Any) -> int | float | None:
    if not isinstance(value, str):
        return None
    digits = value.strip().replace(",", "").replace("\u202f", "").replace(" ", "")
    try:
        number = float(digits)
    except ValueError:
        return None
    if not math.isfinite(number) or number < 0:
        return None
    return int(number) if number.is_integer() else number


AUDIENCES: tuple[str, str] = ("customer", "employee")  # who speaks: an NPS and an eNPS never share a group
# record fields an employer review adds (docs/CONTRACTS.md); the store keeps them in documents.extra
EMPLOYEE_FIELDS: tuple[str, ...] = ("audience", "sub_ratings", "recommends")


def audience(record: Mapping[str, Any]) -> str:
    """Who a record speaks for: ``employee`` (an employer review, a pulse survey's comment: its group is an
    eNPS) or ``customer``, which a record without ``audience`` is (every source before employer reviews)."""
    value = record.get("audience")
    return "customer" if value in (None, "") else str(value)


def company_reply(text: Any, time: Any) -> dict[str, str | None] | None:
    """The company's own public reply to a review or post, as every record carries it: ``{"text", "time"}``
    (time ISO 8601 UTC via ``parse_time``, None when the source gives none); None for no reply or an empty one.

    A reply is the loop closed, never customer voice: it rides on the document it answers (docs/DESIGN.md)."""
    if not isinstance(text, str) or not text.strip():
        return None
    return {"text": text.strip(), "time": iso_time(time)}


# The families the overview estimates apart (docs/CONTRACTS.md, "source family"), each with the source categories
# (crawlers.kinds.KINDS, stored as sources.category) that belong to it, in the order the dashboard lists them.
SOURCE_FAMILIES: dict[str, tuple[str, ...]] = {
    "reviews": ("aggregator", "employer"),
    "app_stores": ("app_store",),
    "social": ("social", "forum", "feed"),
    "video": ("video",),
}
_FAMILY_OF = {category: family for family, categories in SOURCE_FAMILIES.items() for category in categories}


def source_family(category: str | None) -> str | None:
    """The family of a source category: a coarser grouping than the category, because the question it answers
    is what kind of voice an NPS is read from, not which site. A review site's stars (and an employer review's,
    whose audience already keeps its eNPS apart) are ``reviews``; app-store stars are ``app_stores`` (another
    audience: users of one app, on one version); a post on a social network, a forum thread and a feed entry
    carry no rating and are ``social`` alike (public conversation, read from the text alone); a video comment is
    ``video``. So a hashtag's mood is never read as a review score, and a finer split is the ``source`` segment.
    None for a category no family knows (a source stored before categories were kept)."""
    return _FAMILY_OF.get(category) if category else None
