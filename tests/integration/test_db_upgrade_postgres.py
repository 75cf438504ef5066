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


def _scram_matches(stored: str, password: str) -> bool:
    """Whether PostgreSQL's ``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`` is the
    hash of ``password`` (RFC 5802/7677): the role signs in with exactly the secret the services get."""
    import base64
    import hashlib
    import hmac

    method, rest = stored.split("$", 1)
    assert method == "SCRAM-SHA-256", stored[:20]
    params, keys = rest.split("$")
    iterations, salt = params.split(":")
    stored_key = keys.split(":")[0]
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(hashlib.sha256(client_key).digest()).decode(), stored_key)


def test_db_upgrade_creates_the_app_role_with_the_deployments_password(postgres_url, monkeypatch):
    """``DATABASE_APP_ROLE`` with ``DATABASE_APP_PASSWORD`` (what deploy/compose.yaml and the
    Kubernetes migrate Job give): the role is created (LOGIN, nothing more) with that password and
    granted; a changed password is set on the next run; the owner itself or a superuser is refused
    and left unchanged, so a wrong variable cannot reset the owner's password or give the services
    a role no REVOKE binds."""
    from sqlalchemy import text

    from kinerja.cli import main

    prefix = f"kinerja_r{uuid.uuid4().hex[:8]}_"
    role = f"kinerja_app_{uuid.uuid4().hex[:8]}"
    boss = f"kinerja_su_{uuid.uuid4().hex[:8]}"
    server = make_url(postgres_url).set(database="postgres", drivername="postgresql+psycopg")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    me = server.username or "postgres"

    def authid(name):
        with admin.connect() as conn:
            return conn.execute(
                text(
                    "SELECT rolpassword, rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolinherit "
                    "FROM pg_authid WHERE rolname = :r"
                ),
                {"r": name},
            ).first()

    def upgrade(role_name, password):
        monkeypatch.setenv("DATABASE_APP_ROLE", role_name)
        monkeypatch.setenv("DATABASE_APP_PASSWORD", password)
        return CliRunner().invoke(main, ["db", "upgrade", "--service", "plans", "--service", "portal"])

    monkeypatch.setenv("DATABASE_URL", server.render_as_string(hide_password=False))
    monkeypatch.setenv("DATABASE_PREFIX", prefix)
    try:
        assert authid(role) is None
        result = upgrade(role, "first0secret")
        assert result.exit_code == 0, result.output
        assert f"plans: database role {role} created" in result.output
        assert result.output.count(f"database role {role}") == 1, "once per server, not per database"
        assert f"portal: {role} may read and write" in result.output
        row = authid(role)
        assert row.rolcanlogin and not (row.rolsuper or row.rolcreaterole or row.rolcreatedb)
        assert _scram_matches(row.rolpassword, "first0secret") and not _scram_matches(row.rolpassword, "other")
        with admin.connect() as conn:
            for db in (f"{prefix}plans", f"{prefix}portal"):
                assert conn.execute(text("SELECT has_database_privilege(:r, :d, 'CONNECT')"), {"r": role, "d": db})
        owner = create_engine(server.set(database=f"{prefix}plans"))
        try:
            with owner.connect() as conn:
                granted = conn.execute(
                    text(
                        "SELECT has_table_privilege(:r, 'outbox', 'UPDATE'), "
                        "has_table_privilege(:r, 'audit_log', 'DELETE')"
                    ),
                    {"r": role},
                ).one()
            assert tuple(granted) == (True, False)
        finally:
            owner.dispose()

        result = upgrade(role, "second0secret")  # the secret rotated: the next migration sets it
        assert result.exit_code == 0, result.output
        assert f"plans: database role {role} password set" in result.output
        assert _scram_matches(authid(role).rolpassword, "second0secret")

        before = authid(me).rolpassword
        result = upgrade(me, "reset0owner")
        assert result.exit_code == 1 and "the role migrating" in result.output, result.output
        assert authid(me).rolpassword == before, "the owner's password must stay as it was"

        with admin.connect() as conn:
            conn.execute(text(f"CREATE ROLE {boss} LOGIN SUPERUSER"))
        result = upgrade(boss, "x0secret")
        assert result.exit_code == 1 and "superuser" in result.output, result.output
        assert authid(boss).rolpassword is None
        monkeypatch.delenv("DATABASE_APP_PASSWORD")  # granting alone refuses a superuser too
        result = CliRunner().invoke(main, ["db", "upgrade", "--service", "portal"])
        assert result.exit_code == 1 and "superuser" in result.output, result.output

        monkeypatch.delenv("DATABASE_APP_ROLE")
        monkeypatch.setenv("DATABASE_APP_PASSWORD", "x0secret")
        result = CliRunner().invoke(main, ["db", "upgrade", "--service", "portal"])
        assert result.exit_code == 2 and "DATABASE_APP_ROLE" in result.output, result.output
    finally:
        for service in ("plans", "portal"):
            drop_database(server.set(database=f"{prefix}{service}").render_as_string(hide_password=False))
        with admin.connect() as conn:
            for name in (role, boss):
                conn.execute(text(f"DROP ROLE IF EXISTS {name}"))
        admin.dispose()
