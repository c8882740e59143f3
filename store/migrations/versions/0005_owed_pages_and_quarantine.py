"""Reliability: pages still owed by a source, and records set aside by a stage

- ``owed_pages``: a page that failed after Scrapy's retries, fetched again on each crawl until it succeeds or is
  given up (crawl.owed_max_runs / crawl.owed_max_days).
- ``quarantine``: a record a stage could not process, with its error, so the rest of the run goes on.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

import store.clock

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "owed_pages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source_id", sa.Integer(), sa.ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("callback", sa.String(100), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", store.clock.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_failed_at", store.clock.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("given_up_at", store.clock.UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("source_id", "url", name="uq_owed_page"),
    )
    op.create_index("ix_owed_pages_source_id", "owed_pages", ["source_id"])
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("stage", sa.String(30), nullable=False),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id"), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", store.clock.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", store.clock.UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("stage", "document_id", name="uq_quarantine"),
    )
    op.create_index("ix_quarantine_document_id", "quarantine", ["document_id"])


def downgrade() -> None:
    op.drop_index("ix_quarantine_document_id", table_name="quarantine")
    op.drop_table("quarantine")
    op.drop_index("ix_owed_pages_source_id", table_name="owed_pages")
    op.drop_table("owed_pages")
