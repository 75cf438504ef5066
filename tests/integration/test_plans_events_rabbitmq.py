"""The plans service on PostgreSQL publishing through the real RabbitMQ: an approved SKP reaches
another service's queue as a CloudEvent with its RHK, exactly once even when replayed."""

from __future__ import annotations

import uuid

import pytest
from kombu import Connection, Exchange, Producer
from sqlalchemy import MetaData, create_engine, func, select
from sqlalchemy.orm import sessionmaker

from services.common.auth import issue_token
from services.common.bus import Consumer, Topology, encode_envelope
from services.common.config import Config
from services.common.tables import define_platform_tables
from services.plans.app import create_app
from services.plans.domain import BERAKHLAK

pytestmark = pytest.mark.integration

HEAD = "197001011995031001"
STAFF = "198805122012012002"


def _client_and_app(postgres_url, rabbitmq_url):
    cfg = Config.from_env("plans", env={"PLANS_DATABASE_URL": postgres_url, "BROKER_URL": rabbitmq_url}, testing=True)
    app = create_app(cfg, migrate=True)
    return app, app.test_client(), cfg.jwt_secret


def _approved_plan(client, secret):
    def tok(roles, nip=None):
        return {"Authorization": "Bearer " + issue_token(secret, roles=roles, agency="PKTD", nip=nip, sub=nip)}

    assert (
        client.post(
            "/plans/api/v1/agencies", json={"code": "PKTD", "name": "Kota Teluk Damar"}, headers=tok(["admin"])
        ).status_code
        == 201
    )
    hr = tok(["hr"])
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
    iki = [
        {"aspect": "kuantitas", "indicator": "Jumlah pasien dilayani", "target_value": 2400, "target_unit": "pasien"}
    ]
    head = client.post(
        "/plans/api/v1/plans",
        headers=tok(["employee", "supervisor"], HEAD),
        json={
            "cycle_id": cycle["id"],
            "approach": "kuantitatif",
            "behaviour": behaviour,
            "rhk": [
                {
                    "kind": "utama",
                    "description": "Meningkatnya cakupan pelayanan kesehatan dasar",
                    "organisation_goal": "Cakupan pelayanan kesehatan dasar 95 %",
                    "iki": iki,
                }
            ],
        },
    ).json
    staff = client.post(
        "/plans/api/v1/plans",
        headers=tok(["employee"], STAFF),
        json={
            "cycle_id": cycle["id"],
            "approach": "kuantitatif",
            "behaviour": behaviour,
            "rhk": [
                {
                    "kind": "utama",
                    "description": "Terlaksananya asuhan keperawatan rawat jalan",
                    "parent_rhk_id": head["rhk"][0]["id"],
                    "iki": iki,
                }
            ],
        },
    ).json
    assert client.post(f"/plans/api/v1/plans/{staff['id']}/submit", headers=tok(["employee"], STAFF)).status_code == 200
    r = client.post(f"/plans/api/v1/plans/{staff['id']}/approve", headers=tok(["employee", "supervisor"], HEAD))
    assert r.status_code == 200, r.json
    return staff


def test_approved_plan_reaches_a_consumer_once_even_when_replayed(postgres_url, rabbitmq_url, tmp_path):
    app, client, secret = _client_and_app(postgres_url, rabbitmq_url)
    topo = Topology.isolated(f"it{uuid.uuid4().hex[:8]}.")
    platform = app.extensions["kinerja"]

    # the consumer side: another service's inbox in its own database
    md = MetaData()
    tables = define_platform_tables(md)
    engine = create_engine(f"sqlite:///{tmp_path}/reviews.db")
    md.create_all(engine)
    applied: list[dict] = []
    consumer = Consumer(
        "reviews",
        sessionmaker(engine),
        tables,
        rabbitmq_url,
        {"plans.plan.approved": lambda s, ev: applied.append(ev)},
        topology=topo,
    )
    consumer.drain(timeout=0.2)  # declares the queue and its bindings before anything is published
    relay = platform.relay(topology=topo)
    try:
        staff = _approved_plan(client, secret)
        published = relay.run_once()
        assert published >= 6  # unit, 2 employees, cycle opened + stage changed, submitted, approved
        assert relay.pending() == 0
        deadline = 50
        while not applied and deadline:
            consumer.drain(timeout=0.2)
            deadline -= 1
        assert len(applied) == 1
        ev = applied[0]
        assert ev["type"] == "plans.plan.approved" and ev["source"] == "/plans" and ev["specversion"] == "1.0"
        assert ev["subject"] == str(staff["id"])
        assert ev["data"]["employee_nip"] == STAFF and ev["data"]["penilai_nip"] == HEAD
        assert ev["data"]["rhk"][0]["iki"][0]["target_value"] == 2400
        assert ev["traceparent"].startswith("00-")

        # replay: the same CloudEvent published again has no second effect
        with Connection(rabbitmq_url) as conn:
            Producer(conn.channel(), exchange=Exchange(topo.exchange, type="topic"), auto_declare=False).publish(
                encode_envelope(ev),
                routing_key=ev["type"],
                content_type="application/cloudevents+json",
                delivery_mode=2,
            )
        for _ in range(5):
            consumer.drain(timeout=0.2)
        assert len(applied) == 1
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(tables.inbox)) == 1
    finally:
        relay.close()
        consumer.close()
        with Connection(rabbitmq_url) as conn:
            ch = conn.channel()
            for q in (topo.queue("reviews"), topo.dlq("reviews"), topo.unrouted_queue):
                ch.queue_delete(q)
            for x in (topo.exchange, topo.unrouted_exchange, topo.dlx):
                ch.exchange_delete(x)
        platform.engine.dispose()
        engine.dispose()
