"""The in-process bus (memory://, the embedded mode) marks an outbox row sent only once every consumer
bound to its type has recorded it (``Relay.confirm_by``): what memory:// loses is published again."""

from __future__ import annotations

import json
import time

import pytest
from kombu import Queue

from services.common import bus
from tests.common.test_bus import Env, drain_until


@pytest.fixture
def env(tmp_path, unique):
    e = Env(tmp_path, unique)
    yield e
    e.close()


def _purge(env):
    """What memory:// holds when the process dies: nothing."""
    Queue(env.topology.queue(env.service), no_declare=True, channel=env.conn.default_channel).purge()


def test_in_process_relay_marks_a_row_sent_only_once_its_consumer_recorded_it(env):
    consumer = env.consumer({"svc.#": env.record()})
    consumer.drain(timeout=0.01)
    relay = env.relay()
    relay.confirm_by([consumer])
    events = [env.emit(subject=str(i)) for i in range(3)]

    assert relay.run_once() == 3  # handed to memory://, not sent yet
    assert relay.pending() == 3 and all(r.sent_at is None for r in env.outbox_rows())
    assert relay.run_once() == 0  # nor published twice
    assert consumer.drain(timeout=0.01) == 3 and env.effect_count() == 3
    assert relay.run_once() == 3 and relay.pending() == 0  # recorded in the inbox: sent
    assert [r.event_id for r in env.outbox_rows()] == [e["id"] for e in events]


def test_in_process_events_lost_with_the_process_are_published_again_and_applied_once(env):
    consumer = env.consumer({"svc.#": env.record()})
    consumer.drain(timeout=0.01)
    relay = env.relay()
    relay.confirm_by([consumer])
    first, second = env.emit(subject="1"), env.emit(subject="2")
    assert relay.run_once() == 2
    assert consumer.drain(timeout=0.01, max_messages=1) == 1  # the first applied, then the process dies
    relay.close(), consumer.close()
    _purge(env)

    again = env.consumer({"svc.#": env.record()})  # the restarted process
    again.drain(timeout=0.01)
    relay = env.relay()
    relay.confirm_by([again])
    assert relay.run_once() == 2  # both unsent: both published again
    assert again.drain(timeout=0.01) == 2  # the first skipped by the inbox
    assert env.effect_count(first["id"]) == 1 and env.effect_count(second["id"]) == 1
    assert relay.run_once() == 2 and relay.pending() == 0


def test_in_process_event_lost_inside_the_process_is_published_again(env):
    consumer = env.consumer({"svc.#": env.record()})
    consumer.drain(timeout=0.01)
    relay = env.relay(redeliver_after=0.05)
    relay.confirm_by([consumer])
    e = env.emit()
    assert relay.run_once() == 1
    _purge(env)
    time.sleep(0.06)
    assert relay.run_once() == 1  # still unrecorded after redeliver_after: published again
    drain_until(consumer, lambda: env.effect_count(e["id"]) == 1)
    assert relay.run_once() == 1 and relay.pending() == 0


def test_in_process_poison_message_is_dead_lettered_without_blocking_and_then_counts_as_sent(env):
    def handler(session, envelope):
        if envelope["data"].get("poison"):
            raise ValueError("cannot apply this")
        env.record()(session, envelope)

    consumer = env.consumer({"svc.thing.happened": handler}, max_attempts=3)
    consumer.drain(timeout=0.01)
    relay = env.relay()
    relay.confirm_by([consumer])
    bad, good = env.emit(data={"poison": True}), env.emit(data={"poison": False})
    worker = bus.BusWorker([relay], [consumer], interval=0.01, drain_timeout=0)
    worker.start()
    try:
        end = time.monotonic() + 5
        while relay.pending() and time.monotonic() < end:
            time.sleep(0.01)
    finally:
        worker.stop()
    assert relay.pending() == 0
    assert env.effect_count(good["id"]) == 1 and env.effect_count(bad["id"]) == 0
    (dead,) = env.get_all(env.topology.dlq(env.service))
    assert json.loads(dead.body) == bad and dead.headers["x-kinerja-attempts"] == 3


def test_in_process_event_no_consumer_is_bound_to_is_marked_sent_at_once(env):
    consumer = env.consumer({"svc.thing.happened": env.record()})
    consumer.drain(timeout=0.01)
    relay = env.relay()
    relay.confirm_by([consumer])
    env.emit(type_="svc.other.happened")
    assert relay.run_once() == 1 and relay.pending() == 0
    assert env.get_all(env.topology.queue(env.service)) == []
