"""The loop into appraisal, in the embedded runner (plans + surveys, in-process bus): a closed
campaign's index becomes the realisation of the IKI mapped to the unit's satisfaction, for the
period containing the campaign's end date — once, however often the event comes."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from werkzeug.test import Client

from kinerja.embedded import Embedded
from services.common.bus import Topology
from services.plans.models import platform_tables as plans_tables
from services.surveys.models import platform_tables
from tests.plans.support import HEAD, KASI_A, FakeClock, Org, Tokens, iki, rhk, seed
from tests.surveys.support import questionnaire

SURVEYS = "/surveys/api/v1"


@pytest.fixture
def emb(tmp_path):
    clock = FakeClock()
    e = Embedded(
        env={"KINERJA_VAR": str(tmp_path)},
        clock=clock,
        services=("plans", "surveys"),
        topology=Topology.isolated(f"t{uuid.uuid4().hex[:8]}."),
    )
    e.clock = clock
    yield e
    e.close()


@pytest.fixture
def org(emb) -> Org:
    plans_app = emb.apps["plans"]
    o = Org(plans_app, Client(emb.wsgi), Tokens(plans_app.extensions["kinerja"].config.jwt_secret), emb.clock)
    seed(o)
    # the units the campaigns survey: surveys learns them from plans.unit.upserted
    r = o.import_csv("units", "code,name,parent_code\nPKM-01,Puskesmas Teluk Damar,DINAS\nDISDUK,Disdukcapil,DINAS\n")
    assert r.status_code == 200, r.get_json()
    emb.pump()
    return o


def _mapped_plan(org: Org) -> dict:
    """Kasi A's approved SKP: one RHK with a satisfaction IKI mapped to unit PKM-01 and a count IKI."""
    hp = org.head_plan()
    plan = org.approved_plan(
        KASI_A,
        [
            rhk(
                "Meningkatnya kepuasan pengguna layanan",
                parent=hp["rhk"][0]["id"],
                ikis=[
                    iki(
                        "kualitas",
                        80,
                        "nilai IKM",
                        indicator="Indeks kepuasan masyarakat unit",
                        satisfaction_unit_code="PKM-01",
                    ),
                    iki("kuantitas", 2400, "pasien"),
                ],
            )
        ],
        approver=HEAD,
    )
    assert plan["rhk"][0]["iki"][0]["satisfaction_unit_code"] == "PKM-01"
    assert plan["rhk"][0]["iki"][1]["satisfaction_unit_code"] is None
    return plan


def _campaign(org: Org, answers_value: int = 4, n: int = 3) -> tuple[dict, dict]:
    hr = org.hr  # HR of PKMB acts in both services
    c = org.client.post(
        f"{SURVEYS}/campaigns",
        headers=hr,
        json={
            "unit_code": "PKM-01",
            "service_type": "Rawat jalan",
            "start_date": "2026-01-01",
            "end_date": "2026-03-31",
            "population": 500,
        },
    ).get_json()
    assert org.client.post(f"{SURVEYS}/campaigns/{c['id']}/open", headers=hr).status_code == 200
    r = org.client.post(
        f"{SURVEYS}/campaigns/{c['id']}/responses:batch",
        headers=hr,
        json=[questionnaire(answers_value)] * (n - 1) + [questionnaire(3)],
    )
    assert r.status_code == 201, r.get_json()
    return c, hr


def _realisations(org: Org, plan_id: int) -> list[dict]:
    r = org.get(f"/plans/{plan_id}/realisations?period_seq=1", org.hr)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_plan_content_keeps_the_satisfaction_mapping(org):
    plan = _mapped_plan(org)
    version = org.get(f"/plans/{plan['id']}/versions/1", org.hr).get_json()
    assert version["snapshot"]["rhk"][0]["iki"][0]["satisfaction_unit_code"] == "PKM-01"
    too_long = org.create_plan(
        org.STAFF_A[0], [rhk("x", parent=plan["rhk"][0]["id"], ikis=[iki(satisfaction_unit_code="X" * 41)])], expect=422
    )
    assert any(e["field"].endswith("satisfaction_unit_code") for e in too_long["errors"])


def test_closing_a_campaign_records_the_index_as_the_mapped_iki_realisation_once(emb, org):
    plan = _mapped_plan(org)
    org.advance_to("monitoring:1:check_in")
    c, hr = _campaign(org)
    assert org.client.post(f"{SURVEYS}/campaigns/{c['id']}/close", headers=hr).status_code == 200
    ikm = org.client.get(f"{SURVEYS}/campaigns/{c['id']}/ikm", headers=hr).get_json()
    emb.pump()
    got = _realisations(org, plan["id"])
    assert len(got) == 1
    r = got[0]
    assert r["iki_id"] == plan["rhk"][0]["iki"][0]["id"] and r["period_seq"] == 1
    assert r["value"] == ikm["ikm_unit"] and r["source"] == "surveys.ikm" and r["recorded_by"] == "system:surveys"
    assert "PKM-01" in r["note"] and "3 responden" in r["note"]
    version = r["version"]

    # the same index published again: nothing new is recorded
    assert org.client.post(f"{SURVEYS}/campaigns/{c['id']}/ikm:publish", headers=hr).status_code == 202
    emb.pump()
    again = _realisations(org, plan["id"])
    assert len(again) == 1 and again[0]["version"] == version

    # the very same event delivered twice: the inbox applies it once
    surveys = emb.platform("surveys")
    with surveys.session_factory() as s:
        envelope = s.execute(
            select(platform_tables.outbox.c.envelope)
            .where(platform_tables.outbox.c.type == "surveys.ikm.computed")
            .order_by(platform_tables.outbox.c.id)
        ).first()[0]
        # a second outbox row carrying the same CloudEvent (same id): a redelivery
        s.execute(
            platform_tables.outbox.insert().values(
                event_id=str(uuid.uuid4()), type=envelope["type"], envelope=envelope, created_at=emb.clock(), attempts=0
            )
        )
        s.commit()
    emb.pump()
    plans = emb.platform("plans")
    with plans.session_factory() as s:
        inbox = s.scalar(
            select(func.count())
            .select_from(plans_tables.inbox)
            .where(plans_tables.inbox.c.type == "surveys.ikm.computed")
        )
    assert inbox == 2  # the close and the on-demand publish; the duplicate was skipped
    assert _realisations(org, plan["id"])[0]["version"] == version


def test_a_changed_index_updates_the_realisation(emb, org):
    plan = _mapped_plan(org)
    org.advance_to("monitoring:1:check_in")
    c, hr = _campaign(org)
    org.client.post(f"{SURVEYS}/campaigns/{c['id']}/ikm:publish", headers=hr)
    emb.pump()
    first = _realisations(org, plan["id"])[0]["value"]
    org.client.post(f"{SURVEYS}/campaigns/{c['id']}/responses:batch", headers=hr, json=[questionnaire(1)] * 3)
    org.client.post(f"{SURVEYS}/campaigns/{c['id']}/ikm:publish", headers=hr)
    emb.pump()
    second = _realisations(org, plan["id"])[0]["value"]
    assert second < first


def test_no_realisation_while_the_cycle_takes_none_or_for_other_units(emb, org):
    plan = _mapped_plan(org)  # the cycle is still in planning
    c, hr = _campaign(org)
    org.client.post(f"{SURVEYS}/campaigns/{c['id']}/close", headers=hr)
    emb.pump()
    assert _realisations(org, plan["id"]) == []
    org.advance_to("monitoring:1:check_in")
    other = org.client.post(
        f"{SURVEYS}/campaigns",
        headers=hr,
        json={
            "unit_code": "DISDUK",
            "service_type": "KTP-el",
            "start_date": "2026-01-01",
            "end_date": "2026-03-31",
            "population": 50,
        },
    ).get_json()
    org.client.post(f"{SURVEYS}/campaigns/{other['id']}/open", headers=hr)
    org.client.post(f"{SURVEYS}/campaigns/{other['id']}/responses", headers=hr, json=questionnaire(2))
    org.client.post(f"{SURVEYS}/campaigns/{other['id']}/close", headers=hr)
    emb.pump()
    assert _realisations(org, plan["id"]) == []


def test_surveys_is_mounted_in_the_embedded_runner_with_its_docs(emb):
    client = Client(emb.wsgi)
    assert client.get("/surveys/healthz").get_json() == {"status": "ok", "service": "surveys"}
    assert client.get("/healthz").get_json()["services"]["surveys"] == "/surveys/"
    spec = client.get("/surveys/openapi.json").get_json()
    for path in (
        "/surveys/api/v1/sample-size",
        "/surveys/api/v1/campaigns/{campaign_id}/responses:batch",
        "/surveys/api/v1/campaigns/{campaign_id}/ikm",
        "/surveys/api/v1/campaigns/{campaign_id}/ikm:publish",
        "/surveys/api/v1/campaigns/{campaign_id}/responses:import",
        "/surveys/api/v1/ikm",
        "/surveys/api/v1/public/{slug}/responses",
    ):
        assert path in spec["paths"], path
    assert spec["paths"]["/surveys/api/v1/sample-size"]["get"]["security"] == []
    body = spec["paths"]["/surveys/api/v1/campaigns/{campaign_id}/responses"]["post"]["requestBody"]
    assert "answers" in str(body) or "$ref" in str(body)
    # the API still wants a token outside the public paths
    assert client.get("/surveys/api/v1/campaigns").status_code == 401
