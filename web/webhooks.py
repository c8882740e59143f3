"""Push alerts to webhooks: plain http(s) URLs get the alert as a JSON POST (httpx), any other URL is an
apprise URL (Slack, Teams, e-mail, ...). Each is retried with exponential backoff, and one dead endpoint never
stops the others: the caller gets one ``Delivery`` per URL and decides what to log.

The nightly alert stage publishes through ``publish`` and only counts what came back: sending is I/O at the
edge, beside the alert's message shape the feeds share (``web.feeds``), never in the pure rules (nps.alerts) or
the store. An alert a webhook does not take waits in the outbox (``store.outbox``) for the next run: within a run
each pair gets ``RUN_ATTEMPTS`` tries, and an endpoint that fails is not tried again for the run's other alerts.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import apprise
import httpx
from sqlalchemy.orm import Session, object_session
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from store import outbox
from store.queries import alerts_by_id
from store.schema import Alert, Entity
from web.feeds import alert_summary
from web.reads import alert_dict

log = logging.getLogger(__name__)

ATTEMPTS = 4
RUN_ATTEMPTS = 2  # per alert and webhook within one nightly; the outbox carries a failure to the next run
TIMEOUT_S = 10.0


class DeliveryFailed(Exception):
    """One attempt failed in a way worth retrying (network error, 429 or 5xx, apprise said no)."""


@dataclass(frozen=True)
class Delivery:
    url: str
    ok: bool
    attempts: int
    error: str | None = None
    retryable: bool = True  # False: the endpoint refused this message (a 4xx, a URL apprise does not know)


def masked(url: str) -> str:
    """A webhook URL as it may be logged or stored: scheme and host, never the path or query that hold its
    token (``https://hooks.slack.com/…``)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}/…" if parts.scheme else "…"


def alert_message(alert: Alert | dict[str, Any]) -> dict[str, Any]:
    """The JSON body sent to plain webhooks: the alert as the API shows it, plus a readable ``text``."""
    if isinstance(alert, Alert):
        session = object_session(alert)  # a row still in its session can name its entity
        entity = session.get(Entity, alert.entity_id) if session is not None and alert.entity_id else None
        record: dict[str, Any] = {**alert_dict(alert, entity.name if entity else None), "entity_id": alert.entity_id}
    else:
        record = dict(alert)
    record.setdefault("entity", None)
    for key in ("window_start", "window_end", "acknowledged_at", "acknowledged_by", "created_at"):
        record.setdefault(key, None)
    record.setdefault("payload", {})
    record.setdefault("title", f"{record.get('kind')} ({record.get('severity')})")
    text = alert_summary(record) if record["created_at"] is not None else record["title"]
    return {**json.loads(json.dumps(record, default=str)), "text": text}


def _post_json(url: str, body: dict[str, Any]) -> None:
    try:
        response = httpx.post(url, json=body, timeout=TIMEOUT_S)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise DeliveryFailed(f"HTTP {response.status_code}")
    response.raise_for_status()  # other 4xx: the endpoint refuses this message; retrying cannot help


def _notify_apprise(url: str, body: dict[str, Any]) -> None:
    notifier = apprise.Apprise()
    if not notifier.add(url):
        raise ValueError(f"not a URL apprise understands: {url}")
    if not notifier.notify(title=body["title"], body=body["text"]):
        raise DeliveryFailed("apprise could not deliver")


def deliver(
    alert: Alert | dict[str, Any], urls: list[str], *, attempts: int = ATTEMPTS, backoff_s: float = 1.0
) -> list[Delivery]:
    """Send one alert to every URL; never raises for a bad endpoint (see each ``Delivery``)."""
    body = alert_message(alert)
    results = []
    for url in urls:
        send = _post_json if url.startswith(("http://", "https://")) else _notify_apprise
        retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=backoff_s, max=30 * backoff_s),
            retry=retry_if_exception_type(DeliveryFailed),
        )
        try:
            retrying(send, url, body)
            results.append(Delivery(url, True, retrying.statistics["attempt_number"]))
        except RetryError as exc:
            error = str(exc.last_attempt.exception()).replace(url, masked(url))
            results.append(Delivery(url, False, retrying.statistics["attempt_number"], error))
        except (httpx.HTTPStatusError, ValueError) as exc:
            results.append(Delivery(url, False, retrying.statistics.get("attempt_number", 1),
                                    str(exc).replace(url, masked(url)), retryable=False))
        if not results[-1].ok:
            log.warning("webhook %s failed after %d attempt(s): %s", masked(url), results[-1].attempts,
                        results[-1].error)
    return results


def publish(session: Session, new_ids: Sequence[int], urls: list[str], max_runs: int,
            attempts: int = RUN_ATTEMPTS, backoff_s: float = 1.0) -> Counter[str]:
    """Queue the alerts NEW_IDS (the ones this run raised) for every webhook, then try everything the outbox
    holds for the configured webhooks, oldest first. Returns how many pairs were ``delivered``, ``queued`` (for
    the next run) or ``given_up`` (failed in MAX_RUNS runs that tried it, or refused outright). A webhook that is
    down costs a run one pair's tries: the rest wait their turn, so they are delivered when it is back. The rows
    are read in SESSION, so each message can name its entity."""
    outbox.enqueue(session, new_ids, urls)
    todo = outbox.pending(session, urls)
    alerts = {a.id: a for a in alerts_by_id(session, sorted({alert_id for alert_id, _ in todo}))}
    down: set[str] = set()
    counts: Counter[str] = Counter()
    for alert_id, url in todo:
        if url in down:  # failed already this run: its other alerts wait without spending a try
            counts["queued"] += 1
            continue
        [result] = deliver(alerts[alert_id], [url], attempts=attempts, backoff_s=backoff_s)
        if not result.ok and result.retryable:
            down.add(url)
        counts[outbox.record(session, alert_id, url, result.error, max_runs if result.retryable else 1)] += 1
    return counts
