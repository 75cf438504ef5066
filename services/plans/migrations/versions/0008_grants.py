"""plans.grants: grants across agencies (issue 16, Deliver 2) — HR of an agency lets a machine
client of another agency read its data with one read scope until a day

Revision ID: 0008
Revises: 0007_behaviour_by_penilai
Create Date: 2026-12-06 11:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007_behaviour_by_penilai"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grantor_agency", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("client_agency", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["grantor_agency"], ["agencies.code"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_grants_grantor_agency"), "grants", ["grantor_agency"], unique=False)
    op.create_index(op.f("ix_grants_client_id"), "grants", ["client_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_grants_client_id"), table_name="grants")
    op.drop_index(op.f("ix_grants_grantor_agency"), table_name="grants")
    op.drop_table("grants")
