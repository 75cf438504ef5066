"""evidence review: the penilai marks each evidence file accepted or asks for another, with a note

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 08:40:00
"""

import sqlalchemy as sa
from alembic import op


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("evidence", sa.Column("review_status", sa.String(20), nullable=False, server_default="pending"))
    op.add_column("evidence", sa.Column("review_note", sa.Text(), nullable=True))
    op.add_column("evidence", sa.Column("reviewed_by", sa.String(200), nullable=True))
    op.add_column("evidence", sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        for name in ("reviewed_at", "reviewed_by", "review_note", "review_status"):
            batch.drop_column(name)
