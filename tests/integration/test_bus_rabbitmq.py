"""Event bus against the real RabbitMQ and PostgreSQL: confirms, persistence, alternate
exchange, DLX, redelivery, outage recovery and concurrent relays."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
from kombu import Connection, Producer, Queue
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select

from services.common import bus
from services.common.db import make_engine, make_session_factory, transaction
from services.common.tables import define_platform_tables

pytestmark = pytest.mark.integration

SERVICE = "svc"
CLOSED_PORT_URL = "amqp://guest:guest@127.0.0.1:1//"


class Crash(BaseException):
    """Stands for the process dying in the middle of a handler."""


class Env:
    def __init__(self, postgres_url, rabbitmq_url, unique):
        self.url = rabbitmq_url
        self.engine = make_engine(postgres_url)
        metadata = MetaData()
        self.tables = define_platform_tables(metadata)
        self.effects = Table(
            "effects",
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("event_id", String(36), nullable=False),
        )
        metadata.create_all(self.engine)
        self.factory = make_session_factory(self.engine)
        self.topology = bus.Topology.isolated(f"it{unique}.")
        self.queue = self.topology.queue(SERVICE)
        self.dlq = self.topology.dlq(SERVICE)
        self.conn = Connection(rabbitmq_url)
        self._closing = []

    def emit(self, type_="svc.thing.happened", data=None):
        env = bus.make_event(type_, "/svc", "1", data or {})
        with transaction(self.factory) as session:
            bus.add_to_outbox(session, self.tables, env, bus.utcnow())
        return env

    def emit_many(self, n):
        envs = [bus.make_event("svc.thing.happened", "/svc", str(i), {"n": i}) for i in range(n)]
        with transaction(self.factory) as session:
            for e in envs:
                bus.add_to_outbox(session, self.tables, e, bus.utcnow())
        return envs

    def publish_copies(self, envelope, n):
        """Publish ``envelope`` ``n`` times straight to the exchange (a replay, a redelivery)."""
        producer = Producer(self.conn.default_channel, auto_declare=False)
        for _ in range(n):
            producer.publish(
                bus.encode_envelope(envelope),
                exchange=self.topology.exchange,
                routing_key=envelope["type"],
                content_type=bus.CONTENT_TYPE,
                content_encoding="utf-8",
                delivery_mode=2,
            )

    def relay(self, url=None, **kw):
        r = bus.Relay(self.factory, self.tables, url or self.url, topology=self.topology, **kw)
        self._closing.append(r)
        return r

    def consumer(self, handlers, **kw):
        c = bus.Consumer(SERVICE, self.factory, self.tables, self.url, handlers, topology=self.topology, **kw)
        self._closing.append(c)
        return c

    def declare(self, bindings=("svc.#",)):
        bus.declare_topology(self.conn, self.topology, SERVICE, bindings)

    def record(self, session, envelope):
        session.execute(self.effects.insert().values(event_id=envelope["id"]))

    def effect_count(self):
        with self.factory() as s:
            return s.execute(select(func.count()).select_from(self.effects)).scalar_one()

    def outbox_rows(self):
        with self.factory() as s:
            return s.execute(select(self.tables.outbox).order_by(self.tables.outbox.c.id)).all()

    def message_count(self, name):
        return self.conn.default_channel.queue_declare(queue=name, passive=True).message_count

    def get_all(self, name):
        q = Queue(name, no_declare=True, channel=self.conn.default_channel)
        out = []
        while (m := q.get(no_ack=True)) is not None:
            out.append(m)
        return out

    def wait_for(self, predicate, deadline=10.0, step=None):
        end = time.monotonic() + deadline
        while True:
            if step:
                step()
            if predicate():
                return
            if time.monotonic() > end:
                raise AssertionError("condition not reached before the deadline")
            if not step:
                time.sleep(0.02)

    def close(self):
        for c in self._closing:
            c.close()
        channel = self.conn.default_channel
        for name in (self.queue, self.dlq, self.topology.unrouted_queue):
            channel.queue_delete(queue=name)
        for name in (self.topology.exchange, self.topology.unrouted_exchange, self.topology.dlx):
            channel.exchange_delete(exchange=name)
        self.conn.release()
        self.engine.dispose()


@pytest.fixture
def env(postgres_url, rabbitmq_url, unique):
    e = Env(postgres_url, rabbitmq_url, unique)
    yield e
    e.close()


def test_topology_declared_twice_is_fine(env):
    env.declare(bindings=("svc.a.*", "svc.#"))
    env.declare(bindings=("svc.a.*", "svc.#"))
    with Connection(env.url) as other:  # another process/connection declaring the same
        bus.declare_topology(other, env.topology, SERVICE, ("svc.#",))
        bus.declare_topology(other, env.topology)
    assert env.message_count(env.queue) == 0
    assert env.message_count(env.dlq) == 0
    assert env.message_count(env.topology.unrouted_queue) == 0


def test_queue_dead_letter_arguments_catch_rejected_messages(env):
    env.declare()
    Producer(env.conn.default_channel, auto_declare=False).publish(
        b"x", exchange="", routing_key=env.queue, content_type="text/plain", content_encoding="utf-8"
    )
    env.wait_for(lambda: env.message_count(env.queue) == 1)
    m = Queue(env.queue, no_declare=True, channel=env.conn.default_channel).get()
    m.reject(requeue=False)  # rejected outside our consumer: the broker dead-letters it
    env.wait_for(lambda: env.message_count(env.dlq) == 1)
    (dead,) = env.get_all(env.dlq)
    assert dead.body in (b"x", "x") and dead.headers["x-death"][0]["queue"] == env.queue


def test_relay_delivers_persistent_messages_with_confirms(env):
    env.declare()
    relay = env.relay()
    events = [env.emit(data={"n": i}) for i in range(3)]
    assert relay.run_once() == 3
    # (confirms are on: see test_a_nacked_batch_leaves_exactly_the_nacked_rows_pending)
    assert relay.run_once() == 0 and relay.pending() == 0
    assert all(r.sent_at is not None for r in env.outbox_rows())

    env.wait_for(lambda: env.message_count(env.queue) == 3)
    messages = env.get_all(env.queue)
    assert [json.loads(m.body) for m in messages] == events
    for m in messages:
        assert m.properties["delivery_mode"] == 2
        assert m.content_type == "application/cloudevents+json"
        assert m.delivery_info["routing_key"] == "svc.thing.happened"
        assert m.properties["message_id"] == json.loads(m.body)["id"]


def test_unroutable_event_lands_in_unrouted_queue(env):
    env.declare(bindings=("svc.thing.happened",))
    lost = env.emit(type_="nobody.listens.here")
    assert env.relay().run_once() == 1
    env.wait_for(lambda: env.message_count(env.topology.unrouted_queue) == 1)
    (m,) = env.get_all(env.topology.unrouted_queue)
    assert json.loads(m.body)["id"] == lost["id"]
    assert env.message_count(env.queue) == 0


def test_replayed_event_has_no_second_effect(env):
    consumer = env.consumer({"svc.thing.happened": env.record})
    consumer.drain(timeout=0.01)
    e = env.emit()
    assert env.relay().run_once() == 1
    env.wait_for(lambda: env.effect_count() == 1, step=lambda: consumer.drain(timeout=0.05))

    env.publish_copies(e, 2)  # replay, e.g. after a lost ack or a relay crash before marking sent
    env.wait_for(lambda: env.message_count(env.queue) == 0, step=lambda: consumer.drain(timeout=0.05))
    consumer.drain(timeout=0.05)
    assert env.effect_count() == 1
    with env.factory() as s:
        assert s.execute(select(func.count()).select_from(env.tables.inbox)).scalar_one() == 1


def test_unacked_message_is_redelivered_after_connection_loss(env):
    calls = []

    def dies(session, envelope):
        calls.append(1)
        raise Crash()  # simulated crash mid-handler: no ack, no commit

    consumer = env.consumer({"svc.#": dies})
    consumer.drain(timeout=0.01)
    env.emit()
    env.relay().run_once()
    with pytest.raises(Crash):
        env.wait_for(lambda: False, step=lambda: consumer.drain(timeout=0.05))
    consumer._drop()  # the process died: the broker requeues the unacked delivery
    fresh = env.consumer({"svc.#": env.record})
    env.wait_for(lambda: env.effect_count() == 1, step=lambda: fresh.drain(timeout=0.05))
    assert calls == [1]


def test_poison_message_goes_to_dlq_while_next_messages_flow(env):
    attempts = []

    def handler(session, envelope):
        if envelope["data"].get("poison"):
            attempts.append(1)
            raise ValueError("bad data")
        env.record(session, envelope)

    consumer = env.consumer({"svc.#": handler}, max_attempts=3, prefetch=10)
    consumer.drain(timeout=0.01)
    bad = env.emit(data={"poison": True})
    goods = [env.emit(data={"n": i}) for i in range(3)]
    assert env.relay().run_once() == 4

    env.wait_for(lambda: env.effect_count() == 3 and len(attempts) == 3, step=lambda: consumer.drain(timeout=0.05))
    consumer.drain(timeout=0.1)
    assert len(attempts) == 3
    consumer.close()
    assert env.message_count(env.queue) == 0
    (dead,) = env.get_all(env.dlq)
    assert json.loads(dead.body)["id"] == bad["id"]
    assert dead.headers["x-kinerja-attempts"] == 3
    assert "ValueError: bad data" in dead.headers["x-kinerja-error"]
    assert dead.properties["delivery_mode"] == 2
    assert len(goods) == env.effect_count()


def test_event_written_during_outage_is_delivered_later(env):
    env.declare()
    e = env.emit()
    down = env.relay(url=CLOSED_PORT_URL, confirm_timeout=1.0)
    started = time.monotonic()
    assert down.run_once() == 0
    assert time.monotonic() - started < 3
    (row,) = env.outbox_rows()
    assert row.sent_at is None and row.attempts == 1 and row.last_error
    assert down.pending() == 1

    up = env.relay()
    assert up.run_once() == 1 and up.pending() == 0
    env.wait_for(lambda: env.message_count(env.queue) == 1)
    (m,) = env.get_all(env.queue)
    assert json.loads(m.body)["id"] == e["id"]
    assert env.outbox_rows()[0].attempts == 1  # history of the failed attempt is kept


def test_relay_drops_connection_after_broker_error_and_recovers(env):
    env.declare()
    relay = env.relay()
    env.emit()
    assert relay.run_once() == 1
    relay._publisher._conn._transport._sock.shutdown(socket.SHUT_RDWR)  # the connection breaks under the relay
    env.emit()
    assert relay.run_once() == 0
    assert not relay._publisher.connected and relay.last_error
    assert relay.pending() == 1 and env.outbox_rows()[-1].attempts == 1
    assert relay.run_once() == 1  # reconnected lazily
    env.wait_for(lambda: env.message_count(env.queue) == 2)


def test_a_nacked_batch_leaves_exactly_the_nacked_rows_pending(env):
    """The broker nacks what a full queue refuses (``x-overflow: reject-publish``): of five events
    the two it confirmed are marked sent, the three it nacked stay unsent with an attempt and the
    error, and are published again (once there is room) — nothing lost, nothing marked sent
    without its confirm. (The unrouted test below covers a message no queue takes.)"""
    full = f"{env.topology.prefix}full"
    channel = env.conn.default_channel
    env.declare()
    channel.queue_declare(queue=full, durable=True, arguments={"x-max-length": 2, "x-overflow": "reject-publish"})
    channel.queue_bind(queue=full, exchange=env.topology.exchange, routing_key="svc.#")
    try:
        events = env.emit_many(5)
        relay = env.relay()
        assert relay.run_once() == 2
        rows = env.outbox_rows()
        assert [r.sent_at is not None for r in rows] == [True, True, False, False, False]
        assert [r.attempts for r in rows] == [0, 0, 1, 1, 1]
        assert "nack" in rows[2].last_error and relay.last_error
        assert relay.pending() == 3
        env.get_all(full)  # room again
        assert relay.run_once() == 2 and relay.pending() == 1
        env.get_all(full)
        assert relay.run_once() == 1 and relay.pending() == 0
        # the service queue had room: it got each nacked message too, and again when republished
        # (at least once; the consumers' inbox makes the copies harmless) — 5 + 3 + 1
        env.wait_for(lambda: env.message_count(env.queue) == 9)
        ids = [json.loads(m.body)["id"] for m in env.get_all(env.queue)]
        assert set(ids) == {e["id"] for e in events} and ids[:5] == [e["id"] for e in events]
    finally:
        channel.queue_delete(queue=full)


def test_confirms_that_never_come_leave_the_batch_pending_after_the_timeout(env, monkeypatch):
    env.declare()
    env.emit_many(3)
    relay = env.relay(confirm_timeout=0.5)
    relay._pika()  # the publisher, whose confirms are then lost
    monkeypatch.setattr(relay._publisher, "_on_confirm", lambda frame: None)
    relay._publisher._connect()
    started = time.monotonic()
    assert relay.run_once() == 0
    assert 0.4 < time.monotonic() - started < 3
    rows = env.outbox_rows()
    assert all(r.sent_at is None and r.attempts == 1 and "confirm" in r.last_error for r in rows)
    assert not relay._publisher.connected  # never reused after a timeout
    monkeypatch.undo()
    assert relay.run_once() == 3 and relay.pending() == 0


def test_a_large_batch_is_marked_sent_in_one_round(env):
    env.declare()
    env.emit_many(1200)
    relay = env.relay(batch_size=500)
    assert [relay.run_once() for _ in range(4)] == [500, 500, 200, 0]
    env.wait_for(lambda: env.message_count(env.queue) == 1200)


def test_two_relays_publish_each_row_exactly_once(env):
    env.declare()
    events = env.emit_many(300)
    relays = [env.relay(batch_size=25), env.relay(batch_size=25)]
    counts = [0, 0]
    errors = []
    start = threading.Barrier(2)

    def run(i):
        try:
            start.wait(5)
            end = time.monotonic() + 20
            while relays[i].pending() and time.monotonic() < end:
                counts[i] += relays[i].run_once()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert sum(counts) == 300
    assert all(counts), f"both relays should have published: {counts}"
    env.wait_for(lambda: env.message_count(env.queue) == 300)
    ids = [json.loads(m.body)["id"] for m in env.get_all(env.queue)]
    assert len(ids) == 300 and set(ids) == {e["id"] for e in events}


def test_bus_worker_end_to_end(env):
    consumer = env.consumer({"svc.#": env.record})
    worker = bus.BusWorker([env.relay()], [consumer], interval=0.01)
    worker.start()
    try:
        for _ in range(5):
            env.emit()
        env.wait_for(lambda: env.effect_count() == 5)
    finally:
        worker.stop()
    assert not worker.is_alive()


def test_events_written_before_the_worker_starts_reach_its_consumers(env):
    """A fresh broker (no queue declared yet) and events already in the outbox when the worker
    starts: its first round declares the consumers' queues before the relay publishes, so none of
    them is unroutable (it once raced: the relay went first and the events went to kinerja.unrouted)."""
    for _ in range(5):
        env.emit()
    worker = bus.BusWorker([env.relay()], [env.consumer({"svc.#": env.record})], interval=0.01)
    worker.start()
    try:
        env.wait_for(lambda: env.effect_count() == 5)
    finally:
        worker.stop()
    assert env.message_count(env.topology.unrouted_queue) == 0


def test_several_consumers_of_one_queue_share_its_events_and_apply_each_once(env):
    """Two consumers of one queue (two worker processes for a moment, bench/events_e2e.py --consumers)
    take turns on it: each handler records which consumer applied the event; both take a share, and
    every event is applied exactly once, none left on the queue."""
    applied_by: dict[str, str] = {}

    def handler(name):
        def run(session, envelope):
            time.sleep(0.002)  # a handler's database round trip: the other consumer's turn meanwhile
            applied_by[envelope["id"]] = name
            env.record(session, envelope)

        return run

    consumers = [env.consumer({"svc.#": handler(f"c{i}")}, prefetch=10) for i in range(2)]
    worker = bus.BusWorker([env.relay()], consumers, interval=0.01)
    worker.start()
    try:
        events = env.emit_many(400)
        env.wait_for(lambda: env.effect_count() == 400, deadline=60)
    finally:
        worker.stop()
    with env.factory() as s:
        assert sorted(s.scalars(select(env.effects.c.event_id))) == sorted(e["id"] for e in events)
    assert set(applied_by.values()) == {"c0", "c1"}
    assert env.message_count(env.queue) == 0


# --------------------------------------------------------------------------- batches and wake-ups


def _commits(engine) -> list:
    from sqlalchemy import event

    seen: list = []
    event.listen(engine, "commit", lambda conn: seen.append(1))
    return seen


def test_a_batch_of_events_is_applied_in_a_few_transactions_each_event_once(env):
    consumer = env.consumer({"svc.#": env.record})
    consumer.drain(timeout=0.01)
    events = env.emit_many(60)
    assert env.relay().run_once() == 60
    time.sleep(0.3)  # the broker pushes the deliveries (prefetch) to the consumer's socket
    commits = _commits(env.engine)
    env.wait_for(lambda: env.effect_count() == 60, step=lambda: consumer.drain(timeout=0.05))
    assert consumer.batch == consumer.prefetch == 100
    assert 1 <= len(commits) <= 6  # not one per event
    with env.factory() as s:
        assert set(s.scalars(select(env.effects.c.event_id))) == {e["id"] for e in events}
        assert s.execute(select(func.count()).select_from(env.tables.inbox)).scalar_one() == 60
    consumer.close()
    assert env.message_count(env.queue) == 0  # all acked


def test_events_trickling_in_a_few_milliseconds_apart_share_a_transaction(env):
    """A steady trickle (a year's people acting) is applied in batches too: the batch waits
    ``linger`` seconds after its first event for more, instead of committing each alone."""
    consumer = env.consumer({"svc.#": env.record}, linger=0.5)
    consumer.drain(timeout=0.01)
    commits = _commits(env.engine)
    events = [bus.make_event("svc.thing.happened", "/svc", str(i), {"n": i}) for i in range(5)]

    def trickle():
        for e in events:
            env.publish_copies(e, 1)
            time.sleep(0.02)

    publisher = threading.Thread(target=trickle)
    publisher.start()
    env.wait_for(lambda: env.effect_count() == 5, step=lambda: consumer.drain(timeout=0.05))
    publisher.join()
    assert 1 <= len(commits) <= 2, f"{len(commits)} transactions for 5 events"
    consumer.close()
    assert env.message_count(env.queue) == 0  # all acked


def test_a_handler_failing_inside_a_batch_leaves_the_others_applied_and_is_retried_alone(env):
    failed = []

    def handler(session, envelope):
        if envelope["data"]["n"] == 4 and not failed:
            failed.append(envelope["id"])
            env.record(session, envelope)  # written, then rolled back with the failure
            raise ValueError("first attempt fails")
        env.record(session, envelope)

    consumer = env.consumer({"svc.#": handler})
    consumer.drain(timeout=0.01)
    env.emit_many(10)
    env.relay().run_once()
    time.sleep(0.3)  # the broker pushes the deliveries (prefetch) to the consumer's socket
    env.wait_for(lambda: env.effect_count() == 10, step=lambda: consumer.drain(timeout=0.05))
    consumer.drain(timeout=0.2)
    with env.factory() as s:
        ids = list(s.scalars(select(env.effects.c.event_id)))
    assert len(ids) == len(set(ids)) == 10 and failed[0] in ids
    consumer.close()
    assert env.message_count(env.queue) == 0 and env.message_count(env.dlq) == 0


def test_the_same_event_twice_in_one_batch_is_applied_once(env):
    consumer = env.consumer({"svc.#": env.record})
    consumer.drain(timeout=0.01)
    e = bus.make_event("svc.thing.happened", "/svc", "1", {})
    env.publish_copies(e, 3)  # a redelivery beside the original, as after a relay's timeout
    time.sleep(0.3)  # the broker pushes the deliveries (prefetch) to the consumer's socket
    consumer.drain(timeout=0.2)
    assert env.effect_count() == 1
    consumer.close()
    assert env.message_count(env.queue) == 0


def test_a_crash_inside_a_batch_commits_nothing_and_the_batch_is_applied_once_later(env):
    calls = []

    def dies_on_the_third(session, envelope):
        calls.append(envelope["id"])
        env.record(session, envelope)
        if len(calls) == 3:
            raise Crash()

    consumer = env.consumer({"svc.#": dies_on_the_third})
    consumer.drain(timeout=0.01)
    env.emit_many(5)
    env.relay().run_once()
    time.sleep(0.3)  # the broker pushes the deliveries (prefetch) to the consumer's socket
    with pytest.raises(Crash):
        consumer.drain(timeout=0.2)
    assert env.effect_count() == 0  # the two before the crash went with it
    consumer._drop()  # the process died: the broker requeues the unacked deliveries
    fresh = env.consumer({"svc.#": env.record})
    env.wait_for(lambda: env.effect_count() == 5, step=lambda: fresh.drain(timeout=0.05))
    fresh.drain(timeout=0.2)
    assert env.effect_count() == 5


def test_the_worker_wakes_on_the_outbox_commit_not_on_its_poll(env):
    """LISTEN/NOTIFY: with a 60 s safety poll, an event still arrives within a second or two, and
    stopping the worker does not wait for the poll either."""
    worker = bus.BusWorker([env.relay()], [env.consumer({"svc.#": env.record})], poll=60)
    worker.start()
    try:
        time.sleep(1.0)  # the relay has looked once and sleeps on LISTEN
        for n in range(3):
            env.emit(data={"n": n})
            env.wait_for(lambda n=n: env.effect_count() == n + 1, deadline=5)
            time.sleep(0.3)
    finally:
        started = time.monotonic()
        worker.stop()
        stopped_in = time.monotonic() - started
    assert not worker.is_alive() and stopped_in < 5
