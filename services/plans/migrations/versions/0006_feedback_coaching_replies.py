"""feedback.kind (feedback | coaching) and feedback_replies: coaching records and the employee's replies (issue 15)

Revision ID: 0006_feedback_coaching
Revises: 0005 (evidence review)
Create Date: 2026-12-06 08:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_feedback_coaching'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='feedback', nullable=False))
    op.create_table('feedback_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('feedback_id', sa.Integer(), nullable=False),
    sa.Column('author_nip', sa.String(length=18), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['feedback_id'], ['feedback.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('feedback_replies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_replies_feedback_id'), ['feedback_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('feedback_replies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_replies_feedback_id'))
    op.drop_table('feedback_replies')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_column('kind')
