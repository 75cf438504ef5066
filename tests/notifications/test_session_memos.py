"""The consumer applies a batch of events in one session, and reads an agency's notification rules,
webhook subscriptions, units, today's acting appointments and Apprise URLs once for the batch; what
changes in that session is seen by the next event at once (rules replaced or reset, a subscription
created, changed, deleted or disabled, an appointment or a unit written by a directory event, the
agency's settings changed)."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import event, func, select

from services.common.auth import Principal
from services.common.bus import BATCH
from services.common.config import Config
from services.notifications import preferences, readmodel, recording, rules, webhooks
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


def _event(type_: str, **data) -> dict:
    return {"id": str(uuid.uuid4()), "type": type_, "time": T0.isoformat(), "data": {"agency_code": AGENCY, **data}}


def _feedback() -> dict:
    """Kasi's feedback on Rina's SKP: Rina hears of it."""
    text = "Laporan bulanan tepat waktu."
    return _event("plans.feedback.given", employee_nip=RINA, giver_nip=KASI, plan_id=1, feedback_id=9, text=text)


def _submitted(unit: str = "SEK-A") -> dict:
    """Rina's SKP submitted: her penilai (Kasi, or whoever stands in for him) hears of it."""
    data = {"employee_nip": RINA, "penilai_nip": KASI, "plan_id": 1, "unit_code": unit}
    return _event("plans.plan.submitted", **data, status="submitted", revision=0)


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


def test_a_batch_reads_the_rules_subscriptions_units_appointments_and_agency_settings_once(notif):
    tables = ("notification_rules", "webhook_subscriptions", "rm_units", "rm_acting", "agency_settings")
    seen = _statements(notif.engine, *tables)
    with notif.session_factory() as s:
        events = [_submitted() for _ in range(20)]
        for env in events:
            recording.handle_event(s, env)
        s.commit()
        assert all(_told(s, env) == [KASI] for env in events)
    assert len(seen) == 5  # each once, for twenty events


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


def test_an_appointment_unit_or_setting_written_in_the_session_applies_to_the_next_event(notif):
    plt = "198501012010011003"
    with notif.session_factory() as s:
        s.add(Person(nip=plt, agency_code=AGENCY, name="Plt Kasi", email="plt@pkmb.go.id", active=True))
        s.flush()
        before = _submitted()
        recording.handle_event(s, before)
        appointment = {"id": 5, "agency_code": AGENCY, "acting_nip": plt, "for_nip": KASI, "kind": "plt"}
        span = {"start_date": "2000-01-01", "end_date": "2999-12-31"}
        readmodel.rm_acting(s, appointment | span, T0)
        s.flush()
        after = _submitted()
        recording.handle_event(s, after)
        assert (_told(s, before), _told(s, after)) == ([KASI], sorted([KASI, plt]))

        seen = _statements(notif.engine, "rm_units")
        readmodel.rm_unit(s, {"id": 1, "agency_code": AGENCY, "code": "SEK-A", "name": "Sekretariat"}, T0)
        s.flush()
        recording.handle_event(s, _submitted())
        assert len([q for q in seen if q.startswith("SELECT rm_units.name")]) == 1  # read again after the write

        preferences.update_agency_settings(s, HR, AGENCY, {"apprise_urls": ["ntfy://ntfy.pkmb.go.id/skp-{nip}"]})
        urls = _submitted()
        recording.handle_event(s, urls)
        s.commit()
        apprise = s.scalars(
            select(Delivery).where(Delivery.event_id == urls["id"], Delivery.channel == "apprise")
        ).all()
        assert {d.recipient_nip for d in apprise} == {KASI, plt}


# -- a batch's rows written together, its lookups made once (services.notifications.pending)


def _all_statements(engine) -> list[str]:
    """Every statement the engine sends from now on."""
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    return seen


def _email_target(s, env) -> str | None:
    return s.scalar(select(Delivery.target).where(Delivery.event_id == env["id"], Delivery.channel == "email"))


def test_a_batch_of_events_is_recorded_in_a_handful_of_statements_not_a_few_per_event(notif):
    """Twenty submissions applied as the consumer applies a batch: whom they name is read once for
    all, and their messages and deliveries are written together at the commit; each event still
    asks what it has already (about five statements per event before)."""
    events = [_submitted() for _ in range(20)]
    seen = _all_statements(notif.engine)
    with notif.session_factory() as s:
        s.info[BATCH] = events
        for env in events:
            recording.handle_event(s, env)
        s.commit()
    kinds = [q.lstrip().split(None, 1)[0].upper() for q in seen]
    reads = [q for q, kind in zip(seen, kinds) if kind in ("SELECT", "WITH")]
    assert len(reads) <= 20 + 9, "\n".join(reads)  # one an event, the look-ahead's and the agency's lookups once
    first_write = kinds.index("INSERT") if "INSERT" in kinds else kinds.index("COPY")
    assert all(kind in ("INSERT", "COPY") for kind in kinds[first_write:]), kinds  # all at the commit
    if notif.engine.dialect.name == "postgresql":  # SQLite returns ids one INSERT per row
        assert len(kinds[first_write:]) == 2  # the messages, then their deliveries
    with notif.session_factory() as s:
        assert all(_told(s, env) == [KASI] for env in events)
        assert len(set(s.scalars(select(Delivery.notification_id).where(Delivery.channel == "inapp")))) == 20


def test_what_an_event_recorded_is_read_back_in_its_own_transaction_before_the_commit(notif):
    with notif.session_factory() as s:
        env = _handled(s)
        assert _told(s, env) == [RINA]  # held rows are written before a statement that could read them
        assert _email_target(s, env) == "rina@pkmb.go.id"
        s.commit()
    with notif.session_factory() as s:
        assert _told(s, env) == [RINA]
        assert s.scalar(select(func.count()).select_from(Delivery).where(Delivery.event_id == env["id"])) == 2


def test_a_batch_rolled_back_writes_nothing_and_its_retry_tells_everyone_once(notif):
    events = [_feedback() for _ in range(3)]
    with notif.session_factory() as s:
        s.info[BATCH] = events
        for env in events:
            recording.handle_event(s, env)
        s.rollback()  # a handler failed: the batch is applied again without it, in a new session
        s.commit()
    with notif.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Notification)) == 0
        s.info[BATCH] = events[1:]
        for env in events[1:]:
            recording.handle_event(s, env)
        s.commit()
    with notif.session_factory() as s:
        assert [_told(s, env) for env in events] == [[], [RINA], [RINA]]


def test_an_event_applied_again_in_a_later_batch_tells_nobody_twice(notif):
    """As if its inbox row were lost: the batch's look-ahead finds what it had."""
    env = _feedback()
    for _ in range(2):
        with notif.session_factory() as s:
            s.info[BATCH] = [env, _feedback()]
            recording.handle_event(s, env)
            s.commit()
    with notif.session_factory() as s:
        assert _told(s, env) == [RINA]
        assert s.scalar(select(func.count()).select_from(Delivery).where(Delivery.event_id == env["id"])) == 2


def test_a_person_or_preference_written_in_the_batch_applies_to_the_next_event(notif):
    rina = {"nip": RINA, "agency_code": AGENCY, "name": "Rina Wati", "superior_nip": KASI, "active": True}
    first, second, third = _feedback(), _feedback(), _feedback()
    with notif.session_factory() as s:
        s.info[BATCH] = [first, second, third]  # looked ahead: Rina's old address and preferences
        recording.handle_event(s, first)
        readmodel.rm_employee(s, rina | {"email": "rina.wati@pkmb.go.id"}, T0)
        recording.handle_event(s, second)
        rina_p = Principal(sub="rina", roles=frozenset({"employee"}), agency=AGENCY, nip=RINA)
        preferences.update_preferences(s, rina_p, {"email": False})
        recording.handle_event(s, third)
        s.commit()
        assert [_email_target(s, env) for env in (first, second)] == ["rina@pkmb.go.id", "rina.wati@pkmb.go.id"]
        email = s.scalar(select(Delivery).where(Delivery.event_id == third["id"], Delivery.channel == "email"))
        assert (email.status, email.last_error) == ("skipped", "delivery.preference")


def test_an_event_handled_twice_in_one_transaction_tells_its_people_once(notif):
    """Its first handling's rows are still held (not written) when the second asks what it has."""
    env = _submitted()
    with notif.session_factory() as s:
        s.info[BATCH] = [env]
        recording.handle_event(s, env)
        again = recording.handle_event(s, env)
        s.commit()
        assert again["notifications"] == 0 and _told(s, env) == [KASI]
        assert s.scalar(select(func.count()).select_from(Delivery).where(Delivery.event_id == env["id"])) == 2
