"""Grants across agencies (issue 16, Deliver 2): ``rm_grants``, the read model of the plans
service's grants (``plans.grant.upserted``), checked when a machine client names another agency on
the results feed.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 11:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rm_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grantor_agency", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("client_agency", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_rm_grants_grantor_agency"), "rm_grants", ["grantor_agency"], unique=False)
    op.create_index(op.f("ix_rm_grants_client_id"), "rm_grants", ["client_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_rm_grants_client_id"), table_name="rm_grants")
    op.drop_index(op.f("ix_rm_grants_grantor_agency"), table_name="rm_grants")
    op.drop_table("rm_grants")
