"""perilaku suggestion: the suggested rating perilaku kerja with its per-value explanation, and the
penilai's reason when departing from it (issue 15)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 10:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("evaluations", sa.Column("perilaku_suggestion", sa.JSON(), nullable=True))
    op.add_column("evaluations", sa.Column("suggested_perilaku", sa.String(length=10), nullable=True))
    op.add_column("evaluations", sa.Column("perilaku_deviation_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("evaluations", "perilaku_deviation_reason")
    op.drop_column("evaluations", "suggested_perilaku")
    op.drop_column("evaluations", "perilaku_suggestion")
