"""audit_log is append-only: triggers refuse UPDATE and DELETE (PostgreSQL: and TRUNCATE)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 05:30:00
"""
from alembic import op

from services.common.audit import append_only_ddl, drop_append_only_ddl


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NB SQLite: a later batch_alter_table('audit_log') copies the table without its triggers:
    # such a migration must create them again (append_only_ddl)
    for statement in append_only_ddl(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_append_only_ddl(op.get_bind().dialect.name):
        op.execute(statement)
