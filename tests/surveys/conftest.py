"""Fixtures of the surveys tests: ``surveys_app`` on a temporary SQLite file with a settable clock
(migrations run automatically in embedded mode) and a rate limit of 3 per minute, ``sv`` to act on
it, ``campaign`` — an open campaign of agency PKTD for Q1 2026."""

from __future__ import annotations

import pytest

from services.common.config import Config
from services.surveys.app import create_app
from services.surveys.settings import Settings
from tests.plans.support import FakeClock
from tests.surveys.support import NOW, Surveys, seed_units


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def surveys_app(tmp_path, clock):
    config = Config.from_env("surveys", env={"KINERJA_VAR": str(tmp_path)}, testing=True)
    settings = Settings.from_env(config, env={"SURVEYS_RATE_LIMIT_PER_MINUTE": "3"})
    app = create_app(config, clock=clock, settings=settings)
    seed_units(app)
    yield app
    app.extensions["kinerja"].engine.dispose()


@pytest.fixture
def sv(surveys_app) -> Surveys:
    return Surveys(surveys_app, surveys_app.test_client())


@pytest.fixture
def campaign(sv) -> dict:
    return sv.open()
