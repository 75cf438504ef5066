"""HR's inbox (issue 15): HR signs in without a NIP, and the ``hr`` audience reaches the agency's HR
contacts; a contact that is only an address had its messages in e-mail alone. HR without a NIP now
reads them in the agency's HR inbox — once per message however many address-only contacts there
are, never a person's message, never another agency's."""

from __future__ import annotations

from services.notifications.models import Notification
from tests.plans.support import HEAD, KASI_A, STAFF_A, problem

OBJ = {
    "objection_id": 3,
    "evaluation_id": 7,
    "cycle_id": 1,
    "agency_code": "PKMB",
    "employee_nip": STAFF_A[0],
    "penilai_nip": KASI_A,
    "atasan_nip": HEAD,
    "status": "filed",
    "decision": None,
}


def test_hr_reads_its_contacts_messages_once_and_marks_them_read(notif, org):
    notif.set_hr_contacts(
        [
            {"name": "Bagian Kepegawaian", "email": "kepegawaian@pkmb.go.id"},
            {"name": "Sekretariat", "email": "sekretariat@pkmb.go.id"},
        ]
    )
    env = notif.publish("reviews.objection.filed", OBJ)
    # two address-only contacts: two rows, one message in HR's inbox
    hr_rows = [n for n in notif.rows(Notification, Notification.event_id == env["id"]) if n.recipient_nip is None]
    assert len(hr_rows) == 2
    items = [i for i in notif.inbox(org.hr) if i["event_id"] == env["id"]]
    assert len(items) == 1 and items[0]["template"] == "objection.filed" and items[0]["audience"] == "hr"
    assert "Rina Wati" in items[0]["title"] and items[0]["read"] is False
    unread = notif.get("/inbox/unread-count", org.hr).get_json()["unread"]
    assert unread == len(notif.inbox(org.hr)) >= 1
    detail = notif.get(f"/inbox/{items[0]['id']}", org.hr).get_json()
    assert "<html" in detail["body_html"]

    # HR of another agency, the persons involved and an admin without an agency do not see it
    problem(notif.get(f"/inbox/{items[0]['id']}", org.other_hr), 404, "notifications.not_found")
    assert env["id"] not in [i["event_id"] for i in notif.inbox(org.other_hr)]
    problem(notif.get(f"/inbox/{items[0]['id']}", org.as_(KASI_A)), 404)
    problem(notif.post(f"/inbox/{items[0]['id']}/read", org.other_hr), 404)

    # marking it read marks the copy of the other contact too: it does not come back
    r = notif.post(f"/inbox/{items[0]['id']}/read", org.hr)
    assert r.status_code == 200 and r.get_json()["read"] is True
    assert all(n.read_at is not None for n in notif.rows(Notification, Notification.id.in_([n.id for n in hr_rows])))
    assert notif.get("/inbox/unread-count", org.hr).get_json() == {"unread": unread - 1}
    assert notif.post("/inbox/read-all", org.hr).get_json() == {"marked": unread - 1}
    assert notif.get("/inbox/unread-count", org.hr).get_json() == {"unread": 0}


def test_a_persons_message_never_reaches_the_hr_inbox(notif, org):
    # the head is an HR contact with a NIP: HR messages go to the head's own inbox, not HR's
    notif.set_hr_contacts([{"name": "Budi (PPK)", "nip": HEAD}])
    env = notif.publish("reviews.objection.filed", OBJ)
    assert env["id"] not in [i["event_id"] for i in notif.inbox(org.hr)]
    assert env["id"] in [i["event_id"] for i in notif.inbox(org.as_(HEAD))]
    mine = [i for i in notif.inbox(org.as_(KASI_A)) if i["event_id"] == env["id"]][0]
    problem(notif.get(f"/inbox/{mine['id']}", org.hr), 404)
    problem(notif.post(f"/inbox/{mine['id']}/read", org.hr), 404)
    assert notif.post("/inbox/read-all", org.hr).get_json() == {"marked": 0}
    assert [i["read"] for i in notif.inbox(org.as_(KASI_A)) if i["event_id"] == env["id"]] == [False]
