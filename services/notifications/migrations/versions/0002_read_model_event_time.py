"""read model rows keep the time of the event they were written from (as_of)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 03:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('rm_people') as batch:
        batch.add_column(sa.Column('as_of', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('rm_units') as batch:
        batch.add_column(sa.Column('as_of', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('rm_units') as batch:
        batch.drop_column('as_of')
    with op.batch_alter_table('rm_people') as batch:
        batch.drop_column('as_of')
