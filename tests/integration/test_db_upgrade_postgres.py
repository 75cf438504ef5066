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
        for service in registry.SERVICES:
            drop_database(make_url(server).set(database=f"{prefix}{service}").render_as_string(hide_password=False))
