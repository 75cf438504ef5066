"""Reminders requested by the flows (HTTP or event): one per (batch key, recipient) however often
asked; escalation of who is still overdue to the superior from the deadline, then to HR, each
once per person."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.notifications.models import Notification, ReminderItem
from tests.plans.support import HEAD, JAKARTA, KASI_A, OTHER_EMP, STAFF_A, problem

RINA, DEWI, JOKO = STAFF_A
HR_MAIL = "kepegawaian@pkmb.go.id"
DEADLINE = datetime(2026, 4, 10, 23, 59, tzinfo=JAKARTA)


def _batch(**over):
    body = {
        "batch_key": "2026-p1-self-assessment",
        "template": "reminder.self_assessment",
        "recipients": [{"nip": RINA}, {"nip": DEWI}],
        "deadline": DEADLINE.isoformat(),
        "params": {"period_name": "Triwulan I"},
    }
    return {**body, **over}


def _titles(notif, nip, template_prefix):
    return [
        n.title
        for n in notif.rows(Notification, Notification.recipient_nip == nip)
        if n.template.startswith(template_prefix)
    ]


def test_a_reminder_batch_is_idempotent_per_batch_key_and_recipient(notif, org):
    r = notif.post("/reminders", org.hr, _batch())
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert out["created"] == [RINA, DEWI] and out["already"] == [] and out["unknown"] == []
    assert _titles(notif, RINA, "reminder.") == ["Pengingat: penilaian diri Triwulan I"]
    body = notif.inbox(org.as_(RINA))[-1]["body"]
    assert "tenggatnya 10 April 2026 23.59 WIB" in body
    # asked again (a flow retried), and again with one more person: only the new one is reminded
    again = notif.post("/reminders", org.hr, _batch()).get_json()
    assert again["created"] == [] and again["already"] == [RINA, DEWI]
    more = notif.post("/reminders", org.hr, _batch(recipients=[{"nip": DEWI}, {"nip": JOKO}, {"nip": OTHER_EMP}]))
    assert more.get_json()["created"] == [JOKO] and more.get_json()["unknown"] == [OTHER_EMP]
    # the answer lists the request's people (a flow sends a province's batch 200 at a time), and
    # counts the whole batch; GET lists everyone
    assert sorted(i["recipient_nip"] for i in more.get_json()["items"]) == sorted([DEWI, JOKO])
    assert more.get_json()["counts"] == {"items": 3, "done": 0, "escalations": {"superior": 0, "hr": 0}}
    whole = notif.get("/reminders/2026-p1-self-assessment", org.hr).get_json()
    assert [i["recipient_nip"] for i in whole["items"]] == [RINA, DEWI, JOKO] and whole["counts"]["items"] == 3
    for nip in (RINA, DEWI, JOKO):
        assert len(_titles(notif, nip, "reminder.")) == 1
    assert len(notif.rows(ReminderItem)) == 3
    # the Idempotency-Key replays the first answer
    key = {**org.hr, "Idempotency-Key": "flow-run-1"}
    first = notif.post("/reminders", key, _batch(batch_key="k2"))
    second = notif.post("/reminders", key, _batch(batch_key="k2"))
    assert second.headers.get("Idempotent-Replayed") == "true" and second.get_json() == first.get_json()
    # refused
    problem(notif.post("/reminders", org.hr, _batch(template="reminder.rating")), 409, "reminder.batch_conflict")
    body = problem(notif.post("/reminders", org.hr, _batch(batch_key="k3", template="reminder.generic")), 422)
    assert body["errors"][0]["field"] == "params" and "task" in body["errors"][0]["detail"]
    body = problem(notif.post("/reminders", org.hr, _batch(template="plan.returned")), 422)
    assert body["errors"][0]["field"] == "template"
    body = problem(notif.post("/reminders", org.hr, _batch(deadline="2026-04-10T23:59:00")), 422)
    assert body["errors"][0]["field"] == "deadline"  # a deadline needs its time zone
    problem(notif.post("/reminders", org.as_(KASI_A), _batch()), 403)
    problem(notif.post("/reminders", org.hr, _batch(recipients=[])), 422)


def test_escalation_goes_to_the_superior_then_to_hr_each_once(notif, org, clock):
    notif.set_hr_contacts([{"name": "Kepegawaian", "email": HR_MAIL}])
    notif.post("/reminders", org.hr, _batch())
    esc = "/reminders/2026-p1-self-assessment/escalate"
    assert notif.post(esc, org.hr, {"recipients": [RINA, DEWI]}).get_json()["escalated"] == 0  # before the deadline

    clock.set(DEADLINE + timedelta(hours=1))
    out = notif.post(esc, org.hr, {"recipients": [RINA]}).get_json()  # Dewi has done it meanwhile
    assert out["escalated"] == 1
    items = {i["recipient_nip"]: i for i in out["items"]}
    assert items[RINA]["escalation_level"] == 1 and items[DEWI]["done_at"] is not None
    assert [e["to"] for e in items[RINA]["escalations"]] == ["superior"]
    assert items[RINA]["escalations"][0]["recipients"] == [KASI_A]
    assert _titles(notif, KASI_A, "escalation.") == ["Eskalasi: Rina Wati melewati tenggat"]
    (note,) = [n for n in notif.inbox(org.as_(KASI_A)) if n["template"] == "escalation.superior"]
    assert '"penilaian diri"' in note["body"] and "10 April 2026 23.59 WIB" in note["body"]
    assert notif.post(esc, org.hr, {"recipients": [RINA]}).get_json()["escalated"] == 0  # nothing new
    assert len(_titles(notif, KASI_A, "escalation.")) == 1

    clock.set(DEADLINE + timedelta(hours=49))
    out = notif.post(esc, org.hr, {"recipients": [RINA]}).get_json()
    assert out["escalated"] == 1
    (rina,) = [i for i in out["items"] if i["recipient_nip"] == RINA]
    assert [e["to"] for e in rina["escalations"]] == ["superior", "hr"] and rina["escalation_level"] == 2
    hr = [n for n in notif.rows(Notification) if n.template == "escalation.hr"]
    assert [n.title for n in hr] == ["Eskalasi ke pengelola kinerja: Rina Wati melewati tenggat"]
    assert "atasannya (Siti Aminah) sudah diberi tahu" in hr[0].body_text
    assert notif.post(esc, org.hr, {"recipients": [RINA]}).get_json()["escalated"] == 0
    assert notif.post(esc, org.hr, {"recipients": [RINA], "to": "hr"}).get_json()["escalated"] == 0
    assert len([n for n in notif.rows(Notification) if n.template.startswith("escalation.")]) == 2
    assert _titles(notif, DEWI, "escalation.") == [] and _titles(notif, HEAD, "escalation.") == []
    problem(notif.post("/reminders/nope/escalate", org.hr, {}), 404)
    problem(notif.post(esc, org.other_hr, {}), 404)


def test_forced_escalation_keeps_the_order_and_the_cap(notif, org):
    notif.set_hr_contacts([{"name": "Kepegawaian", "email": HR_MAIL}])
    notif.post("/reminders", org.hr, _batch(batch_key="now", deadline=None))
    out = notif.post("/reminders/now/escalate", org.hr, {"recipients": [RINA], "to": "hr"}).get_json()
    (rina,) = [i for i in out["items"] if i["recipient_nip"] == RINA]
    assert [e["to"] for e in rina["escalations"]] == ["superior", "hr"]
    notif.post("/reminders", org.hr, _batch(batch_key="capped", escalate_to="superior", deadline=None))
    out = notif.post("/reminders/capped/escalate", org.hr, {"to": "hr"}).get_json()
    assert {i["escalation_level"] for i in out["items"]} == {1}  # this batch never goes past the superior


def test_reminders_and_escalations_also_come_as_events(notif, org, clock):
    notif.set_hr_contacts([{"name": "Kepegawaian", "email": HR_MAIL}])
    request = {**_batch(batch_key="ev-1"), "agency_code": "PKMB"}
    notif.publish("reviews.reminder.requested", request)
    notif.publish("reviews.reminder.requested", request)  # another event id asking the same: no duplicate
    assert len(_titles(notif, RINA, "reminder.")) == 1 and len(notif.rows(ReminderItem)) == 2
    clock.set(DEADLINE + timedelta(hours=1))
    notif.publish(
        "reviews.reminder.escalation_requested", {"agency_code": "PKMB", "batch_key": "ev-1", "recipients": [DEWI]}
    )
    assert _titles(notif, KASI_A, "escalation.") == ["Eskalasi: Dewi Lestari melewati tenggat"]
    r = notif.get("/reminders/ev-1", org.hr).get_json()
    assert {i["recipient_nip"]: i["escalation_level"] for i in r["items"]} == {RINA: 0, DEWI: 1}
    # a request the service cannot use is dead-lettered, and the consumer goes on
    notif.publish(
        "reviews.reminder.requested",
        {"agency_code": "PKMB", "batch_key": "bad", "template": "nope", "recipients": [RINA]},
    )
    assert notif.emb.consumers[0].last_error is None
    assert notif.get("/reminders/bad", org.hr).status_code == 404


def test_a_partial_escalation_escalates_only_its_part_and_marks_no_one_done(notif, org, clock):
    """More than 5,000 people overdue go in parts: a part marked ``partial`` escalates its people and
    leaves the rest of the batch open (a later part, or a whole list, decides about them)."""
    notif.set_hr_contacts([{"name": "Kepegawaian", "email": HR_MAIL}])
    notif.post("/reminders", org.hr, _batch())
    esc = "/reminders/2026-p1-self-assessment/escalate"
    clock.set(DEADLINE + timedelta(hours=1))
    out = notif.post(esc, org.hr, {"recipients": [RINA], "partial": True}).get_json()
    assert out["escalated"] == 1
    assert [i["recipient_nip"] for i in out["items"]] == [RINA]  # the part's people, not the batch
    assert out["counts"] == {"items": 2, "done": 0, "escalations": {"superior": 1, "hr": 0}}
    items = {i["recipient_nip"]: i for i in notif.get("/reminders/2026-p1-self-assessment", org.hr).get_json()["items"]}
    assert items[RINA]["escalation_level"] == 1 and items[DEWI]["done_at"] is None  # not marked done
    out = notif.post(esc, org.hr, {"recipients": [DEWI], "partial": True}).get_json()
    items = {i["recipient_nip"]: i for i in notif.get("/reminders/2026-p1-self-assessment", org.hr).get_json()["items"]}
    assert out["escalated"] == 1 and items[DEWI]["escalation_level"] == 1 and items[RINA]["done_at"] is None
    out = notif.post(esc, org.hr, {"recipients": [RINA]}).get_json()  # the whole list: Dewi finished
    items = {i["recipient_nip"]: i for i in out["items"]}
    assert out["escalated"] == 0 and items[DEWI]["done_at"] is not None
    too_many = notif.post(esc, org.hr, {"recipients": [RINA] * 5001})
    assert too_many.status_code == 422 and "recipients" in str(too_many.get_json())


def test_a_batch_written_in_parts_reminds_and_escalates_everyone_once(notif, org, clock, monkeypatch):
    """A large batch is written every ``FLUSH_EVERY`` people (a request holds that many rendered
    messages, not the whole batch): every recipient is still reminded once, every escalation made
    once, and the answer lists each of them."""
    import services.notifications.recorder as recorder

    monkeypatch.setattr(recorder, "FLUSH_EVERY", 2)
    notif.set_hr_contacts([{"name": "Kepegawaian", "email": HR_MAIL}])
    out = notif.post("/reminders", org.hr, _batch(recipients=[{"nip": n} for n in STAFF_A])).get_json()
    assert out["created"] == list(STAFF_A)
    for nip in STAFF_A:
        assert len(_titles(notif, nip, "reminder.")) == 1
    clock.set(DEADLINE + timedelta(hours=1))
    out = notif.post("/reminders/2026-p1-self-assessment/escalate", org.hr, {"to": "hr"}).get_json()
    assert out["escalated"] == 2 * len(STAFF_A)  # superior and HR for each
    assert {i["recipient_nip"]: [e["to"] for e in i["escalations"]] for i in out["items"]} == {
        nip: ["superior", "hr"] for nip in STAFF_A
    }
    assert len(_titles(notif, KASI_A, "escalation.")) == len(STAFF_A)
    assert len([n for n in notif.rows(Notification) if n.template == "escalation.hr"]) == len(STAFF_A)


def test_a_batch_is_read_page_by_page_each_page_with_the_whole_batchs_counts(notif, org, clock):
    """``GET /reminders/<key>`` pages like the other lists (``limit`` ≤ 200, ``next_cursor``): a
    province's batch has 100,000 people. Every page carries the whole batch's counts."""
    notif.set_hr_contacts([{"name": "Kepegawaian", "email": HR_MAIL}])
    notif.post("/reminders", org.hr, _batch(recipients=[{"nip": n} for n in STAFF_A]))
    clock.set(DEADLINE + timedelta(hours=1))
    notif.post("/reminders/2026-p1-self-assessment/escalate", org.hr, {"recipients": [RINA]})  # the others done
    path = "/reminders/2026-p1-self-assessment"
    counts = {"items": 3, "done": 2, "escalations": {"superior": 1, "hr": 0}}
    first = notif.get(path, org.hr, query_string={"limit": 2}).get_json()
    assert [i["recipient_nip"] for i in first["items"]] == [RINA, DEWI] and first["next_cursor"]
    assert first["counts"] == counts and first["batch_key"] == "2026-p1-self-assessment"
    assert first["items"][0]["escalation_level"] == 1 and first["items"][1]["done_at"] is not None
    second = notif.get(path, org.hr, query_string={"limit": 2, "cursor": first["next_cursor"]}).get_json()
    assert [i["recipient_nip"] for i in second["items"]] == [JOKO] and second["next_cursor"] is None
    assert second["counts"] == counts
    whole = notif.get(path, org.hr).get_json()  # the default page (50) holds this small batch
    assert [i["recipient_nip"] for i in whole["items"]] == [RINA, DEWI, JOKO] and whole["next_cursor"] is None
    body = problem(notif.get(path, org.hr, query_string={"limit": 201}), 422)
    assert "limit" in {e["field"] for e in body["errors"]}
    body = problem(notif.get(path, org.hr, query_string={"cursor": "not-a-cursor"}), 422)
    assert "cursor" in {e["field"] for e in body["errors"]}
