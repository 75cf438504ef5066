"""Event bus on kombu memory:// and SQLite: envelope, outbox relay, idempotent consumer."""

from __future__ import annotations

import contextlib
import json
import re
import sys
import time
import types
import uuid
from datetime import datetime, timezone

import pytest
from kombu import Connection, Producer, Queue
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select

from services.common import bus
from services.common.bus.inbox import inbox_insert_many
from services.common.db import make_engine, make_session_factory, transaction
from services.common.tables import define_platform_tables

MEMORY = "memory://"
T0 = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)


# --------------------------------------------------------------------------- fixtures


class Env:
    """A service database (SQLite file), an isolated topology on memory:// and helpers."""

    def __init__(self, tmp_path, unique):
        self.engine = make_engine(f"sqlite:///{(tmp_path / 'svc.db').as_posix()}")
        metadata = MetaData()
        self.tables = define_platform_tables(metadata)
        self.effects = Table(
            "effects",
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("event_id", String(36), nullable=False),
            Column("note", String(80)),
        )
        metadata.create_all(self.engine)
        self.factory = make_session_factory(self.engine)
        self.topology = bus.Topology.isolated(f"u{unique}.")
        self.service = "svc"
        self.conn = Connection(MEMORY, transport_options={"polling_interval": 0.01})
        self._closing = []

    # -- database

    def emit(self, type_="svc.thing.happened", subject="1", data=None, fail=False):
        """Write an event to the outbox in a transaction (rolled back when ``fail``)."""
        env = bus.make_event(type_, "/svc", subject, data or {})
        with pytest.raises(RuntimeError) if fail else contextlib.nullcontext():
            with transaction(self.factory) as session:
                bus.add_to_outbox(session, self.tables, env, bus.utcnow())
                if fail:
                    raise RuntimeError("boom")
        return env

    def effect_count(self, event_id=None):
        with self.factory() as s:
            q = select(func.count()).select_from(self.effects)
            if event_id:
                q = q.where(self.effects.c.event_id == event_id)
            return s.execute(q).scalar_one()

    def inbox_count(self):
        with self.factory() as s:
            return s.execute(select(func.count()).select_from(self.tables.inbox)).scalar_one()

    def outbox_rows(self):
        with self.factory() as s:
            return s.execute(select(self.tables.outbox).order_by(self.tables.outbox.c.id)).all()

    # -- broker

    def relay(self, **kw):
        r = bus.Relay(self.factory, self.tables, kw.pop("url", MEMORY), topology=self.topology, **kw)
        self._closing.append(r)
        return r

    def consumer(self, handlers, **kw):
        c = bus.Consumer(self.service, self.factory, self.tables, MEMORY, handlers, topology=self.topology, **kw)
        self._closing.append(c)
        return c

    def declare(self, bindings=("#",)):
        bus.declare_topology(self.conn, self.topology, self.service, bindings)

    def publish_raw(self, body, routing_key, headers=None, content_type=bus.CONTENT_TYPE):
        Producer(self.conn.default_channel, auto_declare=False).publish(
            body,
            exchange=self.topology.exchange,
            routing_key=routing_key,
            content_type=content_type,
            content_encoding="utf-8",
            headers=headers or {},
            delivery_mode=2,
        )

    def get_all(self, queue_name):
        out = []
        q = Queue(queue_name, no_declare=True, channel=self.conn.default_channel)
        while (m := q.get(no_ack=True)) is not None:
            out.append(m)
        return out

    def record(self, note="ok"):
        def handler(session, envelope):
            session.execute(self.effects.insert().values(event_id=envelope["id"], note=note))

        return handler

    def close(self):
        for c in self._closing:
            c.close()
        self.conn.release()
        self.engine.dispose()


@pytest.fixture
def env(tmp_path, unique):
    e = Env(tmp_path, unique)
    yield e
    e.close()


def drain_until(consumer, predicate, deadline=5.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        consumer.drain(timeout=0.05)
        if predicate():
            return
    raise AssertionError("condition not reached before the deadline")


# --------------------------------------------------------------------------- envelope


def test_make_event_shape():
    env = bus.make_event("plans.plan.approved", "/plans", "42", {"plan_id": 42})
    assert set(env) == {
        "specversion",
        "id",
        "source",
        "type",
        "time",
        "subject",
        "datacontenttype",
        "data",
        "traceparent",
    }
    assert env["specversion"] == "1.0"
    assert str(uuid.UUID(env["id"])) == env["id"] and uuid.UUID(env["id"]).version == 4
    assert env["source"] == "/plans" and env["type"] == "plans.plan.approved" and env["subject"] == "42"
    assert env["datacontenttype"] == "application/json" and env["data"] == {"plan_id": 42}
    assert env["time"].endswith("Z")
    assert datetime.fromisoformat(env["time"]).tzinfo is not None
    assert abs((datetime.fromisoformat(env["time"]) - bus.utcnow()).total_seconds()) < 5
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", env["traceparent"])
    assert bus.make_event("a.b.c", "/x", "1", {})["traceparent"] != env["traceparent"]
    json.dumps(env)  # structured mode: plain JSON


def test_make_event_uses_given_values():
    tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    eid = str(uuid.uuid4())
    env = bus.make_event("a.b.c", "/a", "s", {"k": 1}, traceparent=tp, time=T0, event_id=eid)
    assert env["traceparent"] == tp and env["id"] == eid
    assert env["time"] == "2025-01-02T03:04:05.678901Z"
    naive = bus.make_event("a.b.c", "/a", "s", {}, time=datetime(2025, 1, 2, 3, 4, 5))
    assert naive["time"] == "2025-01-02T03:04:05.000000Z"


def test_validate_accepts_bytes_and_str():
    env = bus.make_event("a.b.c", "/a", "s", {"x": [1, 2]})
    raw = json.dumps(env)
    assert bus.validate_envelope(raw) == env
    assert bus.validate_envelope(raw.encode()) == env
    assert bus.validate_envelope(env) is env


@pytest.mark.parametrize(
    "attribute", ["specversion", "id", "source", "type", "time", "subject", "datacontenttype", "data", "traceparent"]
)
def test_validate_names_missing_attribute(attribute):
    env = bus.make_event("a.b.c", "/a", "s", {})
    del env[attribute]
    with pytest.raises(bus.InvalidEvent) as info:
        bus.validate_envelope(env)
    assert attribute in info.value.reason and "missing" in info.value.reason
    assert info.value.attribute == attribute


@pytest.mark.parametrize(
    "attribute, value",
    [
        ("specversion", "0.3"),
        ("id", "not-a-uuid"),
        ("id", 7),
        ("source", ""),
        ("type", "plans.*.approved"),
        ("type", "plans..approved"),
        ("type", "x" * 121),
        ("time", "yesterday"),
        ("time", "2025-01-02T03:04:05"),  # no offset
        ("subject", None),
        ("datacontenttype", "text/plain"),
        ("data", [1, 2]),
        ("traceparent", "00-abc-01"),
        ("traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
    ],
)
def test_validate_names_invalid_attribute(attribute, value):
    env = bus.make_event("a.b.c", "/a", "s", {})
    env[attribute] = value
    with pytest.raises(bus.InvalidEvent) as info:
        bus.validate_envelope(env)
    assert f"'{attribute}'" in info.value.reason


@pytest.mark.parametrize("body", [b"not json", b"\xff\xfe", "[1, 2]", b'"text"'])
def test_validate_rejects_non_envelopes(body):
    with pytest.raises(bus.InvalidEvent):
        bus.validate_envelope(body)


def test_make_event_validates():
    with pytest.raises(bus.InvalidEvent):
        bus.make_event("bad type", "/a", "s", {})


def test_topology_names():
    t = bus.Topology()
    assert (t.exchange, t.unrouted_exchange, t.unrouted_queue, t.dlx) == (
        "kinerja.events",
        "kinerja.unrouted",
        "kinerja.unrouted",
        "kinerja.dlx",
    )
    assert t.queue("plans") == "plans.events" and t.dlq("plans") == "plans.events.dlq"
    p = bus.Topology.isolated("t1.")
    assert p.exchange == "t1.kinerja.events" and p.dlx == "t1.kinerja.dlx"
    assert p.queue("plans") == "t1.plans.events" and p.dlq("plans") == "t1.plans.events.dlq"


@pytest.mark.parametrize(
    "pattern, key, expected",
    [
        ("a.b.c", "a.b.c", True),
        ("a.b.c", "a.b.d", False),
        ("a.*.c", "a.b.c", True),
        ("a.*", "a.b.c", False),
        ("a.#", "a", True),
        ("a.#", "a.b.c", True),
        ("#", "x.y", True),
        ("#.c", "a.b.c", True),
        ("a.#.c", "a.c", True),
        ("a.#.c", "a.b.d", False),
        ("*.b.*", "a.b.c", True),
    ],
)
def test_topic_matches(pattern, key, expected):
    assert bus.topic_matches(pattern, key) is expected


# --------------------------------------------------------------------------- outbox + relay


def test_outbox_written_only_when_transaction_commits(env):
    env.declare()
    relay = env.relay()
    env.emit(fail=True)
    assert env.outbox_rows() == [] and relay.pending() == 0
    assert relay.run_once() == 0
    assert env.get_all(env.topology.queue(env.service)) == []

    kept = env.emit()
    assert relay.pending() == 1
    assert relay.run_once() == 1
    messages = env.get_all(env.topology.queue(env.service))
    assert [json.loads(m.body)["id"] for m in messages] == [kept["id"]]


def test_add_to_outbox_validates(env):
    with env.factory() as s:
        with pytest.raises(bus.InvalidEvent):
            bus.add_to_outbox(s, env.tables, {"specversion": "1.0"}, bus.utcnow())


def test_relay_publishes_in_order_and_marks_sent(env):
    env.declare(bindings=("svc.#",))
    sent_at = datetime(2030, 1, 1, tzinfo=timezone.utc)
    relay = env.relay(clock=lambda: sent_at, batch_size=2)
    events = [env.emit(subject=str(i), data={"n": i}) for i in range(5)]

    assert [relay.run_once() for _ in range(3)] == [2, 2, 1]  # batch_size
    assert relay.run_once() == 0 and relay.pending() == 0
    rows = env.outbox_rows()
    assert all(r.sent_at is not None and r.sent_at.replace(tzinfo=timezone.utc) == sent_at for r in rows)
    assert all(r.attempts == 0 and r.last_error is None for r in rows)

    messages = env.get_all(env.topology.queue(env.service))
    assert [json.loads(m.body) for m in messages] == events
    m = messages[0]
    assert m.content_type == "application/cloudevents+json"
    assert m.properties["delivery_mode"] == 2
    assert m.delivery_info["routing_key"] == "svc.thing.happened"
    assert relay.run_once() == 0
    assert env.get_all(env.topology.queue(env.service)) == []


def test_relay_with_unreachable_broker_records_error_and_returns(env):
    env.emit()
    relay = env.relay(url="amqp://guest:guest@127.0.0.1:1//", confirm_timeout=1.0)
    started = time.monotonic()
    assert relay.run_once() == 0
    assert time.monotonic() - started < 3
    (row,) = env.outbox_rows()
    assert row.sent_at is None and row.attempts == 1 and row.last_error
    assert relay.last_error and relay.pending() == 1
    assert relay.run_once() == 0
    assert env.outbox_rows()[0].attempts == 2

    good = env.relay()
    env.declare()
    assert good.run_once() == 1 and good.pending() == 0


def test_unroutable_event_is_dropped_on_memory(env):
    env.declare(bindings=("svc.thing.happened",))
    env.emit(type_="svc.other.happened")
    relay = env.relay()
    assert relay.run_once() == 1 and relay.pending() == 0
    assert env.get_all(env.topology.queue(env.service)) == []


# --------------------------------------------------------------------------- consumer


def test_consumer_applies_once_and_duplicate_has_no_second_effect(env):
    consumer = env.consumer({"svc.thing.happened": env.record()})
    consumer.drain(timeout=0.01)  # declares the queue and its bindings
    e = env.emit()
    assert env.relay().run_once() == 1
    drain_until(consumer, lambda: env.effect_count() == 1)

    # the same event delivered again (replay, redelivery after a lost ack)
    env.publish_raw(bus.encode_envelope(e), e["type"])
    env.publish_raw(bus.encode_envelope(e), e["type"])
    assert consumer.drain(timeout=0.05) == 2
    assert env.effect_count() == 1 and env.inbox_count() == 1
    assert env.get_all(env.topology.dlq(env.service)) == []


def test_handler_failing_twice_then_succeeding_is_applied_once(env):
    calls = []
    record = env.record()

    def flaky(session, envelope):
        calls.append(envelope["id"])
        record(session, envelope)  # written, then rolled back by the failure
        if len(calls) <= 2:
            raise RuntimeError(f"transient #{len(calls)}")

    consumer = env.consumer({"svc.#": flaky}, max_attempts=5)
    consumer.drain(timeout=0.01)
    e = env.emit()
    env.relay().run_once()
    drain_until(consumer, lambda: env.effect_count() == 1)
    consumer.drain(timeout=0.05)
    assert len(calls) == 3 and set(calls) == {e["id"]}
    assert env.effect_count(e["id"]) == 1 and env.inbox_count() == 1
    assert env.get_all(env.topology.dlq(env.service)) == []
    assert env.get_all(env.topology.queue(env.service)) == []


def test_poison_message_ends_in_dlq_and_next_message_is_processed(env):
    calls = []
    record = env.record()

    def handler(session, envelope):
        calls.append(envelope["data"])
        if envelope["data"].get("poison"):
            raise ValueError("cannot apply this")
        record(session, envelope)

    consumer = env.consumer({"svc.thing.happened": handler}, max_attempts=3)
    consumer.drain(timeout=0.01)
    bad = env.emit(data={"poison": True})
    good = env.emit(data={"poison": False})
    env.relay().run_once()
    drain_until(consumer, lambda: env.effect_count(good["id"]) == 1)
    drain_until(consumer, lambda: len([c for c in calls if c.get("poison")]) == 3)
    consumer.drain(timeout=0.05)

    assert len([c for c in calls if c.get("poison")]) == 3  # max_attempts, then no more
    (dead,) = env.get_all(env.topology.dlq(env.service))
    assert json.loads(dead.body) == bad
    assert dead.headers["x-kinerja-attempts"] == 3
    assert "ValueError: cannot apply this" in dead.headers["x-kinerja-error"]
    assert dead.properties["delivery_mode"] == 2
    assert env.effect_count() == 1 and env.inbox_count() == 1  # the failed one left no inbox row
    assert env.get_all(env.topology.queue(env.service)) == []


def test_reject_goes_to_dlq_at_once(env):
    calls = []

    def handler(session, envelope):
        calls.append(1)
        raise bus.Reject("unknown plan")

    consumer = env.consumer({"svc.#": handler}, max_attempts=5)
    consumer.drain(timeout=0.01)
    env.emit()
    env.relay().run_once()
    drain_until(consumer, lambda: bool(calls))
    consumer.drain(timeout=0.05)
    assert calls == [1]
    (dead,) = env.get_all(env.topology.dlq(env.service))
    assert dead.headers["x-kinerja-attempts"] == 1 and "unknown plan" in dead.headers["x-kinerja-error"]
    assert env.inbox_count() == 0


@pytest.mark.parametrize("body", [b"{not json", json.dumps({"specversion": "1.0"}).encode()])
def test_invalid_message_goes_to_dlq(env, body):
    consumer = env.consumer({"svc.#": env.record()})
    consumer.drain(timeout=0.01)
    env.publish_raw(body, "svc.thing.happened")
    assert consumer.drain(timeout=0.05) == 1
    (dead,) = env.get_all(env.topology.dlq(env.service))
    assert dead.body == body
    assert dead.headers["x-kinerja-error"].startswith("invalid event:")
    assert env.effect_count() == 0 and env.inbox_count() == 0


def test_dispatch_to_first_matching_handler(env):
    seen = []
    consumer = env.consumer(
        {
            "svc.plan.*": lambda s, e: seen.append(("plan", e["type"])),
            "svc.#": lambda s, e: seen.append(("any", e["type"])),
        }
    )
    consumer.drain(timeout=0.01)
    env.emit(type_="svc.plan.approved")
    env.emit(type_="svc.review.done")
    env.emit(type_="other.plan.approved")  # not bound: never delivered
    env.relay().run_once()
    drain_until(consumer, lambda: len(seen) == 2)
    assert seen == [("plan", "svc.plan.approved"), ("any", "svc.review.done")]


def test_traceparent_is_set_into_context_when_available(env, monkeypatch):
    got = []
    fake = types.ModuleType("services.common.context")
    fake.set_traceparent = got.append
    monkeypatch.setitem(sys.modules, "services.common.context", fake)
    consumer = env.consumer({"svc.#": env.record()})
    consumer.drain(timeout=0.01)
    e = env.emit()
    env.relay().run_once()
    drain_until(consumer, lambda: env.effect_count() == 1)
    assert got == [e["traceparent"]]


def test_database_failure_before_inbox_requeues_the_message(env):
    consumer = env.consumer({"svc.#": env.record()})
    consumer.drain(timeout=0.01)
    e = env.emit()
    env.relay().run_once()
    real_factory = consumer.session_factory

    class Broken:
        def __init__(self):
            self.s = real_factory()

        def execute(self, *a, **k):
            raise RuntimeError("database is down")

        def __getattr__(self, name):
            return getattr(self.s, name)

    consumer.session_factory = Broken
    with pytest.raises(Exception, match="database is down"):
        consumer.drain(timeout=0.05)
    consumer.session_factory = real_factory
    drain_until(consumer, lambda: env.effect_count(e["id"]) == 1)
    assert env.get_all(env.topology.dlq(env.service)) == []


def test_bus_worker_relays_and_consumes(env):
    consumer = env.consumer({"svc.#": env.record()})
    relay = env.relay()
    consumer.drain(timeout=0.01)
    worker = bus.BusWorker([relay], [consumer], interval=0.01)
    worker.start()
    try:
        events = [env.emit(subject=str(i)) for i in range(3)]
        end = time.monotonic() + 5
        while env.effect_count() < 3 and time.monotonic() < end:
            time.sleep(0.01)
        assert env.effect_count() == 3
        assert {e["id"] for e in events} == {r.event_id for r in _effects(env)}
    finally:
        worker.stop()
    assert not worker.is_alive()


def _effects(env):
    with env.factory() as s:
        return s.execute(select(env.effects)).all()


@pytest.fixture(params=["sqlite", "postgresql"])
def inbox_db(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/inbox.db"
    return request.getfixturevalue("postgres_url")  # a fresh database, dropped afterwards


def test_a_batch_in_the_inbox_reports_only_the_events_not_yet_applied(inbox_db):
    """One statement a batch (``unnest`` on PostgreSQL, ``VALUES`` on SQLite): an event already
    recorded for this consumer, or twice in the batch, is reported new once at most; another
    consumer's record of the same event does not count."""
    metadata = MetaData()
    tables = define_platform_tables(metadata)
    engine = make_engine(inbox_db)
    metadata.create_all(engine)
    factory = make_session_factory(engine)
    now = datetime.now(timezone.utc)
    a, b, c = ({"id": str(uuid.uuid4()), "type": "plans.skp.submitted"} for _ in range(3))
    try:
        with transaction(factory) as s:
            assert inbox_insert_many(s, tables, [a], "reviews", now) == {a["id"]}
            assert inbox_insert_many(s, tables, [b], "notifications", now) == {b["id"]}
        with transaction(factory) as s:
            assert inbox_insert_many(s, tables, [a, b, c, c], "reviews", now) == {b["id"], c["id"]}
        with factory() as s:
            rows = s.execute(select(tables.inbox.c.event_id, tables.inbox.c.consumer, tables.inbox.c.type)).all()
        assert sorted(rows) == sorted(
            [(a["id"], "reviews", a["type"]), (b["id"], "notifications", b["type"]), (b["id"], "reviews", b["type"])]
            + [(c["id"], "reviews", c["type"])]
        )
    finally:
        engine.dispose()
