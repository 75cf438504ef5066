"""dead_letters: one row per event the consumer sent to the dead-letter queue (kinerja_events_dead_lettered_total)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 07:40:00
"""
from alembic import op

from services.common.dead_letters import columns


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dead_letters', *columns())


def downgrade() -> None:
    op.drop_table('dead_letters')
