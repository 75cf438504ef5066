"""Shared fixtures. Integration tests use the real PostgreSQL and RabbitMQ of the machine.

They skip when a server is unreachable, except with REQUIRE_SERVICES=1 (CI), where an
unreachable server fails the run instead.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid

import pytest

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
AMQP_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
# every message the notifications service renders from its shape is rendered in full as well and
# compared (services/notifications/render.py, Renderer), here and in the servers the tests start
os.environ.setdefault("KINERJA_RENDER_VERIFY", "1")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def _need(name: str, host: str, port: int) -> None:
    if _reachable(host, port):
        return
    msg = f"{name} is not reachable at {host}:{port}"
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"REQUIRE_SERVICES=1 but {msg}")
    pytest.skip(msg)


@pytest.fixture(autouse=True)
def _root_logger_as_found():
    """Each test leaves the process's root logger as it found it. ``kinerja serve`` under click's
    CliRunner (tests/common/test_embedded_secret.py) configures the JSON log handler on the runner's
    stderr, which the runner then closes, and sets the level to INFO: every later INFO line from any
    thread failed with "--- Logging error ---" and printed a traceback. On Python 3.11.7 a traceback
    formatted in one thread (3.11's carets call ``ast.parse``) while another builds a Flask app
    (werkzeug compiles its routes with ``ast.parse``) can fail the latter with "SystemError: AST
    constructor recursion depth mismatch" (CPython gh-106905, fixed in 3.11.8): a CI run lost two
    tests that way. pytest's own capture handlers come and go around each phase and are left alone."""
    from _pytest.logging import LogCaptureHandler

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers and not isinstance(handler, LogCaptureHandler):
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def postgres_url():
    """A fresh PostgreSQL database for this test, dropped afterwards."""
    _need("PostgreSQL", "127.0.0.1", 5432)
    from sqlalchemy.engine import make_url

    from services.common.db import drop_database, ensure_database

    url = make_url(PG_URL).set(database=f"kinerja_t_{uuid.uuid4().hex[:10]}").render_as_string(hide_password=False)
    ensure_database(url)
    yield url
    drop_database(url)


@pytest.fixture
def rabbitmq_url():
    _need("RabbitMQ", "127.0.0.1", 5672)
    return AMQP_URL


@pytest.fixture
def unique():
    """A unique suffix for queue and exchange names so tests never share broker state."""
    return uuid.uuid4().hex[:8]


def pytest_terminal_summary(terminalreporter):
    """The guarantee suites' figures (tests/figures.py), after the run's own summary."""
    from tests.figures import write_and_render

    lines = write_and_render()
    if lines:
        terminalreporter.write_sep("=", "Guarantees")
        for line in lines:
            terminalreporter.write_line(line)
