"""reminder_batches: the batch's counts kept on the batch (people, done, escalations by target),
so that a call answers them without counting the batch's items; reminder_items: an index on
(batch_id, id) for reading a batch page by page, in place of the one on batch_id (issue 17)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 22:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COUNTS = ("item_count", "done_count", "escalated_superior", "escalated_hr")


def upgrade() -> None:
    # plain ALTER TABLE (SQLite ≥ 3.35 adds and drops columns itself; a batch copy of the table
    # would drop it under the items' foreign key)
    for name in COUNTS:
        op.add_column("reminder_batches", sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    # the batches written before: their counts from their items (an item at level n was escalated
    # to each level up to n)
    op.execute(
        """
        UPDATE reminder_batches SET
            item_count = (SELECT count(*) FROM reminder_items i WHERE i.batch_id = reminder_batches.id),
            done_count = (SELECT count(*) FROM reminder_items i
                          WHERE i.batch_id = reminder_batches.id AND i.done_at IS NOT NULL),
            escalated_superior = (SELECT count(*) FROM reminder_items i
                                  WHERE i.batch_id = reminder_batches.id AND i.escalation_level >= 1),
            escalated_hr = (SELECT count(*) FROM reminder_items i
                            WHERE i.batch_id = reminder_batches.id AND i.escalation_level >= 2)
        """
    )
    op.drop_index("ix_reminder_items_batch_id", "reminder_items")
    op.create_index("ix_reminder_items_batch_page", "reminder_items", ["batch_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_reminder_items_batch_page", "reminder_items")
    op.create_index("ix_reminder_items_batch_id", "reminder_items", ["batch_id"])
    for name in reversed(COUNTS):
        op.drop_column("reminder_batches", name)
