"""Organic on real streams: documents.invited, campaign membership as rows, per-document organic verdicts, and
stored ratings and content hashes re-derived by the one rule for each

- ``documents.invited`` (nullable): how the review was collected (nlp.disclosure); NULL for rows stored before.
- ``campaign_members`` replaces ``campaigns.member_documents`` (a JSON list); existing lists are moved over.
- ``document_organic``: which organic rule removed a document, written by the estimate stage (empty until the
  next run writes it).
- ``documents.rating_0_10`` was rating / scale * 10 (1 star = 2.0) while the bot model read 1 star as 0.0;
  stored 5-point ratings are re-derived by nps.ratings.rating_0_10. ``documents.content_hash`` was the hash of the
  lower-cased text with spaces folded; it is re-derived by nps.record.content_hash (punctuation folded too),
  the hash `onps estimate` uses.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""
import json

import sqlalchemy as sa
from alembic import op

import store.clock
from nps.ratings import rating_0_10
from nps.record import content_hash

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CHUNK = 5000


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch_op:
        batch_op.add_column(sa.Column("invited", sa.Boolean(), nullable=True))
    op.create_table(
        "campaign_members",
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_campaign_members_document_id", "campaign_members", ["document_id"])
    op.create_table(
        "document_organic",
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("excluded", sa.String(20), nullable=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id"), nullable=True),
        sa.Column("updated_at", store.clock.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_document_organic_excluded", "document_organic", ["excluded"])
    bind = op.get_bind()
    members = []
    stored = {row[0] for row in bind.execute(sa.text("SELECT id FROM documents"))}
    for campaign_id, raw in bind.execute(sa.text("SELECT id, member_documents FROM campaigns")):
        listed = json.loads(raw) if isinstance(raw, str) else (raw or [])
        for ref in dict.fromkeys(listed):
            try:
                doc = int(ref)
            except (TypeError, ValueError):
                continue
            if doc in stored:
                members.append({"campaign_id": campaign_id, "document_id": doc})
    # the column goes first: SQLite's batch mode rebuilds the table, and dropping the old one would cascade to
    # member rows already written
    with op.batch_alter_table("campaigns") as batch_op:
        batch_op.drop_column("member_documents")
    if members:
        bind.execute(sa.text("INSERT INTO campaign_members (campaign_id, document_id) VALUES (:campaign_id, "
                             ":document_id)"), members)
    last = 0
    while True:
        rows = bind.execute(sa.text("SELECT id, text, rating, rating_scale FROM documents WHERE id > :last "
                                    "ORDER BY id LIMIT :n"), {"last": last, "n": CHUNK}).all()
        if not rows:
            break
        bind.execute(
            sa.text("UPDATE documents SET content_hash = :hash, rating_0_10 = :rating WHERE id = :id"),
            [{"id": i, "hash": content_hash(text), "rating": rating_0_10(rating, scale)}
             for i, text, rating, scale in rows],
        )
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch_op:
        batch_op.add_column(sa.Column("member_documents", sa.JSON(), nullable=False, server_default="[]"))
    op.drop_index("ix_document_organic_excluded", "document_organic")
    op.drop_table("document_organic")
    op.drop_index("ix_campaign_members_document_id", "campaign_members")
    op.drop_table("campaign_members")
    with op.batch_alter_table("documents") as batch_op:
        batch_op.drop_column("invited")
