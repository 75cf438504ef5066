"""deliveries: the dispatcher's claim reads the pending deliveries in the order it sends them from
an index of (next_attempt_at, id) holding only the pending ones; the indexes on the status,
the subscription and the digest hold only the rows they are asked for (issue 17)

The claim (``status IN ('queued', 'deferred') … ORDER BY next_attempt_at, id LIMIT 200``) could not
read ``ix_deliveries_due`` (status, next_attempt_at) in that order for two statuses, so every round
sorted every due delivery: 150,000 queued e-mails after three stage openings to 50,000 people, 92 ms
and a sort spilled to disk a round, for 200 of them. Only a pending delivery has a
``next_attempt_at`` (each final status clears it), and in-app deliveries, written ``sent``, never
have one; webhook deliveries alone have a subscription, digests alone bundle.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 05:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _partial(where: str) -> dict:
    clause = sa.text(where)
    return {"postgresql_where": clause, "sqlite_where": clause}


def upgrade() -> None:
    op.create_index(
        "ix_deliveries_next", "deliveries", ["next_attempt_at", "id"], **_partial("next_attempt_at IS NOT NULL")
    )
    op.drop_index("ix_deliveries_due", "deliveries")
    op.create_index(
        "ix_deliveries_due", "deliveries", ["status", "next_attempt_at"], **_partial("next_attempt_at IS NOT NULL")
    )
    op.drop_index("ix_deliveries_subscription", "deliveries")
    op.create_index(
        "ix_deliveries_subscription", "deliveries", ["subscription_id", "id"], **_partial("subscription_id IS NOT NULL")
    )
    op.drop_index("ix_deliveries_bundled_into", "deliveries")
    op.create_index(
        "ix_deliveries_bundled_into", "deliveries", ["bundled_into"], **_partial("bundled_into IS NOT NULL")
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_bundled_into", "deliveries")
    op.create_index("ix_deliveries_bundled_into", "deliveries", ["bundled_into"])
    op.drop_index("ix_deliveries_subscription", "deliveries")
    op.create_index("ix_deliveries_subscription", "deliveries", ["subscription_id", "id"])
    op.drop_index("ix_deliveries_due", "deliveries")
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"])
    op.drop_index("ix_deliveries_next", "deliveries")
