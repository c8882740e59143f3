"""scores.p_levels: the five star-level probabilities, so group estimates correct the mix per star level

Rows stored before this revision keep NULL there; nps.organic estimates their groups over the three classes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scores") as batch_op:
        batch_op.add_column(sa.Column("p_levels", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scores") as batch_op:
        batch_op.drop_column("p_levels")
