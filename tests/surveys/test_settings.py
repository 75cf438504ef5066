"""The surveys settings: one typed object read once from the environment, each variable with its
default, three falling back on the platform's (the form secret, the proxy hops, the time zone), a
wrong value a ConfigError naming the variable — and SURVEYS_TIMEZONE is the date the public
channels check a campaign's period against."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.common.config import PRODUCTION, Config, ConfigError
from services.surveys.app import create_app
from services.surveys.settings import Settings
from tests.plans.support import FakeClock
from tests.surveys.support import API, Surveys, questionnaire, seed_units


def embedded(**env) -> Config:
    return Config.from_env("surveys", env=env, testing=True)


def test_every_variable_has_its_default():
    s = Settings.from_env(embedded(), env={})
    assert (s.rate_limit_per_minute, s.public_url, s.proxy_hops, s.timezone) == (5, None, 0, "Asia/Jakarta")
    assert (s.csrf_max_age, s.batch_max) == (4 * 3600, 1000)
    assert len(s.form_secret) == 64  # derived from the development JWT secret in embedded mode
    assert Settings.from_env(embedded(), env={}).form_secret == s.form_secret  # the same in every process


def test_variables_are_read_and_fall_back_on_the_platform():
    config = embedded(PROXY_HOPS="1", KINERJA_TIMEZONE="Asia/Makassar")
    s = Settings.from_env(config, env={})
    assert (s.proxy_hops, s.timezone) == (1, "Asia/Makassar")
    s = Settings.from_env(
        config,
        env={
            "SURVEYS_FORM_SECRET": "s" * 40,
            "SURVEYS_RATE_LIMIT_PER_MINUTE": "9",
            "SURVEYS_PUBLIC_URL": "https://layanan.example.go.id/",
            "SURVEYS_PROXY_HOPS": "0",
            "SURVEYS_TIMEZONE": "Asia/Jayapura",
            "SURVEYS_FORM_MAX_AGE": "60",
            "SURVEYS_BATCH_MAX": "10",
        },
    )
    assert s == Settings("s" * 40, 9, "https://layanan.example.go.id", 0, "Asia/Jayapura", 60, 10)


@pytest.mark.parametrize(
    "variable, value",
    [
        ("SURVEYS_RATE_LIMIT_PER_MINUTE", "five"),
        ("SURVEYS_PROXY_HOPS", "-1"),
        ("SURVEYS_TIMEZONE", "Asia/Atlantis"),
        ("SURVEYS_FORM_MAX_AGE", "4h"),
        ("SURVEYS_BATCH_MAX", "1e3"),
    ],
)
def test_a_wrong_value_names_its_variable(variable, value):
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env(embedded(), env={variable: value})


def test_production_wants_its_own_form_secret():
    config = Config(service="surveys", mode=PRODUCTION)
    with pytest.raises(ConfigError, match="set SURVEYS_FORM_SECRET"):
        Settings.from_env(config, env={})
    assert Settings.from_env(config, env={"SURVEYS_FORM_SECRET": "x" * 40}).form_secret == "x" * 40


@pytest.mark.parametrize("zone, accepted", [("Asia/Jakarta", True), ("Asia/Jayapura", False)])
def test_the_public_channels_check_the_period_on_the_surveys_time_zone(tmp_path, zone, accepted):
    # 31 March 16:30 UTC: 23:30 on the campaign's last day in Jakarta, 1 April 01:30 in Jayapura
    clock = FakeClock(datetime(2026, 3, 10, 2, 0, tzinfo=timezone.utc))
    config = Config.from_env("surveys", env={"KINERJA_VAR": str(tmp_path)}, testing=True)
    app = create_app(config, clock=clock, settings=Settings.from_env(config, env={"SURVEYS_TIMEZONE": zone}))
    try:
        seed_units(app)
        sv = Surveys(app, app.test_client())
        c = sv.open()
        clock.set(datetime(2026, 3, 31, 16, 30, tzinfo=timezone.utc))
        r = sv.client.post(f"{API}/public/{c['slug']}/responses", json=questionnaire())
        assert r.status_code == (201 if accepted else 409), r.get_json()
        assert sv.form(c["slug"]).status_code == (200 if accepted else 409)
    finally:
        app.extensions["kinerja"].engine.dispose()
