"""perilaku_below_values: the BerAKHLAK values a "below" rating perilaku names (issue 15)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 09:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("evaluations", sa.Column("perilaku_below_values", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("evaluations", "perilaku_below_values")
