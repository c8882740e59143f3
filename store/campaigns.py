"""The campaign detector's findings in the store, upserted on (entity, kind, window start): a re-run refreshes
the members and strength of a campaign found before and keeps the status an analyst gave it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.verdicts import CampaignFinding
from store.organic import set_members
from store.schema import Campaign
from store.upsert import upsert


def save_campaigns(session: Session, entity_id: int, findings: Sequence[CampaignFinding], run_id: int) -> None:
    """Store one entity's FINDINGS and their member documents."""
    rows = [
        {"entity_id": entity_id, "kind": f.kind, "window_start": f.window_start,
         "window_end": f.window_end, "member_authors": list(f.member_authors), "strength": float(f.strength),
         "p_value": float(f.p_value), "evidence": f.evidence, "run_id": run_id}
        for f in findings
    ]
    upsert(session, Campaign.__table__, rows, key=("entity_id", "kind", "window_start"),
           update=("window_end", "member_authors", "strength", "p_value", "evidence", "run_id"))
    stored = {(kind, start): id_ for kind, start, id_ in session.execute(
        select(Campaign.kind, Campaign.window_start, Campaign.id).where(Campaign.entity_id == entity_id))}
    for f in findings:
        set_members(session, stored[(f.kind, f.window_start)], [int(m) for m in f.member_ids])
