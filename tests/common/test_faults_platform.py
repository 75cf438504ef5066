"""What the fault suite (tests/faults/test_topology_faults.py) found, held by fast tests: a database that
does not answer is a 503 problem+json (not a 500), and dead letters are counted where ``/metrics`` sees
them (the service's database, written by the worker process)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from types import SimpleNamespace

from kombu import Connection, Producer
from sqlalchemy import MetaData, text

from services.common import bus
from services.common.config import Config
from services.common.tables import define_platform_tables


def _app(tmp_path, database_url: str):
    from services.common.app import create_service_app

    md = MetaData()
    tables = define_platform_tables(md)
    config = Config.from_env("demo", env={"DATABASE_URL": database_url})
    clock = lambda: datetime(2026, 3, 1, 9, tzinfo=timezone.utc)  # noqa: E731
    models, events = SimpleNamespace(platform_tables=tables), SimpleNamespace(PUBLISHES=[])
    app = create_service_app(config, tmp_path, models, events, [], clock=clock, migrate=False)
    return app, tables


def test_a_database_that_does_not_answer_is_a_503_problem_not_a_500(tmp_path):
    app, _ = _app(tmp_path, "postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2")
    platform = app.extensions["kinerja"]

    def probe():
        with platform.uow() as s:
            s.execute(text("SELECT 1"))
        return {"ok": True}

    app.add_url_rule("/demo/probe", view_func=probe)
    r = app.test_client().get("/demo/probe")
    assert r.status_code == 503, r.get_data(as_text=True)[:300]
    assert r.mimetype == "application/problem+json" and r.headers["Retry-After"] == "5"
    body = r.get_json()
    assert body["code"] == "database.unavailable" and "tidak ada yang disimpan" in body["detail"]


def test_dead_letters_are_counted_by_reason_in_the_services_metrics(tmp_path):
    app, tables = _app(tmp_path, f"sqlite:///{tmp_path}/demo.db")
    platform = app.extensions["kinerja"]
    tables.dead_letters.metadata.create_all(platform.engine)
    topology = bus.Topology.isolated(f"dl{uuid.uuid4().hex[:8]}.")

    def refuse(session, envelope):
        raise bus.Reject("wrong payload")

    consumer = platform.consumer({"demo.thing.#": refuse}, topology=topology)
    consumer.drain(timeout=0.01)  # declares the queue and its bindings
    with Connection("memory://") as conn:
        producer = Producer(conn.default_channel, auto_declare=False)
        queue = topology.queue("demo")
        for body, key in (
            (b"{not json", queue),
            (json.dumps(bus.make_event("demo.thing.happened", "/demo", "1", {})).encode(), queue),
            (json.dumps(bus.make_event("demo.other.happened", "/demo", "1", {})).encode(), queue),
        ):
            producer.publish(body, exchange="", routing_key=key, content_type=bus.CONTENT_TYPE)
    assert consumer.drain(timeout=0.05) == 3
    consumer.close()
    metrics = app.test_client().get("/demo/metrics").get_data(as_text=True)
    for reason, count in (("invalid", 1), ("rejected", 1), ("unknown_type", 1), ("failed", 0)):
        assert f'kinerja_events_dead_lettered_total{{reason="{reason}",service="demo"}} {count}.0' in metrics, metrics


def test_a_bus_worker_tries_a_failed_broker_again_within_5_s():
    """After a 30 s RabbitMQ outage the workers waited up to 30 s more before they tried again."""
    from services.common.bus import BusWorker

    worker, relay = BusWorker([], []), object()
    for _ in range(12):  # a long outage: every attempt failed
        worker._after(relay, True)
    assert worker._backoff[id(relay)][1] <= 5.0
    worker._after(relay, False)
    assert worker._due(relay)
