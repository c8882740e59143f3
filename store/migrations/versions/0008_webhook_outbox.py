"""Alerts a webhook has not taken yet, kept for the next run instead of dropped

- ``webhook_outbox``: one row per alert and webhook (the webhook named by the sha256 of its URL: URLs carry
  tokens, the store never holds them), with the runs that tried it, the last error, and when it was delivered
  or given up (``[alerts] webhook_max_runs``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

import store.clock

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", store.clock.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", store.clock.UTCDateTime(timezone=True), nullable=True),
        sa.Column("given_up_at", store.clock.UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("alert_id", "target", name="uq_outbox_alert_target"),
    )


def downgrade() -> None:
    op.drop_table("webhook_outbox")
