"""The services' connection pool on PostgreSQL: a pooled connection whose backend is gone (the
server restarted, an administrator terminated it) is not handed to a request; the request gets a
fresh one and nothing fails — without a ping round trip before every unit of work."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import event, text

from services.common.db import make_engine

pytestmark = pytest.mark.integration


def test_a_connection_the_server_closed_is_replaced_at_checkout_without_a_ping(postgres_url, monkeypatch):
    engine = make_engine(postgres_url)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, *_: statements.append(sql))
    ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: statements.append("ping") or ping(conn))
    try:
        with engine.connect() as conn:
            first = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with engine.connect() as conn:  # the same pooled connection, taken back without a SELECT 1
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() == first
        assert statements == ["SELECT pg_backend_pid()"] * 2
        admin = make_engine(postgres_url)
        # autocommit: each poll of pg_stat_activity reads afresh (a transaction keeps its first snapshot)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as other:
            assert other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": first}).scalar()
            gone = "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :p"
            deadline = time.monotonic() + 10  # the backend ends a moment after it is told to
            while not other.execute(text(gone), {"p": first}).scalar():
                assert time.monotonic() < deadline, "the terminated backend is still there after 10 s"
                time.sleep(0.01)
        admin.dispose()
        for _ in range(3):  # the pool's connection was killed: each request still succeeds
            with engine.connect() as conn:
                assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != first
    finally:
        engine.dispose()
