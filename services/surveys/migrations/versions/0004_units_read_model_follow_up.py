"""rm_units: the plans directory's units (plans.unit.upserted), so a campaign names a unit that exists;
campaigns.follow_up: the unit's follow-up of the results, published with them

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 08:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'rm_units',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_code', sa.String(length=40), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('as_of', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('agency_code', 'code', name='uq_rm_unit'),
    )
    op.add_column('campaigns', sa.Column('follow_up', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('campaigns') as batch:
        batch.drop_column('follow_up')
    op.drop_table('rm_units')
