"""SIASN by hand (issue 16, Deliver 4): a push record may be ``uploaded`` — marked uploaded to SIASN
by hand from an exported file — with who marked it (``actor``) and an optional note.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 11:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("siasn_pushes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor", sa.String(200), nullable=True))
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("siasn_pushes", schema=None) as batch_op:
        batch_op.drop_column("note")
        batch_op.drop_column("actor")
