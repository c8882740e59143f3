"""The company's reply on the document it answers, and the app version as a segment key

- ``documents.company_reply`` (JSON ``{"text", "time"}``, nullable) and ``documents.company_replied_at`` (its time,
  for the reply rate and time-to-reply queries).
- ``documents.app_version`` (nullable): the app version an app-store review was written on.
- Trustpilot rows stored before kept the reply in ``extra.company_reply`` as ``{"text", "published_at"}``: moved
  to the column in the record's shape (nps.record.company_reply).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""
import json

import sqlalchemy as sa
from alembic import op

import store.clock
from nps.record import company_reply, parse_time

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch_op:
        batch_op.add_column(sa.Column("company_reply", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("company_replied_at", store.clock.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("app_version", sa.String(100), nullable=True))
    docs = sa.table("documents", sa.column("id", sa.Integer()), sa.column("extra", sa.JSON()),
                    sa.column("company_reply", sa.JSON()),
                    sa.column("company_replied_at", store.clock.UTCDateTime(timezone=True)))
    bind = op.get_bind()
    moved = []
    found = sa.select(docs.c.id, docs.c.extra).where(sa.cast(docs.c.extra, sa.Text()).like("%company_reply%"))
    for doc_id, extra in bind.execute(found):
        extra = json.loads(extra) if isinstance(extra, str) else dict(extra or {})
        old = extra.pop("company_reply", None)
        reply = company_reply(old.get("text"), old.get("published_at")) if isinstance(old, dict) else None
        if reply is not None:
            moved.append({"doc_id": doc_id, "reply": reply, "at": parse_time(reply["time"]), "rest": extra})
    if moved:
        bind.execute(docs.update().where(docs.c.id == sa.bindparam("doc_id")).values(
            company_reply=sa.bindparam("reply"), company_replied_at=sa.bindparam("at"), extra=sa.bindparam("rest")),
            moved)


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch_op:
        batch_op.drop_column("app_version")
        batch_op.drop_column("company_replied_at")
        batch_op.drop_column("company_reply")
