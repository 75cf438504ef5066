"""Follow-up progress (issue 15): a status (planned → in_progress → completed, or cancelled with a
reason), the date it was completed and what was done, and a version for If-Match; the follow-ups
planned before this revision are planned.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 11:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("followups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(12), nullable=False, server_default="planned"))
        batch_op.add_column(sa.Column("completed_at", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("completion_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("cancel_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.create_index("ix_followups_status", ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("followups", schema=None) as batch_op:
        batch_op.drop_index("ix_followups_status")
        batch_op.drop_column("version")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("cancel_reason")
        batch_op.drop_column("completion_note")
        batch_op.drop_column("completed_at")
        batch_op.drop_column("status")
