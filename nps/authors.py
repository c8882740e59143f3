"""Who wrote a document: an author key that is a placeholder, or a name no single person could account for, is
no author.

Sites show anonymous reviewers under one shared name: Google Play's "A Google user", shops' "Anonymous",
"Kunde", "Verified Buyer", "Покупатель". Taken as an author id, such a name turns thousands of people into one
voice (one voice per author is an organic rule) and one "prolific reviewer" (the bot filter's author
behaviour). Two rules decide, in this order:

1. the name is on the configured placeholder list (``[authors] placeholders``, per language; matched on the
   case-folded name with punctuation and spacing ignored, in every language at once);
2. the name is implausible as one person: on one entity it signs ``implausible_reviews`` or more reviews within
   ``implausible_days`` days, and none of them is a copy of another (``nps.organic.is_copy``): a real account that
   busy on one brand would be a bot posting copies, while a shared name collects distinct texts of many people.

Both rules read only the set of records (no order), so the answer does not depend on how the input is sorted or
batched. An anonymous record keeps its display name in ``author_name`` (for people to read) and gets ``author``
None, which every later rule reads as "each document its own voice".
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from nps.record import content_hash, copy_words, parse_time

_NOT_WORD = re.compile(r"[\W_]+")


def name_key(name: Any) -> str:
    """A name reduced to its letters and digits, case-folded ("A Google-user!" -> "agoogleuser")."""
    return _NOT_WORD.sub("", str(name)).casefold()


@dataclass(frozen=True)
class AuthorRules:
    """What decides that an author key is no author (module doc); ``config.schema.AuthorsConfig`` builds one."""

    placeholders: frozenset[str]  # name_key of every configured placeholder
    implausible_reviews: int = 10
    implausible_days: int = 14
    copy_min_words: int = 10

    @classmethod
    def from_names(cls, names: Collection[str], **limits: int) -> AuthorRules:
        return cls(frozenset(name_key(n) for n in names if name_key(n)), **limits)

    def is_placeholder(self, name: Any) -> bool:
        return name is not None and name_key(name) in self.placeholders


def implausible_authors(records: Sequence[Mapping[str, Any]], rules: AuthorRules) -> set[tuple[Any, str]]:
    """(entity, author) pairs whose reviews of that entity no single person plausibly wrote (rule 2)."""
    dated: dict[tuple[Any, str], list[datetime]] = defaultdict(list)
    long_texts: dict[tuple[Any, str], list[str]] = defaultdict(list)
    for record in records:
        author, when = record.get("author"), parse_time(record.get("published_at"))
        if author in (None, "") or when is None:
            continue
        key = (record.get("entity"), str(author))
        dated[key].append(when)
        if copy_words(record.get("text")) >= rules.copy_min_words:
            long_texts[key].append(content_hash(record.get("text")))
    span = timedelta(days=rules.implausible_days)
    found = set()
    for key, times in dated.items():
        if len(times) < rules.implausible_reviews:
            continue
        times.sort()
        busiest = max(bisect_right(times, t + span) - bisect_left(times, t) for t in times)
        hashes = long_texts.get(key, [])
        if busiest >= rules.implausible_reviews and len(set(hashes)) == len(hashes):
            found.add(key)
    return found


def resolve_authors(records: Sequence[Mapping[str, Any]], rules: AuthorRules) -> list[dict[str, Any]]:
    """RECORDS with ``author`` None where the author key is no author (module doc), its name kept in
    ``author_name``; the others unchanged (copies of the input dicts)."""
    out = []
    implausible = implausible_authors(
        [r for r in records if not rules.is_placeholder(r.get("author"))], rules)
    for record in records:
        author = record.get("author")
        anonymous = rules.is_placeholder(author) or (
            author not in (None, "") and (record.get("entity"), str(author)) in implausible)
        if anonymous:
            out.append({**record, "author": None, "author_name": record.get("author_name") or author,
                        "author_anonymous": True})
        else:
            out.append(dict(record))
    return out


def account_key(account: Any) -> str:
    """An account as configured or as a source names it, compared case-insensitively and without the ``@`` a
    handle is often written with ("@Acme@Mastodon.social" -> "acme@mastodon.social")."""
    return str(account).strip().lstrip("@").casefold()


def is_own_account(identities: Iterable[Any], accounts: Iterable[str]) -> bool:
    """Whether an author, by any of the IDENTITIES the source gives for it, is one of the entity's own ACCOUNTS
    (``[[entities]] own_accounts`` of the source's kind): a Mastodon ``user@instance``, a Bluesky DID or handle
    (the handle can change, the DID cannot: either may be configured), a YouTube channel id, a Google Play
    developer name. The company's own posts are never customer voice; its replies are the loop closed
    (``company_reply`` on what they answer)."""
    own = {account_key(a) for a in accounts if str(a).strip()}
    return bool(own) and any(account_key(i) in own for i in identities if i)
