"""The results feed (issue 16): ``evaluations.result_changed_at``, when a final (countersigned) result
last changed — countersigned, an objection against it filed or decided — with the index the feed
pages on ``(result_changed_at, id)``. Backfill: every countersigned evaluation takes the time of its
last such step (the countersignature, or an objection filed or decided after it).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 11:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("result_changed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_evaluations_result_changed", ["result_changed_at", "id"], unique=False)
    op.execute(
        "UPDATE evaluations SET result_changed_at = countersigned_at "
        "WHERE status = 'countersigned' AND countersigned_at IS NOT NULL"
    )
    # an objection filed or decided after the countersignature moved the result later (its latest step)
    for column in ("filed_at", "decided_at"):
        op.execute(
            f"UPDATE evaluations SET result_changed_at = ("  # noqa: S608 - a fixed column name
            f"SELECT o.{column} FROM objections o WHERE o.evaluation_id = evaluations.id) "
            f"WHERE result_changed_at IS NOT NULL AND EXISTS ("
            f"SELECT 1 FROM objections o WHERE o.evaluation_id = evaluations.id "
            f"AND o.{column} IS NOT NULL AND o.{column} > evaluations.result_changed_at)"
        )


def downgrade() -> None:
    # no table copy (SQLite ≥ 3.35 drops a column in place): other tables' foreign keys name evaluations
    with op.batch_alter_table("evaluations", schema=None, recreate="never") as batch_op:
        batch_op.drop_index("ix_evaluations_result_changed")
        batch_op.drop_column("result_changed_at")
