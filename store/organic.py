"""Organic in the store: which campaigns count against a document, and the per-document organic verdicts the
estimate stage writes from the one organic rule (``nps.organic.exclusion``) for the pages that list reviews.

The rule itself is pure and lives in nps.organic; what lives here is how the store supplies its inputs (a
document is in a campaign that excludes it when the campaign is a smear or stuffing burst nobody dismissed; an
incident wave's members are genuine customers and stay in) and how its outputs are kept (``document_organic``).
Every reader of "organic" in the store goes through these: the nightly stages (``store.streams``), the web layer
(``organic_document_ids``) and the demo check.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, exists, select
from sqlalchemy.orm import Session

from models.verdicts import FAKE_CAMPAIGN_KINDS
from nps.organic import DOCUMENT_EXCLUSIONS
from store.clock import utcnow
from store.schema import Campaign, CampaignMember, DocumentOrganic
from store.upsert import upsert

DISMISSED = "dismissed"  # the campaign status an analyst sets to say "not a campaign"


def in_excluding_campaign(document_id: Any) -> ColumnElement[bool]:
    """SQL: the document is a member of a smear or stuffing campaign that is not dismissed."""
    return exists().where(
        CampaignMember.document_id == document_id, CampaignMember.campaign_id == Campaign.id,
        Campaign.kind.in_(FAKE_CAMPAIGN_KINDS), Campaign.status != DISMISSED,
    )


def set_members(session: Session, campaign_id: int, document_ids: Iterable[int]) -> None:
    """Replace a campaign's members (a re-run of the detector refreshes them)."""
    session.execute(delete(CampaignMember).where(CampaignMember.campaign_id == campaign_id))
    rows = [{"campaign_id": campaign_id, "document_id": d} for d in dict.fromkeys(document_ids)]
    upsert(session, CampaignMember.__table__, rows, ("campaign_id", "document_id"))


def members_of(session: Session, campaign_ids: Sequence[int]) -> dict[int, list[int]]:
    """Member document ids per campaign, in id order."""
    found: dict[int, list[int]] = {c: [] for c in campaign_ids}
    if campaign_ids:
        for campaign_id, doc in session.execute(
            select(CampaignMember.campaign_id, CampaignMember.document_id)
            .where(CampaignMember.campaign_id.in_(list(campaign_ids))).order_by(CampaignMember.document_id)
        ):
            found[campaign_id].append(doc)
    return found


def save_organic(session: Session, records: Sequence[dict[str, Any]], verdicts: Sequence[str | None],
                 run_id: int | None) -> int:
    """Store each document's organic verdict (None: organic; else the document-level rule that removed it)."""
    rows = [{"document_id": int(r["id"]), "excluded": v if v in DOCUMENT_EXCLUSIONS else None, "run_id": run_id,
             "updated_at": utcnow()} for r, v in zip(records, verdicts, strict=True)]
    return upsert(session, DocumentOrganic.__table__, rows, ("document_id",), update=("excluded", "run_id",
                                                                                      "updated_at"))


def organic_document_ids() -> Select[Any]:
    """SQL: the documents the last estimate found organic (a document not yet estimated is not listed)."""
    return select(DocumentOrganic.document_id).where(DocumentOrganic.excluded.is_(None))
