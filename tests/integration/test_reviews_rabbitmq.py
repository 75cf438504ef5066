"""Plans and reviews as in production: each service on its own PostgreSQL database, wired only by
the real RabbitMQ (an isolated topology). Approved SKPs and a period opening reach reviews as
events and open one evaluation per plan with the parties snapshotted; a replay of every event has
no second effect; a poison message ends in the reviews DLQ without blocking the next event."""

from __future__ import annotations

import time
import uuid
from types import SimpleNamespace

import pytest
from kombu import Connection, Exchange, Producer, Queue
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from services.common.bus import (
    ATTEMPTS_HEADER,
    CONTENT_TYPE,
    ERROR_HEADER,
    PERSISTENT,
    Topology,
    encode_envelope,
    make_event,
)
from services.common.config import Config
from services.common.db import drop_database, ensure_database
from services.plans.app import create_app as create_plans_app
from services.plans.models import platform_tables as plans_tables
from services.reviews.app import create_app as create_reviews_app
from services.reviews.events import CONSUMES
from services.reviews.models import Base as ReviewsBase
from services.reviews.models import CycleRef, Evaluation, Person, PlanRef, UnitRef
from services.reviews.models import platform_tables as reviews_tables
from tests.plans.support import ALL_PKMB, HEAD, KASI_A, KASI_B, STAFF_A, STAFF_B, FakeClock, Org, Tokens, seed
from tests.reviews.support import Chain

pytestmark = pytest.mark.integration

DEADLINE = 20.0  # seconds for any one wait on the bus
EXPECTED_PARTIES = {  # employee: (penilai, atasan penilai), as the directory says at period opening
    HEAD: (None, None),  # the top official: penilai outside the directory
    KASI_A: (HEAD, None),
    KASI_B: (HEAD, None),
    **{nip: (KASI_A, HEAD) for nip in STAFF_A},
    **{nip: (KASI_B, HEAD) for nip in STAFF_B},
}


class Wiring:
    """Both apps, the plans relay and the reviews consumer on one isolated topology."""

    def __init__(self, rabbitmq_url: str):
        self.rabbitmq_url = rabbitmq_url
        self.topology = Topology.isolated(f"it{uuid.uuid4().hex[:8]}.")
        self.clock = FakeClock()
        self.plans_app = self.reviews_app = self.relay = self.consumer = None
        self.conn = Connection(rabbitmq_url)

    def start(self, plans_url: str, reviews_url: str) -> None:
        rabbitmq_url = self.rabbitmq_url
        self.plans_app = create_plans_app(
            Config.from_env("plans", env={"PLANS_DATABASE_URL": plans_url, "BROKER_URL": rabbitmq_url}, testing=True),
            clock=self.clock,
            migrate=True,
        )
        self.reviews_app = create_reviews_app(
            Config.from_env(
                "reviews", env={"REVIEWS_DATABASE_URL": reviews_url, "BROKER_URL": rabbitmq_url}, testing=True
            ),
            clock=self.clock,
            migrate=True,
        )
        self.plans = self.plans_app.extensions["kinerja"]
        self.reviews = self.reviews_app.extensions["kinerja"]
        self.relay = self.plans.relay(topology=self.topology)
        self.consumer = self.reviews.consumer(CONSUMES, topology=self.topology)
        self.consumer.drain(timeout=0.01)  # declares the queue and its bindings before anything is published

    # ------------------------------------------------------------------ bus
    def pump_until(self, done, what: str, deadline: float = DEADLINE) -> int:
        """Relay plans' outbox and drain the reviews queue until ``done()``; returns messages consumed."""
        end = time.monotonic() + deadline
        consumed = 0
        while True:
            self.relay.run_once()
            assert self.relay.last_error is None, self.relay.last_error
            consumed += self.consumer.drain(timeout=0.1, max_messages=200)
            if done(consumed):
                return consumed
            if time.monotonic() > end:
                raise AssertionError(f"{what}: not reached within {deadline:.0f} s (consumed {consumed})")

    def publish(self, envelope: dict) -> None:
        """Publish ``envelope`` to the isolated exchange exactly as the relay does (confirmed)."""
        with Connection(self.rabbitmq_url, transport_options={"confirm_publish": True}) as conn:
            Producer(
                conn.channel(), exchange=Exchange(self.topology.exchange, type="topic"), auto_declare=False
            ).publish(
                encode_envelope(envelope),
                routing_key=envelope["type"],
                content_type=CONTENT_TYPE,
                content_encoding="utf-8",
                delivery_mode=PERSISTENT,
                message_id=envelope["id"],
                headers={ATTEMPTS_HEADER: 1},
                retry=False,
                confirm_timeout=5,
            )

    def message_count(self, queue: str) -> int:
        return self.conn.default_channel.queue_declare(queue=queue, passive=True).message_count

    def take_all(self, queue: str) -> list:
        q = Queue(queue, no_declare=True, channel=self.conn.default_channel)
        out = []
        while (m := q.get(no_ack=True)) is not None:  # basic_get
            out.append(m)
        return out

    # ------------------------------------------------------------------ databases
    def plans_outbox(self) -> list[dict]:
        t = plans_tables.outbox
        with self.plans.session_factory() as s:
            return [dict(r) for r in s.execute(select(t).order_by(t.c.id)).mappings()]

    def reviews_counts(self) -> dict[str, int]:
        with self.reviews.session_factory() as s:
            return {
                name: s.scalar(select(func.count()).select_from(t)) for name, t in ReviewsBase.metadata.tables.items()
            }

    def evaluations(self, seq: int = 1) -> list[Evaluation]:
        with self.reviews.session_factory() as s:
            return list(s.scalars(select(Evaluation).where(Evaluation.period_seq == seq).order_by(Evaluation.id)))

    def inbox_ids(self) -> list[str]:
        t = reviews_tables.inbox
        with self.reviews.session_factory() as s:
            return list(s.scalars(select(t.c.event_id).where(t.c.consumer == "reviews")))

    def cycle(self, cycle_id: int) -> CycleRef | None:
        with self.reviews.session_factory() as s:
            return s.get(CycleRef, cycle_id)

    # ------------------------------------------------------------------ cleanup
    def close(self) -> None:
        for component in (self.relay, self.consumer):
            if component is not None:
                component.close()
        try:
            channel = self.conn.default_channel
            for name in (self.topology.queue("reviews"), self.topology.dlq("reviews"), self.topology.unrouted_queue):
                channel.queue_delete(queue=name)
            for name in (self.topology.exchange, self.topology.unrouted_exchange, self.topology.dlx):
                channel.exchange_delete(exchange=name)
        finally:
            self.conn.release()
            for app in (self.plans_app, self.reviews_app):
                if app is not None:
                    app.extensions["kinerja"].engine.dispose()


def _routed_to_reviews(outbox: list[dict]) -> list[dict]:
    return [row for row in outbox if row["type"] in CONSUMES]


def test_reviews_follow_plans_over_rabbitmq_once_and_dead_letter_poison(postgres_url, rabbitmq_url):
    reviews_url = (
        make_url(postgres_url).set(database=f"kinerja_t_{uuid.uuid4().hex[:10]}").render_as_string(hide_password=False)
    )
    ensure_database(reviews_url)
    w = Wiring(rabbitmq_url)
    try:
        w.start(postgres_url, reviews_url)

        # ---- plans: the small agency, approved cascaded SKPs, period 1 opened (all through the plans API)
        org = Org(w.plans_app, w.plans_app.test_client(), Tokens(w.plans.config.jwt_secret), w.clock)
        seed(org)
        # Chain.approve_all_plans pumps its embedded bus at the end; here delivery is the RabbitMQ loop below
        chain = Chain(SimpleNamespace(pump=lambda: 0), org)
        chain.approve_all_plans()
        assert sorted(chain.plans) == sorted(ALL_PKMB)
        assert org.advance_to("monitoring:1:check_in")["state"] == "monitoring:1:check_in"
        with w.reviews.session_factory() as s:
            assert s.scalar(select(func.count()).select_from(Evaluation)) == 0  # nothing without the bus

        # ---- the bus: relay + consumer until reviews opened the 9 evaluations of period 1
        w.pump_until(lambda _: len(w.evaluations(1)) >= 9, "9 evaluations of period 1")
        w.pump_until(lambda _: w.relay.pending() == 0, "plans outbox drained")
        evs = w.evaluations(1)
        assert len(evs) == 9
        assert {e.employee_nip: (e.penilai_nip, e.atasan_nip) for e in evs} == EXPECTED_PARTIES
        by_nip = {e.employee_nip: e for e in evs}
        staff = by_nip[STAFF_A[0]]
        assert (staff.penilai_name, staff.penilai_position, staff.atasan_name) == (
            "Siti Aminah",
            "Kepala Seksi Perencanaan",
            "Budi Santoso",
        )
        assert (staff.unit_code, staff.period_name, staff.status, staff.kind) == (
            "SEK-A",
            "Triwulan I",
            "open",
            "periodic",
        )
        assert {e.plan_id for e in evs} == {p["id"] for p in chain.plans.values()}
        assert by_nip[KASI_A].is_head_of_unit and by_nip[KASI_B].is_head_of_unit
        assert all(e.cycle_id == org.cycle_id and e.agency_code == "PKMB" for e in evs)
        cycle = w.cycle(org.cycle_id)
        assert (cycle.stage, cycle.period_seq, cycle.phase) == ("monitoring", 1, "check_in")
        # and the reviews API serves them to HR of the agency
        r = w.reviews_app.test_client().get("/reviews/api/v1/evaluations?period_seq=1&limit=200", headers=org.hr)
        assert r.status_code == 200, r.get_json()
        assert sorted(i["employee_nip"] for i in r.get_json()["items"]) == sorted(ALL_PKMB)

        outbox = w.plans_outbox()
        routed = _routed_to_reviews(outbox)
        assert all(row["sent_at"] is not None for row in outbox)
        with w.reviews.session_factory() as s:
            assert s.scalar(select(func.count()).select_from(PlanRef)) == 9
            assert s.scalar(select(func.count()).select_from(Person)) == 10  # PKMB's 9 + OTHER's 1
            assert s.scalar(select(func.count()).select_from(UnitRef)) == 4
        inbox = w.inbox_ids()
        assert sorted(inbox) == sorted(row["event_id"] for row in routed)  # one row per delivered event
        before = w.reviews_counts()
        assert before["outbox"] == 9  # one reviews.evaluation.opened per evaluation

        # ---- replay: every event of the plans outbox published again (as a redelivery would)
        for row in outbox:
            w.publish(row["envelope"])
        w.pump_until(lambda consumed: consumed >= len(routed), f"{len(routed)} replayed events consumed")
        assert w.consumer.drain(timeout=0.2) == 0  # nothing more arrived
        assert w.reviews_counts() == before  # no duplicate evaluation, read-model, outbox or audit row
        inbox = w.inbox_ids()
        assert len(inbox) == len(set(inbox)) == len(routed)
        assert sorted((e.id, e.version) for e in w.evaluations(1)) == sorted((e.id, e.version) for e in evs)
        assert w.message_count(w.topology.dlq("reviews")) == 0

        # ---- poison: a valid envelope whose data lacks cycle_id, followed by a real event
        poison = make_event(
            "plans.cycle.stage_changed",
            "/plans",
            str(org.cycle_id),
            {
                "agency_code": "PKMB",
                "year": 2026,
                "previous": "monitoring:1:check_in",
                "stage": "monitoring",
                "period_seq": 1,
                "phase": "self_assessment",
                "state": "monitoring:1:self_assessment",
            },
        )
        w.publish(poison)
        assert org.advance_to("monitoring:1:self_assessment")["state"] == "monitoring:1:self_assessment"
        dlq = w.topology.dlq("reviews")
        w.pump_until(
            lambda _: w.cycle(org.cycle_id).phase == "self_assessment" and w.message_count(dlq) == 1,
            "real event applied and poison dead-lettered",
        )
        (dead,) = w.take_all(dlq)
        assert dead.headers[ATTEMPTS_HEADER] == 1  # a malformed payload is rejected at once, not retried
        assert "cycle_id" in dead.headers[ERROR_HEADER]
        body = dead.body if isinstance(dead.body, (bytes, str)) else bytes(dead.body)
        assert poison["id"] in (body.decode() if isinstance(body, bytes) else body)
        inbox = w.inbox_ids()
        assert poison["id"] not in inbox  # its failed attempts left nothing behind
        assert len(inbox) == len(set(inbox)) == len(_routed_to_reviews(w.plans_outbox()))
        assert w.message_count(w.topology.queue("reviews")) == 0
        assert len(w.evaluations(1)) == 9
    finally:
        try:
            w.close()
        finally:
            drop_database(reviews_url)
