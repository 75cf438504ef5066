"""End-to-end: the real flows (Prefect engine, one temporary Prefect API for the whole session)
driving the real services over HTTP on 127.0.0.1 with a simulated clock."""

from __future__ import annotations

import pytest

import flows  # noqa: F401  (quiet, offline Prefect defaults before anything imports Prefect)
from tests.flows.support import Stack


@pytest.fixture(scope="session")
def prefect_api():
    """One ``prefect_test_harness`` for the session (never nested). Flow-run heartbeats are off: they
    serve a long-lived server watching for crashed runs, and each costs a second at run end."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            yield


@pytest.fixture
def stack(tmp_path, prefect_api):
    s = Stack(tmp_path)
    yield s
    s.close()


@pytest.fixture
def semester_stack(tmp_path, prefect_api):
    """The same agency with a semester cycle: two periods, a shorter year."""
    s = Stack(tmp_path, period_type="semester")
    yield s
    s.close()
