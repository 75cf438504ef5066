"""The units surveys checks campaigns against: fed by ``plans.unit.upserted`` through the bus, and
rebuilt from the plans API when surveys missed them (a deployment started after the directory was
imported): until then a campaign for a real unit is refused, after it accepted."""

from __future__ import annotations

import httpx
from sqlalchemy import delete, select

from services.surveys.models import UnitRef
from tests.plans.support import problem
from tests.rebuild_origin import served
from tests.surveys.test_plans_loop import emb, org  # noqa: F401  (fixtures: plans and surveys embedded)

SURVEYS = "/surveys/api/v1"
BODY = {"unit_code": "SEK-A", "service_type": "Rawat jalan", "start_date": "2026-01-01", "end_date": "2026-03-31"}


def _units(runner) -> set[tuple[str, str]]:
    with runner.apps["surveys"].extensions["kinerja"].session_factory() as s:
        return {(u.agency_code, u.code) for u in s.scalars(select(UnitRef))}


def test_the_bus_feeds_the_units_and_a_rebuild_restores_them(emb, org, monkeypatch):  # noqa: F811
    assert {("PKMB", "DINAS"), ("PKMB", "SEK-A"), ("PKMB", "SEK-B"), ("PKMB", "PKM-01")} <= _units(emb)
    with emb.apps["surveys"].extensions["kinerja"].session_factory() as s, s.begin():
        s.execute(delete(UnitRef))  # the events never reached surveys
    body = problem(org.client.post(f"{SURVEYS}/campaigns", headers=org.hr, json=BODY | {"population": 50}), 422)
    assert [e["code"] for e in body["errors"]] == ["unit.unknown"]
    problem(org.client.post(f"{SURVEYS}/read-model/rebuild", headers=org.as_(org.STAFF_A[0])), 403)
    with served(emb.wsgi, monkeypatch) as (base, targets, listener):
        r = httpx.post(f"{base}{SURVEYS}/read-model/rebuild", headers=org.hr, timeout=30)
        assert r.status_code == 200, r.text
        assert r.json()["counts"] == {"units": 5}
        assert targets == [base] and listener.received == []  # the token went to this server only
    assert ("PKMB", "SEK-A") in _units(emb)
    r = org.client.post(f"{SURVEYS}/campaigns", headers=org.hr, json=BODY | {"population": 50})
    assert r.status_code == 201 and r.get_json()["unit_name"] == "Seksi Perencanaan", r.get_json()
    audit = org.client.get(f"{SURVEYS}/audit", headers=org.hr).get_json()
    items = audit["items"] if isinstance(audit, dict) else audit
    assert any(i["action"] == "readmodel.rebuilt" and i["after"] == {"units": 5} for i in items)


def test_production_without_plans_url_refuses_to_guess(emb, org, monkeypatch):  # noqa: F811
    monkeypatch.setattr(emb.apps["surveys"].extensions["kinerja"].config, "mode", "production")
    body = problem(org.client.post(f"{SURVEYS}/read-model/rebuild", headers=org.hr), 503)
    assert body["code"] == "readmodel.plans_url_missing" and "PLANS_URL" in body["detail"]
