"""The loop into appraisal through the real RabbitMQ: the surveys service on PostgreSQL closes a
campaign and its relay publishes ``surveys.ikm.computed``; the plans service on its own PostgreSQL
database consumes it with its Consumer and records the index as the mapped IKI's realisation.
Replaying the same event records nothing new."""

from __future__ import annotations

import uuid

import pytest
from kombu import Connection, Exchange, Producer
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from services.common.auth import issue_token
from services.common.bus import Topology, encode_envelope
from services.common.config import Config
from services.common.db import drop_database, ensure_database
from services.plans import events as plans_events
from services.plans.app import create_app as create_plans
from services.plans.domain import BERAKHLAK
from services.surveys.app import create_app as create_surveys
from services.surveys.settings import Settings
from tests.surveys.support import seed_units

pytestmark = pytest.mark.integration

HEAD = "197001011995031001"
STAFF = "198805122012012002"
AGENCY = "PKTD"


def _tok(secret, roles, nip=None):
    return {"Authorization": "Bearer " + issue_token(secret, roles=roles, agency=AGENCY, nip=nip, sub=nip or "hr@pktd")}


def _plans_with_mapped_iki(client, secret) -> dict:
    hr = _tok(secret, ["hr"])
    assert (
        client.post(
            "/plans/api/v1/agencies", json={"code": AGENCY, "name": "Kota Teluk Damar"}, headers=_tok(secret, ["admin"])
        ).status_code
        == 201
    )
    assert (
        client.post("/plans/api/v1/units", json={"code": "PKM-01", "name": "Puskesmas Teluk"}, headers=hr).status_code
        == 201
    )
    for nip, sup, pos in ((HEAD, None, "Kepala Puskesmas"), (STAFF, HEAD, "Perawat Ahli Pertama")):
        r = client.post(
            "/plans/api/v1/employees",
            headers=hr,
            json={
                "nip": nip,
                "name": f"Pegawai {nip[-3:]}",
                "position": pos,
                "unit_code": "PKM-01",
                "superior_nip": sup,
            },
        )
        assert r.status_code == 201, r.json
    cycle = client.post("/plans/api/v1/cycles", headers=hr, json={"year": 2026, "period_type": "quarterly"}).json
    assert (
        client.post(f"/plans/api/v1/cycles/{cycle['id']}/advance", headers=hr, json={"expected": "draft"}).status_code
        == 200
    )
    behaviour = {v: "Melayani pasien dengan ramah" for v in BERAKHLAK}
    head = client.post(
        "/plans/api/v1/plans",
        headers=_tok(secret, ["employee", "supervisor"], HEAD),
        json={
            "cycle_id": cycle["id"],
            "approach": "kuantitatif",
            "behaviour": behaviour,
            "rhk": [
                {
                    "kind": "utama",
                    "description": "Meningkatnya mutu pelayanan kesehatan dasar",
                    "organisation_goal": "IKM puskesmas minimal 85",
                    "iki": [
                        {"aspect": "kualitas", "indicator": "IKM Puskesmas", "target_value": 85, "target_unit": "nilai"}
                    ],
                }
            ],
        },
    ).json
    staff = client.post(
        "/plans/api/v1/plans",
        headers=_tok(secret, ["employee"], STAFF),
        json={
            "cycle_id": cycle["id"],
            "approach": "kuantitatif",
            "behaviour": behaviour,
            "rhk": [
                {
                    "kind": "utama",
                    "description": "Pasien rawat jalan puas dengan asuhan keperawatan",
                    "parent_rhk_id": head["rhk"][0]["id"],
                    "iki": [
                        {
                            "aspect": "kualitas",
                            "indicator": "IKM rawat jalan",
                            "target_value": 85,
                            "target_unit": "nilai IKM",
                            "satisfaction_unit_code": "PKM-01",
                        }
                    ],
                }
            ],
        },
    ).json
    assert (
        client.post(f"/plans/api/v1/plans/{staff['id']}/submit", headers=_tok(secret, ["employee"], STAFF)).status_code
        == 200
    )
    r = client.post(
        f"/plans/api/v1/plans/{staff['id']}/approve", headers=_tok(secret, ["employee", "supervisor"], HEAD)
    )
    assert r.status_code == 200, r.json
    r = client.post(f"/plans/api/v1/cycles/{cycle['id']}/advance", headers=hr, json={"expected": "planning"})
    assert r.status_code == 200 and r.json["stage"] == "monitoring", r.json
    return staff


def test_closed_campaign_reaches_the_mapped_iki_through_rabbitmq_once(postgres_url, rabbitmq_url):
    plans_url = (
        make_url(postgres_url)
        .set(database=make_url(postgres_url).database + "_plans")
        .render_as_string(hide_password=False)
    )
    ensure_database(plans_url)
    topo = Topology.isolated(f"it{uuid.uuid4().hex[:8]}.")
    plans_app = create_plans(
        Config.from_env("plans", env={"PLANS_DATABASE_URL": plans_url, "BROKER_URL": rabbitmq_url}, testing=True),
        migrate=True,
    )
    scfg = Config.from_env(
        "surveys", env={"SURVEYS_DATABASE_URL": postgres_url, "BROKER_URL": rabbitmq_url}, testing=True
    )
    surveys_app = create_surveys(scfg, migrate=True, settings=Settings.from_env(scfg, env={}))
    seed_units(surveys_app, {AGENCY: [("PKM-01", "Puskesmas Teluk Damar")]})  # its read model of plans' units
    plans_platform, surveys_platform = plans_app.extensions["kinerja"], surveys_app.extensions["kinerja"]
    consumer = plans_platform.consumer(plans_events.CONSUMES, topology=topo)
    relay = surveys_platform.relay(topology=topo)
    try:
        consumer.drain(timeout=0.2)  # declares plans.events bound to surveys.ikm.computed
        plans, surveys = plans_app.test_client(), surveys_app.test_client()
        secret = plans_platform.config.jwt_secret
        staff = _plans_with_mapped_iki(plans, secret)
        iki_id = staff["rhk"][0]["iki"][0]["id"]

        hr = _tok(secret, ["hr"])
        c = surveys.post(
            "/surveys/api/v1/campaigns",
            headers=hr,
            json={
                "unit_code": "PKM-01",
                "service_type": "Rawat jalan",
                "start_date": "2026-01-01",
                "end_date": "2026-03-31",
                "population": 1200,
            },
        ).json
        assert surveys.post(f"/surveys/api/v1/campaigns/{c['id']}/open", headers=hr).status_code == 200
        batch = [
            {"answers": {u: (4 if i % 3 else 3) for u in ("U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "U9")}}
            for i in range(30)
        ]
        assert (
            surveys.post(f"/surveys/api/v1/campaigns/{c['id']}/responses:batch", headers=hr, json=batch).status_code
            == 201
        )
        assert surveys.post(f"/surveys/api/v1/campaigns/{c['id']}/close", headers=hr).status_code == 200
        ikm = surveys.get(f"/surveys/api/v1/campaigns/{c['id']}/ikm", headers=hr).json
        assert ikm["ikm_unit"] == 91.67 and ikm["mutu"] == "A"  # (20·4 + 10·3)/30 = 3.6667 × 25

        assert relay.run_once() >= 4  # opened, response recorded, closed, ikm computed
        assert relay.pending() == 0

        def realisations():
            r = plans.get(f"/plans/api/v1/plans/{staff['id']}/realisations?period_seq=1", headers=hr)
            assert r.status_code == 200, r.json
            return r.json

        for _ in range(50):  # bounded poll, no bare sleep
            consumer.drain(timeout=0.2)
            if realisations():
                break
        got = realisations()
        assert len(got) == 1
        assert (got[0]["iki_id"], got[0]["value"], got[0]["source"]) == (iki_id, 91.67, "surveys.ikm")
        version = got[0]["version"]

        # replay: the same CloudEvent published again is skipped by the inbox
        from services.surveys.models import platform_tables as st

        with surveys_platform.session_factory() as s:
            envelope = s.execute(
                select(st.outbox.c.envelope).where(st.outbox.c.type == "surveys.ikm.computed")
            ).scalar_one()
        with Connection(rabbitmq_url) as conn:
            Producer(conn.channel(), exchange=Exchange(topo.exchange, type="topic"), auto_declare=False).publish(
                encode_envelope(envelope),
                routing_key=envelope["type"],
                content_type="application/cloudevents+json",
                delivery_mode=2,
            )
        for _ in range(5):
            consumer.drain(timeout=0.2)
        again = realisations()
        assert len(again) == 1 and again[0]["version"] == version
        from services.plans.models import platform_tables as pt

        with plans_platform.session_factory() as s:
            assert s.scalar(select(func.count()).select_from(pt.inbox)) == 1
            audits = s.scalar(select(func.count()).select_from(pt.audit).where(pt.audit.c.actor == "system:surveys"))
            assert audits == 1
    finally:
        relay.close()
        consumer.close()
        with Connection(rabbitmq_url) as conn:
            ch = conn.channel()
            for q in (topo.queue("plans"), topo.dlq("plans"), topo.unrouted_queue):
                ch.queue_delete(q)
            for x in (topo.exchange, topo.unrouted_exchange, topo.dlx):
                ch.exchange_delete(x)
        plans_platform.engine.dispose()
        surveys_platform.engine.dispose()
        drop_database(plans_url)
