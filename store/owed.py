"""Pages a source still owes: a page that failed after Scrapy's retries is fetched again on the next crawls
until it succeeds or the give-up rule ends it (an age or a number of failed crawls), so no review is lost behind
one bad night of a site."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from store.clock import utcnow
from store.schema import OwedPage


@dataclass(frozen=True)
class GiveUp:
    """When an owed page stops being asked for: after MAX_RUNS failed crawls, or MAX_DAYS after its first failure."""

    max_runs: int
    max_days: int

    def applies(self, attempts: int, first_failed_at: datetime, now: datetime) -> bool:
        return attempts >= self.max_runs or now - first_failed_at >= timedelta(days=self.max_days)


@dataclass(frozen=True)
class Settled:
    """What one crawl did to a source's debt: pages recovered, still owed, and given up in this run."""

    recovered: int
    owed: int
    given_up: int


def owed_pages(session: Session, source_id: int) -> list[dict[str, str]]:
    """The pages to ask again, oldest failure first, as ``{"url", "callback"}`` for the spider."""
    rows = session.execute(
        select(OwedPage.url, OwedPage.callback)
        .where(OwedPage.source_id == source_id, OwedPage.given_up_at.is_(None))
        .order_by(OwedPage.first_failed_at, OwedPage.id)
    ).all()
    return [{"url": url, "callback": callback} for url, callback in rows]


def settle(session: Session, source_id: int, failed: Iterable[tuple[str, str, str]], recovered: Iterable[str],
           rule: GiveUp, now: datetime | None = None) -> Settled:
    """Record one crawl's outcome for a source: FAILED pages ``(url, callback, reason)`` are owed (a new row, or
    one more attempt), RECOVERED urls are paid (their rows deleted), and pages past the give-up rule are dated."""
    now = now or utcnow()
    paid = set(recovered)
    was_owed = session.execute(  # type: ignore[attr-defined]  # a DML statement's Result is a CursorResult
        delete(OwedPage).where(OwedPage.source_id == source_id, OwedPage.url.in_(paid))).rowcount if paid else 0
    given_up = 0
    for url, callback, reason in {url: (url, cb, why) for url, cb, why in failed if url not in paid}.values():
        row = session.scalar(select(OwedPage).where(OwedPage.source_id == source_id, OwedPage.url == url))
        if row is None:
            row = OwedPage(source_id=source_id, url=url[:2000], callback=callback, attempts=1, first_failed_at=now,
                           last_failed_at=now, last_error=reason)
            session.add(row)
        elif row.given_up_at is None:
            row.attempts, row.last_failed_at, row.last_error = row.attempts + 1, now, reason
        if row.given_up_at is None and rule.applies(row.attempts, row.first_failed_at, now):
            row.given_up_at = now
            given_up += 1
    session.flush()
    owed = len(owed_pages(session, source_id))
    return Settled(recovered=was_owed, owed=owed, given_up=given_up)
