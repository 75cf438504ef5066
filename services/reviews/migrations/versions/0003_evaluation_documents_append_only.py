"""evaluation_documents is append-only: a signed document, once stored, cannot be changed or
removed (triggers refuse UPDATE and DELETE; PostgreSQL: and TRUNCATE). A change after an
objection is a new version, as it always was.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 07:40:00
"""
from alembic import op

from services.common.audit import append_only_ddl, drop_append_only_ddl


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in append_only_ddl(op.get_bind().dialect.name, "evaluation_documents"):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_append_only_ddl(op.get_bind().dialect.name, "evaluation_documents"):
        op.execute(statement)
