"""Plans and notifications as in production: each service on its own PostgreSQL database, wired
only by the real RabbitMQ (an isolated topology). Plans publishes ``plans.plan.returned`` through
its relay; the notifications consumer records exactly one inbox notification for the employee
(and a queued e-mail, which the dispatcher then sends to a local SMTP server); a replay of every
plans event records nothing more."""

from __future__ import annotations

import time
import uuid

import pytest
from kombu import Connection, Exchange, Producer
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from services.common.bus import ATTEMPTS_HEADER, CONTENT_TYPE, PERSISTENT, Topology, encode_envelope
from services.common.config import Config
from services.common.db import drop_database, ensure_database
from services.notifications.app import create_app as create_notifications_app
from services.notifications.dispatch import dispatch_due
from services.notifications.events import CONSUMES
from services.notifications.models import Base as NotificationsBase
from services.notifications.models import Delivery, Notification
from services.notifications.models import platform_tables as notifications_tables
from services.plans.app import create_app as create_plans_app
from services.plans.models import platform_tables as plans_tables
from tests.notifications.support import SmtpSink, set_employee_contact
from tests.plans.support import HEAD, KASI_A, STAFF_A, FakeClock, Org, Tokens, seed

pytestmark = pytest.mark.integration

DEADLINE = 20.0
RINA = STAFF_A[0]


class Wiring:
    def __init__(self, rabbitmq_url: str, smtp_url: str):
        self.rabbitmq_url = rabbitmq_url
        self.smtp_url = smtp_url
        self.topology = Topology.isolated(f"it{uuid.uuid4().hex[:8]}.")
        self.clock = FakeClock()
        self.plans_app = self.notif_app = self.relay = self.consumer = None
        self.conn = Connection(rabbitmq_url)

    def start(self, plans_url: str, notif_url: str) -> None:
        self.plans_app = create_plans_app(
            Config.from_env(
                "plans", env={"PLANS_DATABASE_URL": plans_url, "BROKER_URL": self.rabbitmq_url}, testing=True
            ),
            clock=self.clock,
            migrate=True,
        )
        config = Config.from_env(
            "notifications",
            env={"NOTIFICATIONS_DATABASE_URL": notif_url, "BROKER_URL": self.rabbitmq_url},
            testing=True,
        )
        config.extra["smtp_url"] = self.smtp_url
        self.notif_app = create_notifications_app(config, clock=self.clock, migrate=True)
        self.plans = self.plans_app.extensions["kinerja"]
        self.notif = self.notif_app.extensions["kinerja"]
        self.relay = self.plans.relay(topology=self.topology)
        self.consumer = self.notif.consumer(CONSUMES, topology=self.topology)
        self.consumer.drain(timeout=0.01)  # declares the queue and its bindings before anything is published

    def pump_until(self, done, what: str) -> int:
        end = time.monotonic() + DEADLINE
        consumed = 0
        while True:
            self.relay.run_once()
            assert self.relay.last_error is None, self.relay.last_error
            consumed += self.consumer.drain(timeout=0.1, max_messages=200)
            if done(consumed):
                return consumed
            if time.monotonic() > end:
                raise AssertionError(f"{what}: not reached within {DEADLINE:.0f} s (consumed {consumed})")

    def publish(self, envelope: dict) -> None:
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

    def plans_outbox(self) -> list[dict]:
        t = plans_tables.outbox
        with self.plans.session_factory() as s:
            return [dict(r) for r in s.execute(select(t).order_by(t.c.id)).mappings()]

    def returned_notes(self) -> list[Notification]:
        with self.notif.session_factory() as s:
            return list(s.scalars(select(Notification).where(Notification.event_type == "plans.plan.returned")))

    def counts(self) -> dict[str, int]:
        with self.notif.session_factory() as s:
            return {
                name: s.scalar(select(func.count()).select_from(t))
                for name, t in NotificationsBase.metadata.tables.items()
            }

    def close(self) -> None:
        for component in (self.relay, self.consumer):
            if component is not None:
                component.close()
        try:
            channel = self.conn.default_channel
            for name in (
                self.topology.queue("notifications"),
                self.topology.dlq("notifications"),
                self.topology.unrouted_queue,
            ):
                channel.queue_delete(queue=name)
            for name in (self.topology.exchange, self.topology.unrouted_exchange, self.topology.dlx):
                channel.exchange_delete(exchange=name)
        finally:
            self.conn.release()
            for app in (self.plans_app, self.notif_app):
                if app is not None:
                    app.extensions["kinerja"].engine.dispose()


def test_a_returned_plan_reaches_the_employee_once_over_rabbitmq(postgres_url, rabbitmq_url):
    notif_url = (
        make_url(postgres_url).set(database=f"kinerja_t_{uuid.uuid4().hex[:10]}").render_as_string(hide_password=False)
    )
    ensure_database(notif_url)
    smtp = SmtpSink().start()
    w = Wiring(rabbitmq_url, smtp.url)
    try:
        w.start(postgres_url, notif_url)
        org = Org(w.plans_app, w.plans_app.test_client(), Tokens(w.plans.config.jwt_secret), w.clock)
        seed(org)
        set_employee_contact(org, RINA, email="rina@pkmb.go.id")
        hp = org.head_plan()
        ka = org.cascade(hp, KASI_A, approver=HEAD)
        plan = org.cascade(ka, RINA)
        assert org.submit(plan["id"], RINA).status_code == 200
        r = org.post(f"/plans/{plan['id']}/return", org.as_(KASI_A), {"note": "Tambahkan IKI kualitas."})
        assert r.status_code == 200, r.get_json()
        assert w.returned_notes() == []  # nothing without the bus

        w.pump_until(lambda _: len(w.returned_notes()) >= 1 and w.relay.pending() == 0, "the returned plan")
        w.pump_until(lambda _: w.consumer.drain(timeout=0.2) == 0, "queue drained")
        (note,) = w.returned_notes()
        assert (note.recipient_nip, note.title) == (RINA, "SKP Anda dikembalikan untuk diperbaiki")
        client = w.notif_app.test_client()
        inbox = client.get("/notifications/api/v1/inbox?limit=200", headers=org.as_(RINA)).get_json()["items"]
        assert [i["title"] for i in inbox if i["event_type"] == "plans.plan.returned"] == [note.title]
        colleague = client.get("/notifications/api/v1/inbox?limit=200", headers=org.as_(STAFF_A[1])).get_json()
        assert all(i["event_type"] != "plans.plan.returned" for i in colleague["items"])  # only Rina's

        # the dispatcher (PostgreSQL: SKIP LOCKED claim) sends the queued e-mails to the local server
        with w.notif_app.app_context(), w.notif.session_factory() as s:
            counts = dispatch_due(s, w.clock())
        assert counts["sent"] >= 1
        (mail,) = smtp.to("rina@pkmb.go.id")
        assert mail["Subject"] == "SKP Anda dikembalikan untuk diperbaiki"

        # replay every plans event (a redelivery storm): no second notification, delivery or outbox row
        before = w.counts()
        outbox = w.plans_outbox()
        for row in outbox:
            w.publish(row["envelope"])
        w.pump_until(lambda consumed: consumed >= len(outbox), f"{len(outbox)} replayed events consumed")
        assert w.consumer.drain(timeout=0.3) == 0
        assert w.counts() == before
        assert len(w.returned_notes()) == 1
        with w.notif.session_factory() as s:
            inbox_ids = list(s.scalars(select(notifications_tables.inbox.c.event_id)))
            assert len(inbox_ids) == len(set(inbox_ids)) == len(outbox)
            assert (
                s.scalar(
                    select(func.count())
                    .select_from(Delivery)
                    .where(Delivery.event_id == note.event_id, Delivery.channel == "email")
                )
                == 1
            )
        assert w.message_count(w.topology.dlq("notifications")) == 0
        with w.notif_app.app_context(), w.notif.session_factory() as s:
            assert dispatch_due(s, w.clock()) == {}
        assert len(smtp.to("rina@pkmb.go.id")) == 1
    finally:
        try:
            w.close()
            smtp.stop()
        finally:
            drop_database(notif_url)
