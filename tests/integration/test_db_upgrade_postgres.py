"""`kinerja db upgrade` creates each service's PostgreSQL database and migrates it, repeatably."""

from __future__ import annotations

import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from services.common.db import drop_database

pytestmark = pytest.mark.integration


def test_db_upgrade_creates_and_migrates_a_database_per_service(postgres_url, monkeypatch):
    from kinerja import registry
    from kinerja.cli import main

    prefix = f"kinerja_u{uuid.uuid4().hex[:8]}_"
    server = make_url(postgres_url).set(database="postgres").render_as_string(hide_password=False)
    monkeypatch.setenv("DATABASE_URL", server)
    monkeypatch.setenv("DATABASE_PREFIX", prefix)
    try:
        for _ in range(2):  # the second run finds everything in place and changes nothing
            result = CliRunner().invoke(main, ["db", "upgrade"])
            assert result.exit_code == 0, result.output
        for service in registry.SERVICES:
            url = make_url(server).set(database=f"{prefix}{service}")
            engine = create_engine(url.set(drivername="postgresql+psycopg"))
            try:
                names = set(inspect(engine).get_table_names())
            finally:
                engine.dispose()
            assert {"alembic_version", "outbox", "inbox", "idempotency_keys", "audit_log"} <= names
            assert f"{service}: migrated" in result.output
    finally:
        for service in (*registry.SERVICES, "portal"):
            drop_database(make_url(server).set(database=f"{prefix}{service}").render_as_string(hide_password=False))


def test_db_upgrade_grants_the_app_role_no_change_to_the_append_only_tables(postgres_url, monkeypatch):
    """``kinerja db upgrade --grant-to ROLE``: the role the services connect as reads and writes
    every table but cannot UPDATE, DELETE or TRUNCATE the audit log or reviews' signed documents —
    a stolen application password does not rewrite history even with the triggers dropped."""
    from sqlalchemy import text
    from sqlalchemy.exc import ProgrammingError

    from kinerja import registry
    from kinerja.cli import main

    prefix = f"kinerja_g{uuid.uuid4().hex[:8]}_"
    role = f"kinerja_app_{uuid.uuid4().hex[:8]}"
    server = make_url(postgres_url).set(database="postgres", drivername="postgresql+psycopg")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
    monkeypatch.setenv("DATABASE_URL", server.render_as_string(hide_password=False))
    monkeypatch.setenv("DATABASE_PREFIX", prefix)
    try:
        result = CliRunner().invoke(main, ["db", "upgrade", "--grant-to", role])
        assert result.exit_code == 0, result.output
        assert f"reviews: {role} may read and write; append-only for it: audit_log, evaluation_documents" in (
            result.output
        )
        for service in registry.SERVICES:
            owner = create_engine(server.set(database=f"{prefix}{service}"))
            as_app = create_engine(server.set(database=f"{prefix}{service}", username=role))
            try:
                with owner.connect() as conn:

                    def may(table, privilege, conn=conn):
                        return conn.execute(
                            text("SELECT has_table_privilege(:r, :t, :p)"), {"r": role, "t": table, "p": privilege}
                        ).scalar()

                    assert may("outbox", "UPDATE") and may("outbox", "DELETE") and may("audit_log", "INSERT")
                    assert may("audit_log", "SELECT")
                    assert not any(may("audit_log", p) for p in ("UPDATE", "DELETE", "TRUNCATE"))
                    if service == "reviews":
                        assert may("evaluation_documents", "INSERT")
                        assert not may("evaluation_documents", "DELETE")
                with pytest.raises(ProgrammingError, match="permission denied"):
                    with as_app.begin() as conn:
                        conn.execute(text("DELETE FROM audit_log"))
                with as_app.begin() as conn:  # an ordinary write works
                    conn.execute(text("DELETE FROM idempotency_keys WHERE false"))
            finally:
                owner.dispose()
                as_app.dispose()
        # a role that does not exist is named, with what to do
        result = CliRunner().invoke(main, ["db", "upgrade", "--service", "plans", "--grant-to", "nobody_here"])
        assert result.exit_code == 1 and "CREATE ROLE nobody_here" in result.output
    finally:
        for service in (*registry.SERVICES, "portal"):
            drop_database(server.set(database=f"{prefix}{service}").render_as_string(hide_password=False))
        with admin.connect() as conn:
            conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()
