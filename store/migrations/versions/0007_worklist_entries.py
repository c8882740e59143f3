"""The detractor worklist as a queue: each followed-up review's status, owner and note

- ``worklist_entries``: one row per document someone acted on (status open, contacted, resolved or
  not_actionable; owner; note; who changed it last and when). A detractor with no row is open.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

import store.clock

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worklist_entries",
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("updated_at", store.clock.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=True),
    )
    op.create_index("ix_worklist_entries_status", "worklist_entries", ["status"])


def downgrade() -> None:
    op.drop_index("ix_worklist_entries_status", table_name="worklist_entries")
    op.drop_table("worklist_entries")
