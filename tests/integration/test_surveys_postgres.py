"""The surveys service on PostgreSQL: migrations, the index by the database's aggregate at a band
boundary, and the guards under concurrency (the per-address rate counted atomically across
requests, a one-time token used once when two kiosks race for it)."""

from __future__ import annotations

import threading

import pytest

from services.common.config import Config
from services.surveys.app import create_app
from services.surveys.settings import Settings
from tests.surveys.support import API, Surveys, questionnaire, seed_units
from tests.surveys.test_domain import _respondents

pytestmark = pytest.mark.integration


@pytest.fixture
def pg(postgres_url):
    cfg = Config.from_env("surveys", env={"SURVEYS_DATABASE_URL": postgres_url}, testing=True)
    app = create_app(cfg, migrate=True, settings=Settings.from_env(cfg, env={"SURVEYS_RATE_LIMIT_PER_MINUTE": "5"}))
    seed_units(app)
    yield Surveys(app, app.test_client())
    app.extensions["kinerja"].engine.dispose()


def _open(sv: Surveys, **overrides) -> dict:
    from datetime import date

    today = date.today().isoformat()
    return sv.open(start_date="2026-01-01", end_date=max(today, "2026-12-31"), **overrides)


def test_index_at_a_band_boundary_on_postgresql(pg):
    c = _open(pg)
    rows = _respondents(1000, 27580)  # 76.61: B
    assert pg.batch(c["id"], [{"answers": a} for a in rows]).status_code == 201
    assert pg.ikm(c["id"]) | {"nrr": None} == {
        "respondents": 1000,
        "nrr": None,
        "ikm": 3.0644,
        "ikm_unit": 76.61,
        "mutu": "B",
        "kinerja": "Baik",
    }
    assert pg.get(f"/ikm?unit_code={c['unit_code']}").get_json()["ikm_unit"] == 76.61


def test_rate_limit_holds_under_concurrent_submissions(pg):
    c = _open(pg)
    url = f"{API}/public/{c['slug']}/responses"
    statuses: list[int] = []
    lock = threading.Lock()

    def submit():
        client = pg.app.test_client()
        r = client.post(url, json=questionnaire(), environ_base={"REMOTE_ADDR": "192.0.2.77"})
        with lock:
            statuses.append(r.status_code)

    threads = [threading.Thread(target=submit) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    # the minute may turn during the run: at most two windows' worth get through
    assert statuses.count(201) in (5, 10) and statuses.count(201) + statuses.count(429) == 12, statuses
    assert pg.responses() == statuses.count(201)


def test_a_token_raced_by_two_kiosks_is_used_once(pg):
    c = _open(pg, tokens=1)
    code = pg.get(f"/campaigns/{c['id']}/tokens").get_json()["items"][0]["code"]
    results: list[int] = []
    barrier = threading.Barrier(4)

    def submit():
        client = pg.app.test_client()
        barrier.wait()
        r = client.post(f"{API}/campaigns/{c['id']}/responses", json=questionnaire(token=code), headers=pg.kiosk)
        results.append(r.status_code)

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results.count(201) == 1 and all(s in (201, 409, 422) for s in results), results
    assert pg.responses() == 1
