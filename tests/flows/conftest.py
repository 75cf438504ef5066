"""Fixtures of the flow tests: the services for real on a local port (``tests.flows.support``).
The flows run as plain functions here (``flow.fn``: no Prefect engine); ``tests/e2e`` runs them
for real."""

from __future__ import annotations

import pytest

import flows  # noqa: F401  (quiet, offline Prefect defaults before anything imports Prefect)
from flows.clock import RealClock
from tests.flows.support import Stack


@pytest.fixture
def stack(tmp_path):
    s = Stack(tmp_path)
    yield s
    s.close()


@pytest.fixture
def frozen_real(stack, monkeypatch):
    """``clock="real"`` reading the stack's settable clock: a run does what is due at that moment and
    ends, as a scheduled production run does; the test moves the time between runs."""
    monkeypatch.setattr(RealClock, "now", lambda self: stack.clock())
    return stack.clock
