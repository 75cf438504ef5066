"""The employee hears when their follow-up is done or dropped (issue 15): ``reviews.followup.updated``
to completed or cancelled tells the employee, in their language, with a link to their evaluation;
a change that leaves it open tells nobody."""

from __future__ import annotations

from services.notifications.models import Notification
from tests.plans.support import KASI_A, STAFF_A

RINA = STAFF_A[0]
FU = {
    "followup_id": 2,
    "evaluation_id": 7,
    "cycle_id": 1,
    "agency_code": "PKMB",
    "employee_nip": RINA,
    "kind": "development",
    "status": "in_progress",
    "previous_status": "planned",
    "owner_nip": KASI_A,
    "due_date": "2026-06-30",
    "completed_at": None,
}


def _told(notif, env) -> dict[str, tuple[str, str, str | None]]:
    rows = notif.rows(Notification, Notification.event_id == env["id"])
    return {n.recipient_key: (n.title, n.body_text, n.link) for n in rows}


def test_the_employee_hears_when_the_follow_up_is_completed_or_cancelled(notif):
    assert _told(notif, notif.publish("reviews.followup.updated", FU)) == {}  # still open: nobody
    done = {**FU, "status": "completed", "previous_status": "in_progress", "completed_at": "2026-03-02"}
    told = _told(notif, notif.publish("reviews.followup.updated", done))
    assert list(told) == [RINA]
    title, body, link = told[RINA]
    assert title == "Rencana pengembangan kinerja selesai" and "ditandai selesai pada" in body
    assert link.endswith("/evaluasi/7")
    dropped = {**FU, "kind": "recognition", "status": "cancelled", "followup_id": 3}
    told = _told(notif, notif.publish("reviews.followup.updated", dropped))
    assert told[RINA][0] == "Penghargaan kinerja dibatalkan" and list(told) == [RINA]
