"""Alerts in the store: one row per cause, raised once, acknowledged by a person.

``alerts.cause_key`` is unique, so storing the same cause again refreshes an open alert's title, severity and
payload (the latest figures) and leaves an acknowledged one as it is: an acknowledged cause is not raised again.
A new window is a new cause (the window is part of the key), so a drop next week is a new alert.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nps.alerts import AlertDraft
from store.clock import utcnow
from store.schema import Alert
from store.upsert import dialect_insert


def save_alerts(session: Session, drafts: Sequence[AlertDraft], entity_ids: Mapping[str, int]) -> list[int]:
    """Upsert DRAFTS on ``cause_key``; returns the ids of alerts that did not exist before (to publish)."""
    if not drafts:
        return []
    keys = [d.cause_key for d in drafts]
    known = set(session.execute(select(Alert.cause_key).where(Alert.cause_key.in_(keys))).scalars())
    dialect = session.get_bind().dialect.name
    for draft in {d.cause_key: d for d in drafts}.values():
        values: dict[str, Any] = {
            "kind": draft.kind, "severity": draft.severity, "entity_id": entity_ids.get(draft.entity or ""),
            "window_start": draft.window_start, "window_end": draft.window_end, "cause_key": draft.cause_key,
            "title": draft.title, "payload": _jsonable(draft.payload),
        }
        stmt = dialect_insert(dialect, Alert.__table__).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["cause_key"],
            set_={c: stmt.excluded[c] for c in ("severity", "title", "payload")},
            where=Alert.__table__.c.acknowledged_at.is_(None),
        )
        session.execute(stmt)
    fresh = [k for k in keys if k not in known]
    return list(session.execute(select(Alert.id).where(Alert.cause_key.in_(fresh)).order_by(Alert.id)).scalars())


def list_alerts(session: Session, include_acknowledged: bool = False) -> list[Alert]:
    """Alerts newest first; open ones only unless asked."""
    stmt = select(Alert).order_by(Alert.created_at.desc(), Alert.id.desc())
    if not include_acknowledged:
        stmt = stmt.where(Alert.acknowledged_at.is_(None))
    return list(session.execute(stmt).scalars())


def acknowledge(session: Session, alert_id: int, by: str) -> Alert | None:
    """Mark an alert seen; acknowledging twice keeps the first person and time. None: no such alert."""
    alert = session.get(Alert, alert_id)
    if alert is not None and alert.acknowledged_at is None:
        alert.acknowledged_at = utcnow()
        alert.acknowledged_by = by
    return alert


def _jsonable(value: Any) -> Any:
    """Payloads hold numpy floats and datetimes from the math; the JSON column needs plain values."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value
