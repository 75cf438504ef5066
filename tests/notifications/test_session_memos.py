"""The consumer applies a batch of events in one session, and reads an agency's notification rules
and webhook subscriptions once for the batch; what HR changes in that session is seen by the next
event at once (rules replaced or reset, a subscription created, changed, deleted or disabled)."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import event, select

from services.common.auth import Principal
from services.common.config import Config
from services.notifications import recording, rules, webhooks
from services.notifications.app import create_app
from services.notifications.models import Delivery, Notification, Person
from tests.plans.support import FakeClock

T0 = datetime(2026, 4, 6, 2, 0, tzinfo=timezone.utc)
AGENCY = "PKMB"
RINA, KASI = "199001012015032001", "198001012005011002"
HR = Principal(sub="hr-1", roles=frozenset({"hr"}), agency=AGENCY)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def notif(request, tmp_path):
    url = (
        f"sqlite:///{tmp_path / 'notifications.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    app = create_app(
        Config.from_env("notifications", env={"NOTIFICATIONS_DATABASE_URL": url, "ALLOW_PRIVATE_WEBHOOKS": "1"}),
        clock=FakeClock(T0),
        migrate=True,
    )
    k = app.extensions["kinerja"]
    with k.session_factory() as s:
        s.add(Person(nip=KASI, agency_code=AGENCY, name="Kasi Umum", email="kasi@pkmb.go.id", active=True))
        s.add(
            Person(
                nip=RINA, agency_code=AGENCY, name="Rina Wati", email="rina@pkmb.go.id", superior_nip=KASI, active=True
            )
        )
        s.commit()
    with app.app_context():
        yield k
    k.engine.dispose()


def _feedback() -> dict:
    return {
        "id": str(uuid.uuid4()),
        "type": "plans.feedback.given",
        "time": T0.isoformat(),
        "data": {
            "agency_code": AGENCY,
            "employee_nip": RINA,
            "giver_nip": KASI,
            "plan_id": 1,
            "feedback_id": 9,
            "text": "Laporan bulanan tepat waktu.",
        },
    }


def _handled(s) -> dict:
    """A feedback event, handled in session ``s`` as the consumer handles one of its batch."""
    env = _feedback()
    recording.handle_event(s, env)
    return env


def _statements(engine, *tables: str) -> list[str]:
    """The SELECTs on ``tables`` the engine sends from now on."""
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and any(f"FROM {t}" in statement for t in tables):
            seen.append(statement)

    return seen


def _told(s, env) -> list[str]:
    return sorted(s.scalars(select(Notification.recipient_key).where(Notification.event_id == env["id"])))


def test_a_batch_reads_the_rules_and_the_subscriptions_once(notif):
    seen = _statements(notif.engine, "notification_rules", "webhook_subscriptions")
    with notif.session_factory() as s:
        events = [_feedback() for _ in range(20)]
        for env in events:
            recording.handle_event(s, env)
        s.commit()
        assert all(_told(s, env) == [RINA] for env in events)
    assert len(seen) == 2  # the rules once, the subscriptions once, for twenty events


def test_rules_replaced_in_the_session_apply_to_the_next_event(notif):
    with notif.session_factory() as s:
        first = _handled(s)
        rules.replace_rules(
            s, HR, AGENCY, [{"event_type": "plans.plan.approved", "audience": "penilai", "template": "plan.approved"}]
        )
        silenced = _handled(s)
        rules.reset_rules(s, HR, AGENCY)
        again = _handled(s)
        s.commit()
        assert (_told(s, first), _told(s, silenced), _told(s, again)) == ([RINA], [], [RINA])


def test_a_subscription_changed_in_the_session_applies_to_the_next_event(notif):
    def queued(s, env) -> int:
        return len(
            s.scalars(select(Delivery).where(Delivery.event_id == env["id"], Delivery.channel == "webhook")).all()
        )

    with notif.session_factory() as s:
        before = _handled(s)
        sub, _secret = webhooks.create_subscription(
            s, HR, {"url": "https://receiver.pkmb.go.id/hook", "event_types": ["plans.feedback.*"]}
        )
        s.flush()
        created = _handled(s)
        webhooks.update_subscription(s, HR, sub, {"active": False})
        paused = _handled(s)
        webhooks.update_subscription(s, HR, sub, {"active": True})
        resumed = _handled(s)
        webhooks.delete_subscription(s, HR, sub)
        deleted = _handled(s)
        s.commit()
        assert [queued(s, env) for env in (before, created, paused, resumed, deleted)] == [0, 1, 0, 1, 0]
