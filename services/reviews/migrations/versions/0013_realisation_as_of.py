"""The realisations' copy keeps the time of the event it was last written from (``as_of``), as every
other read model does: a ``plans.realisation.recorded`` retried or applied by another worker after a
newer one for the same realisation no longer puts the older value back.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 19:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rm_realisations") as batch:
        batch.add_column(sa.Column("as_of", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rm_realisations") as batch:
        batch.drop_column("as_of")
