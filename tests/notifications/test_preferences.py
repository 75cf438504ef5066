"""Per-person preferences: language, channels (and per event type), quiet hours (e-mail waits for
the end of the window; the inbox gets it at once) and the daily digest (deferred e-mails
bundled into one by the digest run), with the settable clock."""

from __future__ import annotations

from datetime import datetime, timezone

from services.notifications.models import Delivery, Notification
from tests.notifications.support import parts
from tests.plans.support import JAKARTA, KASI_A, STAFF_A, problem

SITI = KASI_A  # siti@pkmb.go.id, directory language id


def _submitted(notif, i=0):
    return notif.publish(
        "plans.plan.submitted",
        {
            "plan_id": 70 + i,
            "cycle_id": 1,
            "agency_code": "PKMB",
            "employee_nip": STAFF_A[i % 3],
            "penilai_nip": SITI,
            "unit_code": "SEK-A",
            "status": "submitted",
            "revision": 0,
        },
    )


def _stage(notif, state="monitoring:1:supervisor_evaluation"):
    return notif.publish(
        "plans.cycle.stage_changed",
        {
            "cycle_id": 1,
            "agency_code": "PKMB",
            "year": 2026,
            "previous": "monitoring:1:self_assessment",
            "stage": state.split(":")[0],
            "period_seq": 1,
            "phase": state.split(":")[-1],
            "state": state,
        },
    )


def _email(notif, env) -> Delivery:
    (d,) = notif.rows(
        Delivery, Delivery.event_id == env["id"], Delivery.channel == "email", Delivery.recipient_nip == SITI
    )
    return d


def test_defaults_and_language_preference(notif, org, smtp):
    me = org.as_(SITI)
    prefs = notif.get("/preferences", me).get_json()
    assert prefs == {
        "nip": SITI,
        "language": None,
        "effective_language": "id",
        "email": True,
        "apprise": True,
        "overrides": {},
        "quiet_start": None,
        "quiet_end": None,
        "timezone": "Asia/Jakarta",
        "digest": False,
        "digest_hour": 7,
        "apprise_urls": [],
        "email_address": "siti@pkmb.go.id",
    }
    out = notif.set_prefs(SITI, language="en")
    assert out["effective_language"] == "en" and out["email"] is True  # the rest kept
    _submitted(notif)
    notif.dispatch()
    (msg,) = smtp.to("siti@pkmb.go.id")
    assert msg["Subject"] == "Rina Wati's work plan (SKP) awaits your approval"
    assert notif.inbox(me)[-1]["language"] == "en"


def test_channel_preferences_keep_the_inbox(notif, org, smtp):
    notif.set_prefs(SITI, email=False)
    env = _submitted(notif)
    assert (_email(notif, env).status, _email(notif, env).last_error) == ("skipped", "delivery.preference")
    assert notif.inbox(org.as_(SITI))[-1]["event_id"] == env["id"]  # in-app is always on
    # per event type: plan events in the inbox only, the rest also by e-mail
    notif.set_prefs(SITI, email=True, overrides={"plans.plan.*": ["inapp"]})
    env = _submitted(notif, 1)
    assert _email(notif, env).status == "skipped"
    env = _stage(notif, "monitoring:1:self_assessment")
    assert _email(notif, env).status == "queued"
    notif.dispatch()
    assert [m["Subject"] for m in smtp.to("siti@pkmb.go.id")] == ["Dibuka: Periode 1: penilaian diri (2026)"]


def test_quiet_hours_defer_email_to_the_end_of_the_window(notif, org, smtp, clock):
    notif.set_prefs(SITI, quiet_start="21:00", quiet_end="06:30")
    clock.set(datetime(2026, 1, 5, 22, 15, tzinfo=JAKARTA))
    env = _submitted(notif)
    d = _email(notif, env)
    morning = datetime(2026, 1, 6, 6, 30, tzinfo=JAKARTA).astimezone(timezone.utc)
    assert d.status == "deferred" and d.next_attempt_at.replace(tzinfo=timezone.utc) == morning
    assert notif.inbox(org.as_(SITI))[-1]["event_id"] == env["id"]  # the inbox has it at once
    assert notif.dispatch() == {} and smtp.messages == []
    clock.set(datetime(2026, 1, 6, 6, 29, tzinfo=JAKARTA))
    assert notif.dispatch() == {}
    clock.set(datetime(2026, 1, 6, 6, 30, tzinfo=JAKARTA))
    assert notif.dispatch() == {"sent": 1}
    (msg,) = smtp.to("siti@pkmb.go.id")
    assert _email(notif, env).status == "sent"
    # outside the window: at once
    clock.set(datetime(2026, 1, 6, 9, 0, tzinfo=JAKARTA))
    assert _email(notif, _submitted(notif, 1)).status == "queued"


def test_the_daily_digest_bundles_deferred_email_into_one(notif, org, smtp, clock):
    notif.set_prefs(SITI, digest=True, digest_hour=7)
    clock.set(datetime(2026, 1, 5, 9, 0, tzinfo=JAKARTA))
    envs = [_submitted(notif, i) for i in range(3)]
    clock.set(datetime(2026, 1, 5, 15, 0, tzinfo=JAKARTA))
    envs.append(_stage(notif, "monitoring:1:self_assessment"))
    deferred = [_email(notif, e) for e in envs]
    assert {d.status for d in deferred} == {"deferred"} and all(d.digest for d in deferred)
    assert len(notif.inbox(org.as_(SITI))) == 5  # the stage opening of the seed + these four, at once
    notif.dispatch()  # the others' e-mails about the stage opening go now
    assert smtp.to("siti@pkmb.go.id") == []
    clock.set(datetime(2026, 1, 6, 7, 0, tzinfo=JAKARTA))
    assert notif.dispatch() == {"sent": 1}
    (msg,) = smtp.to("siti@pkmb.go.id")
    assert msg["Subject"] == "Ringkasan harian Kinerja: 4 pemberitahuan"
    text = parts(msg)["text/plain"]
    for title in (
        "SKP Rina Wati menunggu persetujuan Anda",
        "SKP Dewi Lestari menunggu persetujuan Anda",
        "Dibuka: Periode 1: penilaian diri (2026)",
    ):
        assert title in text
    assert text.count("Yth.") == 1  # one greeting, not one per item
    bundled = [notif.rows(Delivery, Delivery.id == d.id)[0] for d in deferred]
    assert {d.status for d in bundled} == {"sent"} and len({d.bundled_into for d in bundled}) == 1
    (digest,) = notif.rows(Notification, Notification.template == "digest")
    assert digest.in_inbox is False  # the inbox already has each one
    assert notif.dispatch() == {}
    clock.set(datetime(2026, 1, 7, 7, 0, tzinfo=JAKARTA))
    assert notif.dispatch() == {}  # nothing new: no empty digest


def test_bad_preferences_are_refused_with_field_errors(notif, org):
    me = org.as_(SITI)
    cases = [
        ({"timezone": "Mars/Olympus"}, "timezone", "timezone.invalid"),
        ({"timezone": "../../etc/passwd"}, "timezone", "timezone.invalid"),
        ({"quiet_start": "22:00"}, "quiet_end", "quiet.incomplete"),
        ({"quiet_start": "25:00", "quiet_end": "06:00"}, "quiet_start", "time.invalid"),
        ({"apprise_urls": ["bogus://nothing"]}, "apprise_urls[0]", "apprise.invalid"),
        ({"overrides": {"plans.plan.*": ["sms"]}}, "overrides.plans.plan.*", "channel.invalid"),
        ({"overrides": {"plans..x": ["email"]}}, "overrides.plans..x", "webhook.pattern"),
        ({"language": "fr"}, "language", "field.invalid"),
        ({"digest_hour": 24}, "digest_hour", "field.invalid"),
        ({"colour": "red"}, "colour", "field.unknown"),
    ]
    for body, field_name, code in cases:
        r = notif.patch("/preferences", me, body)
        errors = {e["field"]: e["code"] for e in problem(r, 422)["errors"]}
        assert errors.get(field_name) == code, (body, errors)
    assert notif.get("/preferences", me).get_json()["timezone"] == "Asia/Jakarta"  # nothing stored
    problem(notif.patch("/preferences", org.hr, {"email": False}), 403, "notifications.no_person")
    r = notif.client.patch("/notifications/api/v1/preferences", headers=me, data="{", content_type="application/json")
    problem(r, 400)
    r = notif.client.patch("/notifications/api/v1/preferences", headers=me, data="x", content_type="text/plain")
    problem(r, 415)
    en = notif.patch("/preferences", {**me, "Accept-Language": "en"}, {"timezone": "Mars/Olympus"})
    assert "IANA" in en.get_json()["errors"][0]["detail"]
