"""The in-app inbox: per person (nobody sees anyone else's notification: 404), cursor pagination,
unread count, mark read and mark all read; the delivery log belongs to the agency's HR."""

from __future__ import annotations

from services.notifications.models import Delivery
from tests.plans.support import KASI_A, OTHER_EMP, STAFF_A, problem

SITI = KASI_A


def _submissions(notif, n: int) -> list[dict]:
    out = []
    for i in range(n):
        out.append(
            notif.publish(
                "plans.plan.submitted",
                {
                    "plan_id": 50 + i,
                    "cycle_id": 1,
                    "agency_code": "PKMB",
                    "employee_nip": STAFF_A[i % 3],
                    "penilai_nip": SITI,
                    "unit_code": "SEK-A",
                    "status": "submitted",
                    "revision": 0,
                },
            )
        )
    return out


def test_inbox_pages_counts_and_marks_read(notif, org):
    _submissions(notif, 3)
    me = org.as_(SITI)
    items = notif.inbox(me)
    assert [i["template"] for i in items] == [
        "cycle.stage_opened",
        "plan.submitted",
        "plan.submitted",
        "plan.submitted",
    ]
    assert [i["title"] for i in items[1:]] == [
        "SKP Rina Wati menunggu persetujuan Anda",
        "SKP Dewi Lestari menunggu persetujuan Anda",
        "SKP Joko Widodo menunggu persetujuan Anda",
    ]
    assert all(i["read"] is False and i["link"].startswith("http") for i in items)

    r = notif.get("/inbox?limit=3", me)
    page1 = r.get_json()
    assert len(page1["items"]) == 3 and page1["next_cursor"]
    page2 = notif.get(f"/inbox?limit=3&cursor={page1['next_cursor']}", me).get_json()
    assert [i["id"] for i in page2["items"]] == [items[3]["id"]] and page2["next_cursor"] is None

    assert notif.get("/inbox/unread-count", me).get_json() == {"unread": 4}
    r = notif.post(f"/inbox/{items[1]['id']}/read", me)
    assert r.status_code == 200 and r.get_json()["read"] is True and r.get_json()["read_at"].endswith("+00:00")
    assert notif.post(f"/inbox/{items[1]['id']}/read", me).status_code == 200  # repeatable
    assert notif.get("/inbox/unread-count", me).get_json() == {"unread": 3}
    unread = notif.get("/inbox?unread=true", me).get_json()["items"]
    assert items[1]["id"] not in [i["id"] for i in unread] and len(unread) == 3
    detail = notif.get(f"/inbox/{items[2]['id']}", me).get_json()
    assert detail["body"].startswith("Yth. Siti Aminah,") and "<html" in detail["body_html"]

    assert notif.post("/inbox/read-all", me).get_json() == {"marked": 3}
    assert notif.get("/inbox/unread-count", me).get_json() == {"unread": 0}
    assert notif.post("/inbox/read-all", me).get_json() == {"marked": 0}


def test_nobody_sees_anyone_elses_notification(notif, org):
    _submissions(notif, 1)
    mine = notif.inbox(org.as_(SITI))[-1]
    colleague = org.as_(STAFF_A[1])
    for call in (
        lambda: notif.get(f"/inbox/{mine['id']}", colleague),
        lambda: notif.post(f"/inbox/{mine['id']}/read", colleague),
        lambda: notif.get(f"/inbox/{mine['id']}", org.tokens.employee(OTHER_EMP, agency="OTHER")),
    ):
        problem(call(), 404, "notifications.not_found")
    assert notif.post("/inbox/read-all", colleague).get_json() == {"marked": 1}  # only their own one
    assert notif.get("/inbox/unread-count", org.as_(SITI)).get_json() == {"unread": 2}
    assert mine["id"] not in [i["id"] for i in notif.inbox(colleague)]
    assert notif.inbox(org.hr) == []  # HR without a NIP reads the agency's HR inbox, never a person's message
    problem(notif.get("/inbox", org.admin), 403, "notifications.no_person")  # no NIP, no agency: no inbox
    problem(notif.client.get("/notifications/api/v1/inbox"), 401, "auth.missing")
    problem(notif.get("/inbox/999999", org.as_(SITI)), 404)
    problem(notif.get("/inbox/99999999999999", org.as_(SITI)), 404)
    problem(notif.get("/inbox?cursor=!!", org.as_(SITI)), 422)
    problem(notif.get("/inbox?cursor=eyJrIjogImEifQ", org.as_(SITI)), 422)  # a well-formed cursor of another type
    problem(notif.get("/inbox?limit=0", org.as_(SITI)), 422)


def test_the_delivery_log_is_hr_of_the_agency_only(notif, org):
    _submissions(notif, 1)
    items = notif.get("/deliveries?limit=200", org.hr).get_json()["items"]
    assert items and {i["agency_code"] for i in items} == {"PKMB"}
    d = notif.rows(Delivery)[0]
    assert notif.get("/deliveries?limit=200", org.other_hr).get_json()["items"] == []
    problem(notif.get(f"/deliveries/{d.id}", org.other_hr), 404)
    problem(notif.get("/deliveries", org.as_(SITI)), 403, "auth.role")
    detail = notif.get(f"/deliveries/{d.id}", org.hr).get_json()
    assert detail["id"] == d.id and isinstance(detail["attempt_log"], list)
    problem(notif.get("/deliveries?status=lost", org.hr), 422)
    admin = notif.get("/deliveries?limit=1", org.admin).get_json()
    assert len(admin["items"]) == 1 and admin["next_cursor"]
