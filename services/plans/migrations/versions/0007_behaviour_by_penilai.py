"""plans.behaviour_by_penilai: the BerAKHLAK values whose ekspektasi khusus the penilai wrote (issue 15)

Revision ID: 0007_behaviour_by_penilai
Revises: 0006_feedback_coaching
Create Date: 2026-12-06 09:25:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_behaviour_by_penilai"
down_revision = "0006_feedback_coaching"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("behaviour_by_penilai", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("behaviour_by_penilai")
