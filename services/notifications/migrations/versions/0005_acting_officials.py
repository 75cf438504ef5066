"""rm_acting: the acting officials (Plt/Plh) copied from plans, so that whoever stands in for a
penilai or atasan hears what is addressed to them during the appointment (issue 15)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 11:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rm_acting",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agency_code", sa.String(40), nullable=False),
        sa.Column("acting_nip", sa.String(18), nullable=False),
        sa.Column("for_nip", sa.String(18), nullable=False),
        sa.Column("kind", sa.String(4), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_rm_acting_acting_nip", "rm_acting", ["acting_nip"])
    op.create_index("ix_rm_acting_for_nip", "rm_acting", ["for_nip"])
    op.create_index("ix_rm_acting_agency_dates", "rm_acting", ["agency_code", "end_date"])


def downgrade() -> None:
    op.drop_index("ix_rm_acting_agency_dates", "rm_acting")
    op.drop_index("ix_rm_acting_for_nip", "rm_acting")
    op.drop_index("ix_rm_acting_acting_nip", "rm_acting")
    op.drop_table("rm_acting")
