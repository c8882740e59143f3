"""Survey answers keyed by their own identity, not by the file they came in

- ``surveys.answer_key`` (sha256, unique; ``nps.survey_import.answer_key``): the same answers imported again from
  another file (a re-export, rows in another order) are stored once. Rows stored before get their key from their
  content, in their batch's row order; ``uq_survey_batch_row`` goes (a batch is still recorded, for provenance).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""
from collections import Counter

import sqlalchemy as sa
from alembic import op

from nps.record import parse_time
from nps.survey_import import answer_key

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("surveys") as batch_op:
        batch_op.add_column(sa.Column("answer_key", sa.String(64), nullable=True))
    surveys = sa.table("surveys", sa.column("id", sa.Integer), sa.column("batch", sa.String),
                       sa.column("row_number", sa.Integer), sa.column("entity_id", sa.Integer),
                       sa.column("score", sa.Integer), sa.column("answered_at", sa.DateTime),
                       sa.column("segment", sa.JSON), sa.column("comment", sa.Text),
                       sa.column("answer_key", sa.String))
    connection = op.get_bind()
    seen: Counter[str] = Counter()
    taken: set[str] = set()
    for row in connection.execute(sa.select(surveys).order_by(surveys.c.batch, surveys.c.row_number)).mappings():
        answer = {"answered_at": parse_time(row["answered_at"]), "score": row["score"],
                  "segment": row["segment"] or {}, "comment": row["comment"]}
        content = answer_key(row["entity_id"], answer, 0)
        key = answer_key(row["entity_id"], answer, seen[f"{row['batch']}:{content}"])
        seen[f"{row['batch']}:{content}"] += 1
        if key in taken:  # the same answers imported twice from two files before this revision: keep one
            connection.execute(sa.delete(surveys).where(surveys.c.id == row["id"]))
            continue
        taken.add(key)
        connection.execute(sa.update(surveys).where(surveys.c.id == row["id"]).values(answer_key=key))
    with op.batch_alter_table("surveys") as batch_op:
        batch_op.alter_column("answer_key", existing_type=sa.String(64), nullable=False)
        batch_op.drop_constraint("uq_survey_batch_row", type_="unique")
        batch_op.create_unique_constraint("uq_survey_answer", ["answer_key"])


def downgrade() -> None:
    with op.batch_alter_table("surveys") as batch_op:
        batch_op.drop_constraint("uq_survey_answer", type_="unique")
        batch_op.create_unique_constraint("uq_survey_batch_row", ["batch", "row_number"])
        batch_op.drop_column("answer_key")
