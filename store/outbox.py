"""The webhook outbox: which alert each configured webhook has still to take.

A webhook is known by the sha256 of its URL (``target``): URLs carry tokens, and the store never holds one. The
alert stage puts each new alert in for every webhook, tries what is pending once per run, and records the result
here; a pair still failing after ``max_tries`` runs is given up (and stays, with its last error, for the record).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.clock import utcnow
from store.schema import WebhookOutbox
from store.upsert import upsert


def target(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def enqueue(session: Session, alert_ids: Iterable[int], urls: Sequence[str]) -> None:
    """Each alert owed to each webhook; an alert already queued for a webhook is not queued twice."""
    now = utcnow()
    rows = [{"alert_id": a, "target": target(u), "tries": 0, "created_at": now} for a in alert_ids for u in urls]
    upsert(session, WebhookOutbox.__table__, rows, key=("alert_id", "target"))


def pending(session: Session, urls: Sequence[str]) -> list[tuple[int, str]]:
    """(alert id, URL) still owed to the configured webhooks, oldest alert first. Pairs of a webhook no longer in
    the config stay as they are: nothing to send them to."""
    by_target = {target(u): u for u in urls}
    if not by_target:
        return []
    rows = session.execute(
        select(WebhookOutbox.alert_id, WebhookOutbox.target)
        .where(WebhookOutbox.target.in_(list(by_target)), WebhookOutbox.delivered_at.is_(None),
               WebhookOutbox.given_up_at.is_(None))
        .order_by(WebhookOutbox.alert_id, WebhookOutbox.id)
    ).all()
    return [(alert_id, by_target[key]) for alert_id, key in rows]


def record(session: Session, alert_id: int, url: str, error: str | None, max_tries: int) -> str:
    """One run's try of ALERT_ID at URL: ``delivered``, ``queued`` (failed, tried again next run) or
    ``given_up`` (failed the MAX_TRIES-th run)."""
    row = session.execute(select(WebhookOutbox).where(WebhookOutbox.alert_id == alert_id,
                                                      WebhookOutbox.target == target(url))).scalar_one()
    row.tries += 1
    if error is None:
        row.delivered_at, row.last_error = utcnow(), None
        return "delivered"
    row.last_error = error[:1000]
    if row.tries >= max_tries:
        row.given_up_at = utcnow()
        return "given_up"
    return "queued"
