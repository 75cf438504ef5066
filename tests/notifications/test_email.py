"""E-mail through a real SMTP server (aiosmtpd on 127.0.0.1): plans events become messages in the
recipient's language with a plain-text and an HTML part, over one connection per batch; a
redelivered event sends nothing twice; bad input (an invalid address, a template variable the
event lacks) is recorded failed with the reason; a refusing (550), hanging or absent server is
retried with backoff or reported — never a crash, never a blocked queue."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from services.notifications.models import Delivery, DeliveryAttempt, Notification, platform_tables
from tests.notifications.support import parts
from tests.plans.support import HEAD, KASI_A, KASI_B, STAFF_A, STAFF_B

RINA = STAFF_A[0]


def _returned(org, note="Target kuantitas belum terukur; tambahkan IKI kualitas."):
    hp = org.head_plan()
    ka = org.cascade(hp, KASI_A, approver=HEAD)
    plan = org.cascade(ka, RINA)
    assert org.submit(plan["id"], RINA).status_code == 200
    r = org.post(f"/plans/{plan['id']}/return", org.as_(KASI_A), {"note": note})
    assert r.status_code == 200, r.get_json()
    return plan


def _returned_data(**over):
    data = {
        "plan_id": 99,
        "cycle_id": 1,
        "agency_code": "PKMB",
        "employee_nip": RINA,
        "penilai_nip": KASI_A,
        "unit_code": "SEK-A",
        "status": "returned",
        "revision": 0,
        "note": "Perbaiki indikator.",
    }
    return {**data, **over}


def test_penilai_hears_of_a_submission_in_their_own_language_with_both_parts_over_one_connection(notif, org, smtp):
    hp = org.head_plan()
    ka = org.cascade(hp, KASI_A, approver=HEAD)
    kb = org.cascade(hp, KASI_B, approver=HEAD, which=1)
    for nip, parent in ((RINA, ka), (STAFF_B[0], kb)):
        plan = org.cascade(parent, nip)
        assert org.submit(plan["id"], nip).status_code == 200
    notif.pump()
    assert smtp.messages == []  # recording sends nothing: the dispatcher does
    before = len(notif.outbox("notifications.notification.sent"))
    counts = notif.dispatch()
    assert counts["sent"] == len(smtp.messages) >= 6
    assert smtp.connections == 1  # one SMTP connection for the whole batch

    (siti,) = [m for m in smtp.to("siti@pkmb.go.id") if "menunggu persetujuan" in m["Subject"]]
    assert siti["Subject"] == "SKP Rina Wati menunggu persetujuan Anda"
    assert siti["From"] == "Kinerja PKMB <kinerja@pkmb.go.id>" and siti["Content-Language"] == "id"
    body = parts(siti)
    assert body["text/plain"].startswith("Yth. Siti Aminah,")
    assert "Rina Wati (NIP 199001012015031004) telah mengajukan" in body["text/plain"]
    assert "<h1" in body["text/html"] and "Buka di Kinerja" in body["text/html"]

    (agus,) = [m for m in smtp.to("agus@pkmb.go.id") if "awaits your approval" in m["Subject"]]  # Agus reads English
    assert agus["Subject"] == "Andi Pratama's work plan (SKP) awaits your approval"
    assert agus["Content-Language"] == "en"
    body = parts(agus)
    assert body["text/plain"].startswith("Dear Agus Salim,") and "Open in Kinerja" in body["text/html"]
    assert "Andi Pratama&#39;s work plan" in body["text/html"]  # escaped in HTML

    sent = notif.outbox("notifications.notification.sent")[before:]
    assert len(sent) == counts["sent"]
    assert all(e["envelope"]["data"]["channel"] == "email" for e in sent)
    assert notif.dispatch() == {}  # nothing left


def test_returned_plan_reaches_the_employee_once_even_when_the_event_is_redelivered(notif, org, smtp):
    notif.set_contact(RINA, email="rina@pkmb.go.id")
    _returned(org, note="Target <b>kuantitas</b> & mutu belum terukur.")
    notif.pump()
    notif.dispatch()
    (msg,) = smtp.to("rina@pkmb.go.id")
    assert msg["Subject"] == "SKP Anda dikembalikan untuk diperbaiki"
    body = parts(msg)
    assert '"Target <b>kuantitas</b> & mutu belum terukur."' in body["text/plain"]
    assert "Target &lt;b&gt;kuantitas&lt;/b&gt; &amp; mutu" in body["text/html"]
    (note,) = [n for n in notif.inbox(org.as_(RINA)) if n["event_type"] == "plans.plan.returned"]
    assert note["title"] == "SKP Anda dikembalikan untuk diperbaiki"

    # the plans relay publishes the same event again (a redelivery): no second notification or e-mail
    (row,) = org.outbox("plans.plan.returned")
    notif.publish_envelope(row["envelope"])
    with notif.db() as s:  # the platform inbox skipped it; and the unique keys would have refused it
        inbox_rows = s.execute(
            select(func.count())
            .select_from(platform_tables.inbox)
            .where(platform_tables.inbox.c.event_id == row["event_id"])
        ).scalar()
        assert inbox_rows == 1
    # even calling the handler directly (as if the inbox row were lost) records nothing new
    from services.notifications import recording

    with notif.app.app_context(), notif.db() as s:
        recording.handle_event(s, row["envelope"])
        s.commit()
    assert len(notif.rows(Notification, Notification.event_id == row["event_id"])) == 1
    assert len(notif.rows(Delivery, Delivery.event_id == row["event_id"], Delivery.channel == "email")) == 1
    assert notif.dispatch() == {}
    assert len(smtp.to("rina@pkmb.go.id")) == 1


def test_an_invalid_address_is_recorded_failed_and_the_consumer_goes_on(notif, org, smtp):
    # a directory event carrying an address no server would take (plans validates; a message may not)
    notif.publish(
        "plans.employee.upserted",
        {
            "nip": RINA,
            "agency_code": "PKMB",
            "name": "Rina Wati",
            "email": "not-an-address",
            "phone": None,
            "position": "Analis Perencanaan",
            "grade": "III/a",
            "unit_code": "SEK-A",
            "unit_name": "Seksi Perencanaan",
            "superior_nip": KASI_A,
            "language": "id",
            "active": True,
        },
        subject=RINA,
    )
    env = notif.publish("plans.plan.returned", _returned_data())
    (d,) = notif.rows(Delivery, Delivery.event_id == env["id"], Delivery.channel == "email")
    assert (d.status, d.last_error, d.target) == ("failed", "delivery.invalid_address", "not-an-address")
    assert [n["title"] for n in notif.inbox(org.as_(RINA))][-1] == "SKP Anda dikembalikan untuk diperbaiki"
    failed = notif.outbox("notifications.notification.failed")
    assert [e["envelope"]["data"]["delivery_id"] for e in failed] == [d.id]
    r = notif.get(f"/deliveries/{d.id}", org.hr)
    assert r.get_json()["error"] == "Alamat e-mail tidak valid: not-an-address"
    # the next event is processed as usual
    env2 = notif.publish(
        "plans.plan.approved",
        {
            **_returned_data(status="approved", revision=1),
            "approach": "x",
            "employee_name": "Rina Wati",
            "position": "Analis",
            "grade": None,
            "is_head_of_unit": False,
            "approved_by": KASI_A,
            "rhk": [],
            "behaviour": {},
        },
    )
    assert notif.rows(Notification, Notification.event_id == env2["id"])
    assert notif.dispatch() == {}
    assert smtp.messages == []


def test_a_template_variable_the_event_lacks_is_recorded_failed_with_the_reason(notif, org, smtp):
    notif.set_contact(RINA, email="rina@pkmb.go.id")
    data = _returned_data()
    del data["note"]  # the template prints data.note
    env = notif.publish("plans.plan.returned", data)
    assert notif.rows(Notification, Notification.event_id == env["id"]) == []  # nothing half-rendered
    deliveries = notif.rows(Delivery, Delivery.event_id == env["id"])
    assert {d.channel for d in deliveries} == {"inapp", "email"}
    for d in deliveries:
        assert d.status == "failed"
        assert "template" in d.last_error and "note" in d.last_error and "UndefinedError" in d.last_error
    assert len(notif.outbox("notifications.notification.failed")) == 2
    r = notif.get("/deliveries?status=failed", org.hr)
    assert sorted(i["channel"] for i in r.get_json()["items"]) == ["email", "inapp"]
    assert notif.dispatch() == {} and smtp.messages == []


def test_a_550_refusal_fails_that_message_only_and_the_batch_goes_on(notif, org, smtp):
    smtp.refuse.add("siti@pkmb.go.id")
    org.cascade(org.head_plan(), KASI_A, approver=HEAD)  # kasi A approved (→ Siti), submitted (→ Budi)
    notif.pump()
    counts = notif.dispatch()
    assert counts["failed"] >= 1 and counts["sent"] >= 1
    assert smtp.connections == 1  # the refusal did not cost the connection
    assert smtp.to("siti@pkmb.go.id") == [] and smtp.to("budi@pkmb.go.id")
    failed = notif.rows(Delivery, Delivery.status == "failed")
    assert failed and all(d.target == "siti@pkmb.go.id" and d.attempts == 1 for d in failed)
    assert all("550" in d.last_error for d in failed)
    r = notif.get("/deliveries?status=failed&channel=email", org.hr)
    assert {i["target"] for i in r.get_json()["items"]} == {"siti@pkmb.go.id"}


def test_a_hanging_server_times_out_and_is_retried_with_backoff(notif, org, smtp, clock):
    smtp.mode, smtp.hang_seconds = "hang", 3.0  # SMTP_URL has timeout=2
    org.cascade(org.head_plan(), KASI_A, approver=HEAD)
    notif.pump()
    counts = notif.dispatch()
    assert counts.get("sent", 0) == 0 and counts["retry"] == 1 and counts["postponed"] >= 1
    queued = notif.rows(Delivery, Delivery.channel == "email", Delivery.status == "queued")
    tried = [d for d in queued if d.attempts == 1]
    (d,) = tried
    assert "timed out" in d.last_error.lower() or "timeout" in d.last_error.lower()
    assert d.next_attempt_at.replace(tzinfo=None) == (clock.now + timedelta(minutes=1)).replace(tzinfo=None)
    assert all(x.attempts == 0 for x in queued if x is not d)  # the rest were not tried against a dead server
    assert notif.dispatch() == {}  # nothing due before the backoff ends
    smtp.mode = "ok"
    clock.advance(minutes=2)
    counts = notif.dispatch_all()
    assert counts["sent"] == len(queued)
    with notif.db() as s:
        outcomes = [
            a.outcome
            for a in s.scalars(
                select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == d.id).order_by(DeliveryAttempt.id)
            )
        ]
    assert outcomes == ["retry", "sent"]


def test_a_temporary_refusal_is_retried_until_the_attempts_are_used_up(notif, org, smtp, clock):
    smtp.mode = "tempfail"  # 451 on DATA
    notif.set_contact(RINA, email="rina@pkmb.go.id")
    env = notif.publish("plans.plan.returned", _returned_data())
    (d,) = notif.rows(Delivery, Delivery.event_id == env["id"], Delivery.channel == "email")
    for minutes in (0, 1, 5, 15, 60):
        clock.advance(minutes=minutes)
        notif.dispatch()
    (d,) = notif.rows(Delivery, Delivery.id == d.id)
    assert (d.status, d.attempts) == ("failed", 5) and "451" in d.last_error
    assert [e["envelope"]["data"]["delivery_id"] for e in notif.outbox("notifications.notification.failed")] == [d.id]


def test_a_refused_connection_is_retried_and_the_consumer_is_never_blocked(notif, org, smtp, clock):
    notif.platform.settings.smtp_url = "smtp://127.0.0.1:1?timeout=1"  # nothing listens there
    notif.set_contact(RINA, email="rina@pkmb.go.id")
    env = notif.publish("plans.plan.returned", _returned_data())
    counts = notif.dispatch()
    assert counts["retry"] == 1
    (d,) = notif.rows(Delivery, Delivery.event_id == env["id"], Delivery.channel == "email")
    assert d.status == "queued" and "Connection" in d.last_error
    env2 = notif.publish("plans.plan.returned", _returned_data(plan_id=100))  # consuming goes on meanwhile
    assert notif.rows(Notification, Notification.event_id == env2["id"])
    notif.platform.settings.smtp_url = smtp.url
    clock.advance(minutes=1)
    assert notif.dispatch_all()["sent"] == 2


def test_without_smtp_url_e_mail_stays_in_the_delivery_log(notif, org, smtp):
    notif.platform.settings.smtp_url = None
    notif.set_contact(RINA, email="rina@pkmb.go.id")
    env = notif.publish("plans.plan.returned", _returned_data())
    notif.dispatch()
    (d,) = notif.rows(Delivery, Delivery.event_id == env["id"], Delivery.channel == "email")
    assert (d.status, d.last_error) == ("skipped", "delivery.smtp_not_configured")
    r = notif.get(f"/deliveries/{d.id}", {**org.hr, "Accept-Language": "en"})
    assert r.get_json()["error"].startswith("SMTP_URL is not set")
    assert smtp.messages == []


def test_the_worker_sends_a_backlog_round_after_round_not_one_batch_per_interval(notif, org, smtp, monkeypatch):
    """`kinerja worker` runs the dispatcher every NOTIFICATIONS_DISPATCH_INTERVAL; a round that took
    a whole batch is followed by the next at once, so a stage opening's e-mails to a province go out
    at the SMTP server's speed, not 200 every 5 seconds."""
    import time

    from kinerja import registry
    from kinerja.embedded import JobRunner

    hp = org.head_plan()
    ka = org.cascade(hp, KASI_A, approver=HEAD)
    kb = org.cascade(hp, KASI_B, approver=HEAD, which=1)
    for nip, parent in ((RINA, ka), (STAFF_B[0], kb)):
        assert org.submit(org.cascade(parent, nip)["id"], nip).status_code == 200
    notif.pump()
    due = len(notif.rows(Delivery, Delivery.channel == "email", Delivery.status == "queued"))
    assert due >= 5
    monkeypatch.setattr(notif.platform.settings, "dispatch_batch", 2)
    monkeypatch.setattr(notif.platform.settings, "dispatch_interval", 60.0)
    (job,) = [
        j for j in registry.background_jobs("notifications", notif.platform) if j.__name__ == "dispatch_notifications"
    ]
    assert (job.batch, job.interval) == (2, 60.0)
    runner = JobRunner([job])
    runner.start()
    try:
        deadline = time.monotonic() + 20
        while len(smtp.messages) < due and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        runner.stop()
    assert len(smtp.messages) == due  # every round but the last was full: all sent within one interval
    assert smtp.connections == -(-due // 2)  # one SMTP connection per round of 2
    assert notif.rows(Delivery, Delivery.channel == "email", Delivery.status == "queued") == []
