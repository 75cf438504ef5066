"""A stage opening for everyone in the agency: one rendered message per active person, in their
language, with a delivery per channel that points at it (in-app sent; e-mail queued, deferred to the
digest, skipped without an address, failed and published for an unusable one), once even when the
event comes again — on SQLite and on PostgreSQL, where the rows are written with COPY (from
``pending.COPY_FROM`` rows; below it, as here by default, with one INSERT a table)."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from services.common.config import Config
from services.notifications import pending, recorder, recording
from services.notifications.app import create_app
from services.notifications.models import Delivery, Notification, Person, Preference
from tests.plans.support import FakeClock

T0 = datetime(2026, 4, 6, 2, 0, tzinfo=timezone.utc)
AGENCY = "PKMB"
# names and addresses COPY's text format must escape: tabs, backslashes, line breaks, quotes, non-ASCII
ODD = "Dra. Ni\tLuh \\ Putu 'Ayu' \"Sari\"\nWidyaningsih Ñ 😀"
PEOPLE = {
    "199001012015031001": ("Budi Santoso", "budi@pkmb.go.id", "id"),
    "199001012015031002": (ODD, "ayu@pkmb.go.id", "en"),
    "199001012015031003": ("Tanpa Surel", None, "id"),
    "199001012015031004": ("Surel Rusak", "bukan-alamat", "id"),
    "199001012015031005": ("Rangkum Pagi", "rangkum@pkmb.go.id", "id"),
}
INACTIVE = "199001012015031009"
DIGEST = "199001012015031005"


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.integration),  # every flush by COPY
        pytest.param("postgresql-insert", marks=pytest.mark.integration),  # a small flush: one INSERT a table
    ]
)
def notif(request, tmp_path, monkeypatch):
    url = (
        f"sqlite:///{tmp_path / 'notifications.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    if request.param == "postgresql":
        monkeypatch.setattr(pending, "COPY_FROM", 1)
    app = create_app(
        Config.from_env("notifications", env={"NOTIFICATIONS_DATABASE_URL": url}), clock=FakeClock(T0), migrate=True
    )
    k = app.extensions["kinerja"]
    with k.session_factory() as s:
        for nip, (name, email, lang) in PEOPLE.items():
            s.add(Person(nip=nip, agency_code=AGENCY, name=name, email=email, language=lang, active=True))
        s.add(Person(nip=INACTIVE, agency_code=AGENCY, name="Sudah Pensiun", email="p@pkmb.go.id", active=False))
        s.add(Person(nip="198001012005011001", agency_code="LAIN", name="Instansi Lain", email="l@lain.go.id"))
        s.add(Preference(nip=DIGEST, digest=True, digest_hour=7, timezone="Asia/Jakarta", updated_at=T0))
        s.commit()
    yield app
    k.engine.dispose()


def _opened(app) -> dict:
    envelope = {
        "id": str(uuid.uuid4()),
        "type": "plans.cycle.stage_changed",
        "time": T0.isoformat(),
        "data": {
            "cycle_id": 7,
            "agency_code": AGENCY,
            "year": 2026,
            "state": "monitoring:1:self_assessment",
            "previous": "monitoring:1:check_in",
        },
    }
    k = app.extensions["kinerja"]
    with app.app_context(), k.session_factory() as s:
        out = recording.handle_event(s, envelope)
        s.commit()
    return envelope | {"recorded": out["notifications"]}


def _utc(at: datetime | None) -> datetime | None:
    """SQLite hands back naive UTC times, PostgreSQL aware ones."""
    return at if at is None or at.tzinfo else at.replace(tzinfo=timezone.utc)


def _rows(app, event_id: str):
    k = app.extensions["kinerja"]
    with k.session_factory() as s:
        notes = s.scalars(select(Notification).where(Notification.event_id == event_id)).all()
        deliveries = s.scalars(select(Delivery).where(Delivery.event_id == event_id)).all()
        s.expunge_all()
    return notes, deliveries


def test_everyone_active_hears_it_once_with_deliveries_pointing_at_their_message(notif):
    env = _opened(notif)
    notes, deliveries = _rows(notif, env["id"])
    opened = {n.recipient_nip: n for n in notes if n.template == "cycle.stage_opened"}
    assert set(opened) == set(PEOPLE) and env["recorded"] == len(notes)
    ayu = opened["199001012015031002"]
    assert ayu.recipient_name == ODD and ayu.language == "en"
    assert ayu.title == "Now open: Period 1: self-assessment (2026)"
    assert ODD.split("\n")[0] in ayu.body_text and "Widyaningsih Ñ 😀" in ayu.body_text
    assert _utc(ayu.created_at) == T0 and ayu.in_inbox is True and ayu.audience == "agency_all"
    assert opened["199001012015031001"].title.startswith("Dibuka: ")
    assert "<!DOCTYPE html>" in ayu.body_html and "&#39;Ayu&#39;" in ayu.body_html

    by_key = {(d.recipient_nip, d.channel): d for d in deliveries if d.template == "cycle.stage_opened"}
    for nip in PEOPLE:
        assert by_key[(nip, "inapp")].notification_id == opened[nip].id
        assert by_key[(nip, "inapp")].status == "sent" and _utc(by_key[(nip, "inapp")].sent_at) == T0
        assert by_key[(nip, "email")].notification_id == opened[nip].id
    email = {nip: by_key[(nip, "email")] for nip in PEOPLE}
    assert email["199001012015031001"].status == "queued" and email["199001012015031001"].target == "budi@pkmb.go.id"
    assert _utc(email["199001012015031001"].next_attempt_at) == T0 and email["199001012015031001"].attempts == 0
    assert (email["199001012015031003"].status, email["199001012015031003"].last_error) == (
        "skipped",
        "delivery.no_address",
    )
    assert (email["199001012015031004"].status, email["199001012015031004"].last_error) == (
        "failed",
        "delivery.invalid_address",
    )
    assert email[DIGEST].status == "deferred" and email[DIGEST].digest is True
    assert _utc(email[DIGEST].next_attempt_at) > T0


def test_the_same_event_again_records_nothing_more(notif):
    env = _opened(notif)
    before = _rows(notif, env["id"])
    k = notif.extensions["kinerja"]
    with notif.app_context(), k.session_factory() as s:
        assert recording.handle_event(s, {key: env[key] for key in ("id", "type", "time", "data")}) == {
            "notifications": 0,
            "webhooks": 0,
        }
        s.commit()
    after = _rows(notif, env["id"])
    assert [n.id for n in after[0]] == [n.id for n in before[0]]
    assert [d.id for d in after[1]] == [d.id for d in before[1]]


def test_a_large_audience_is_written_in_parts_each_delivery_still_pointing_at_its_message(notif, monkeypatch):
    """A stage opening to a province renders 100,000 messages: the recorder writes them every
    FLUSH_EVERY (held at once, they took 650 MB of a worker limited to 512 MiB)."""
    monkeypatch.setattr(recorder, "FLUSH_EVERY", 2)
    held: list[int] = []
    flush = recorder.Recorder.flush

    def counted(self):
        held.append(len(self._notes))
        flush(self)

    monkeypatch.setattr(recorder.Recorder, "flush", counted)
    env = _opened(notif)
    notes, deliveries = _rows(notif, env["id"])
    assert max(held) <= 2 and sum(held) == len(notes) == env["recorded"] and len([h for h in held if h]) >= 3
    opened = {n.recipient_nip: n for n in notes if n.template == "cycle.stage_opened"}
    assert set(opened) == set(PEOPLE) and len(set(n.id for n in notes)) == len(notes)
    for d in deliveries:
        if d.template == "cycle.stage_opened" and d.notification_id is not None:
            assert d.notification_id == opened[d.recipient_nip].id, (d.recipient_nip, d.channel)
    by_key = {(d.recipient_nip, d.channel) for d in deliveries if d.template == "cycle.stage_opened"}
    assert {(nip, "inapp") for nip in PEOPLE} | {(nip, "email") for nip in PEOPLE} <= by_key
