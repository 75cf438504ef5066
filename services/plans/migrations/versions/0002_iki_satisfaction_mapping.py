"""IKI mapped to a service unit's public satisfaction index (surveys.ikm.computed)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 07:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('iki', schema=None) as batch_op:
        batch_op.add_column(sa.Column('satisfaction_unit_code', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('iki', schema=None) as batch_op:
        batch_op.drop_column('satisfaction_unit_code')
