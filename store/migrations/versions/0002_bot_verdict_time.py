"""bot_verdicts.created_at: when a document was judged, so re-judging re-estimates its entity

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

import store.clock

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bot_verdicts") as batch_op:
        batch_op.add_column(sa.Column("created_at", store.clock.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bot_verdicts") as batch_op:
        batch_op.drop_column("created_at")
