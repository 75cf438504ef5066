"""A reply to feedback reaches the superior who wrote it (issue 15): plans publishes
``plans.feedback.replied`` when the employee answers a note or a coaching record; the default rule
turns it into a message in the giver's inbox, in their language, linking to the team member's
feedback page (``/tim/skp/<plan_id>/umpan-balik``) where they can read and answer it."""

from __future__ import annotations

from services.notifications.models import Delivery, Notification
from tests.plans.support import HEAD, KASI_A, KASI_B, STAFF_A

RINA = STAFF_A[0]


def test_the_superior_who_wrote_the_note_hears_of_the_reply(notif, org):
    hp, ka, sa = org.team_a()
    org.advance_to("monitoring:1:check_in")
    url = f"/plans/{sa['id']}/feedback"
    fb = org.post(url, org.as_(KASI_A), {"kind": "coaching", "value_code": "adaptif", "text": "Sesi bimbingan"})
    assert fb.status_code == 201, fb.get_json()
    other = org.post(url, org.as_(HEAD), {"value_code": "loyal", "text": "Baik"}).get_json()
    notif.pump()
    r = org.post(f"{url}/{fb.get_json()['id']}/replies", org.as_(RINA), {"text": "Siap, saya jadwalkan pelatihan"})
    assert r.status_code == 201, r.get_json()
    notif.pump()

    (msg,) = [i for i in notif.inbox(org.as_(KASI_A)) if i["template"] == "feedback.replied"]
    assert msg["title"] == "Rina Wati membalas catatan bimbingan kinerja Anda"
    assert "Siap, saya jadwalkan pelatihan" in msg["body"]
    assert msg["link"].endswith(f"/tim/skp/{sa['id']}/umpan-balik")
    assert f"/tim/skp/{sa['id']}/umpan-balik" in msg["body"]  # the e-mail's plain text carries it too
    # the head wrote another note on the same plan: not theirs, not told; the employee is not told
    # of their own reply
    assert not [i for i in notif.inbox(org.as_(HEAD)) if i["template"] == "feedback.replied"]
    assert not [i for i in notif.inbox(org.as_(RINA)) if i["template"] == "feedback.replied"]

    r = org.post(f"{url}/{other['id']}/replies", org.as_(RINA), {"text": "Terima kasih"})
    assert r.status_code == 201, r.get_json()
    notif.pump()
    (msg,) = [i for i in notif.inbox(org.as_(HEAD)) if i["template"] == "feedback.replied"]
    assert msg["title"] == "Rina Wati membalas umpan balik Anda"
    assert len([i for i in notif.inbox(org.as_(KASI_A)) if i["template"] == "feedback.replied"]) == 1


def test_the_message_is_in_the_givers_language_and_mailed(notif, org):
    # Agus (kasi B) reads English; he wrote the note his staff member answers
    env = notif.publish(
        "plans.feedback.replied",
        {
            "reply_id": 4,
            "feedback_id": 3,
            "plan_id": 12,
            "cycle_id": 1,
            "employee_nip": RINA,
            "giver_nip": KASI_B,
            "kind": "feedback",
            "text": "Noted, I will fix the report.",
        },
    )
    (msg,) = [i for i in notif.inbox(org.as_(KASI_B)) if i["template"] == "feedback.replied"]
    assert msg["title"] == "Rina Wati replied to your feedback"
    assert "Noted, I will fix the report." in msg["body"] and msg["link"].endswith("/tim/skp/12/umpan-balik")
    (note,) = notif.rows(Notification, Notification.event_id == env["id"])
    assert note.recipient_key == KASI_B  # nobody else
    emails = notif.rows(Delivery, Delivery.event_id == env["id"], Delivery.channel == "email")
    assert [d.recipient_key for d in emails] == [KASI_B]
