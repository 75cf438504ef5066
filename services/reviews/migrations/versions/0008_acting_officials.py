"""Acting officials (Plt/Plh) in reviews: the appointments copied from plans, and who acted in the
penilai's or atasan's place when signing, countersigning or deciding an objection; the kind and time
of continuous feedback, which the evaluation document now lists (issue 15)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 11:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
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
    op.add_column("evaluations", sa.Column("signed_acting", sa.JSON(), nullable=True))
    op.add_column("evaluations", sa.Column("countersigned_acting", sa.JSON(), nullable=True))
    op.add_column("objections", sa.Column("decided_acting", sa.JSON(), nullable=True))
    # continuous feedback: its kind (feedback | coaching) and time, for the evaluation document
    op.add_column("rm_feedback", sa.Column("kind", sa.String(16), nullable=True))
    op.add_column("rm_feedback", sa.Column("given_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("rm_feedback", "given_at")
    op.drop_column("rm_feedback", "kind")
    op.drop_column("objections", "decided_acting")
    op.drop_column("evaluations", "countersigned_acting")
    op.drop_column("evaluations", "signed_acting")
    op.drop_index("ix_rm_acting_for_nip", "rm_acting")
    op.drop_index("ix_rm_acting_acting_nip", "rm_acting")
    op.drop_table("rm_acting")
