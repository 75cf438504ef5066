"""Fixtures of the plans API tests: ``plans_app`` on a temporary SQLite file with a settable clock
(migrations run automatically in embedded mode), ``client``, ``tokens`` and ``org`` — the small
agency of :mod:`tests.plans.support`, seeded through the API itself."""

from __future__ import annotations

import pytest

from services.common.config import Config
from services.plans.app import create_app
from tests.plans.support import FakeClock, Org, Tokens, seed


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def plans_app(tmp_path, clock):
    app = create_app(Config.from_env("plans", env={"KINERJA_VAR": str(tmp_path)}, testing=True), clock=clock)
    yield app
    app.extensions["kinerja"].engine.dispose()


@pytest.fixture
def client(plans_app):
    return plans_app.test_client()


@pytest.fixture
def tokens(plans_app) -> Tokens:
    return Tokens(plans_app.extensions["kinerja"].config.jwt_secret)


@pytest.fixture
def org(plans_app, client, tokens, clock) -> Org:
    o = Org(plans_app, client, tokens, clock)
    seed(o)
    return o


@pytest.fixture
def team(org):
    """Head (draft), kasi A and staff A[0] approved, and the cycle in monitoring period 1."""
    hp, ka, sa = org.team_a()
    org.advance_to("monitoring:1:check_in")
    return hp, ka, sa
