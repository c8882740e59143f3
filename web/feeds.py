"""Alert feeds: Atom (RFC 4287, through feedgen) and JSON Feed 1.1, so any feed reader can follow alerts.

Feed readers cannot send headers, so these two routes also take the key as ``?key=``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from feedgen.feed import FeedGenerator
from sqlalchemy.orm import Session

from web import reads
from web.api import AUTH_RESPONSES
from web.auth import Caller, db_session, require

FEED_TITLE = "organic-nps alerts"
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)  # Atom requires <updated> even with no entries
router = APIRouter(prefix="/feeds", responses=AUTH_RESPONSES)
FeedReader = Annotated[Caller, Depends(require("feed", query=True, cookie=True))]  # a feed key, or any higher


def alert_summary(alert: dict[str, Any]) -> str:
    """One paragraph a person can act on: what, for whom, when, and the facts behind it."""
    parts = [f"{alert['severity'].upper()} {alert['kind']}"]
    if alert["entity"]:
        parts.append(f"for {alert['entity']}")
    if alert["window_start"] and alert["window_end"]:
        parts.append(f"in {alert['window_start']:%Y-%m-%d} .. {alert['window_end']:%Y-%m-%d}")
    facts = ", ".join(f"{k}: {v}" for k, v in alert["payload"].items() if not isinstance(v, dict | list))
    text = " ".join(parts) + "."
    if facts:
        text += f" {facts}."
    if alert["acknowledged_at"]:
        text += f" Acknowledged by {alert['acknowledged_by']} at {alert['acknowledged_at']:%Y-%m-%d %H:%M} UTC."
    return text


def atom_feed(alerts: list[dict[str, Any]], feed_url: str, home_url: str) -> bytes:
    fg = FeedGenerator()
    fg.id(feed_url)
    fg.title(FEED_TITLE)
    fg.link(href=feed_url, rel="self")
    fg.link(href=home_url, rel="alternate")
    fg.updated(max((a["created_at"] for a in alerts), default=None) or EMPTY_FEED_UPDATED)
    for alert in reversed(alerts):  # feedgen prepends entries; keep newest first in the output
        entry = fg.add_entry()
        entry.id(f"{home_url}#alert-{alert['id']}")
        entry.title(alert["title"])
        entry.link(href=f"{home_url}#alert-{alert['id']}")
        entry.updated(alert["acknowledged_at"] or alert["created_at"])
        entry.published(alert["created_at"])
        entry.summary(alert_summary(alert))
        entry.category(term=alert["kind"])
        entry.category(term=alert["severity"])
    return fg.atom_str(pretty=True)


def json_feed(alerts: list[dict[str, Any]], feed_url: str, home_url: str) -> dict[str, Any]:
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1); the alert itself rides along under ``_onps``."""
    return {
        "version": "https://jsonfeed.org/version/1.1",
        "title": FEED_TITLE,
        "home_page_url": home_url,
        "feed_url": feed_url,
        "items": [
            {
                "id": str(alert["id"]),
                "url": f"{home_url}#alert-{alert['id']}",
                "title": alert["title"],
                "content_text": alert_summary(alert),
                "date_published": alert["created_at"].isoformat(),
                "date_modified": (alert["acknowledged_at"] or alert["created_at"]).isoformat(),
                "tags": [alert["kind"], alert["severity"]],
                "_onps": json.loads(json.dumps(alert, default=str)),
            }
            for alert in alerts
        ],
    }


def _urls(request: Request) -> tuple[str, str]:
    """The feed's own URL without the key (never echo a secret into a feed) and the dashboard's alerts page."""
    return str(request.url.remove_query_params("key")), str(request.url_for("overview"))


@router.get("/alerts.atom", response_class=Response, summary="Alerts as an Atom feed (key may be ?key=)",
            responses={200: {"content": {"application/atom+xml": {}}}})
def alerts_atom(request: Request, _: FeedReader, session: Annotated[Session, Depends(db_session)]) -> Response:
    feed_url, home = _urls(request)
    body = atom_feed(reads.alerts(session, limit=100), feed_url, home)
    return Response(body, media_type="application/atom+xml")


@router.get("/alerts.json", response_class=Response, summary="Alerts as a JSON Feed 1.1 (key may be ?key=)",
            responses={200: {"content": {"application/feed+json": {}}}})
def alerts_json(request: Request, _: FeedReader, session: Annotated[Session, Depends(db_session)]) -> Response:
    feed_url, home = _urls(request)
    body = json.dumps(json_feed(reads.alerts(session, limit=100), feed_url, home))
    return Response(body, media_type="application/feed+json")
