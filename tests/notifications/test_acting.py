"""Acting officials (Plt/Plh) in notifications (issue 15, Deliver 3): an appointment HR records in
plans reaches the notifications read model as ``plans.acting.upserted`` (a late, older event changes
nothing; a payload without its fields is dead-lettered; a rebuild from the plans API restores it).
During the appointment whoever stands in for a penilai or an atasan hears what the official hears
— a plan submitted, an acknowledgement, reminders to rate, escalations — as a separate recipient,
told why; before it starts and after it ends (or is ended early) they hear nothing. The acting
official is told of the appointment in their own language, once: ending it early is no news to them."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import delete, select
from werkzeug.serving import make_server

from services.common.bus import make_event
from services.notifications.models import ActingRef, Notification, platform_tables
from tests.plans.support import HEAD, JAKARTA, KASI_A, KASI_B, STAFF_A, problem

RINA, DEWI, JOKO = STAFF_A
AGUS = KASI_B  # reads English
SITI = KASI_A

PLAN = {
    "plan_id": 51,
    "cycle_id": 1,
    "agency_code": "PKMB",
    "employee_nip": DEWI,
    "penilai_nip": SITI,
    "unit_code": "SEK-A",
    "status": "submitted",
    "revision": 0,
}
EV = {
    "evaluation_id": 7,
    "cycle_id": 1,
    "agency_code": "PKMB",
    "kind": "periodic",
    "period_seq": 1,
    "period_name": "Triwulan I",
    "employee_nip": RINA,
    "penilai_nip": SITI,
    "atasan_nip": HEAD,
    "unit_code": "SEK-A",
}


def _today(org):
    return org.clock().astimezone(JAKARTA).date()


def _appoint(notif, org, acting: str, for_nip: str, kind: str = "plt", days: int = 30, starts_in: int = 0) -> dict:
    start = _today(org) + timedelta(days=starts_in)
    body = {
        "acting_nip": acting,
        "for_nip": for_nip,
        "kind": kind,
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=days)).isoformat(),
    }
    r = org.post("/acting", org.hr, body)
    assert r.status_code == 201, r.get_json()
    notif.pump()  # plans.acting.upserted reaches the notifications read model
    return r.get_json()


def _told(notif, env: dict) -> dict[str, str]:
    """``{recipient NIP: audience}`` of what an event recorded."""
    return {n.recipient_nip: n.audience for n in notif.rows(Notification, Notification.event_id == env["id"])}


def _note(notif, env: dict, nip: str) -> Notification:
    (n,) = notif.rows(Notification, Notification.event_id == env["id"], Notification.recipient_nip == nip)
    return n


# ------------------------------------------------------------------ the read model


def test_an_appointment_reaches_the_read_model_and_a_late_older_event_changes_nothing(notif, org):
    a = _appoint(notif, org, AGUS, SITI, days=30)
    (row,) = notif.rows(ActingRef)
    assert (row.id, row.acting_nip, row.for_nip, row.kind) == (a["id"], AGUS, SITI, "plt")
    assert (row.start_date, row.end_date) == (_today(org), _today(org) + timedelta(days=30))

    # HR ends it early: the read model follows
    org.clock.advance(days=2)
    r = org.post(f"/acting/{a['id']}/end", org.hr, {})
    assert r.status_code == 200, r.get_json()
    notif.pump()
    (row,) = notif.rows(ActingRef)
    assert row.end_date == _today(org)

    # a redelivery of the creation (older than the end) arriving late changes nothing
    stale = {**a, "end_date": (_today(org) + timedelta(days=28)).isoformat(), "ended_early": False}
    older = notif.platform.clock() - timedelta(days=2)
    notif.publish_envelope(make_event("plans.acting.upserted", "/plans", str(a["id"]), stale, time=older))
    (row,) = notif.rows(ActingRef)
    assert row.end_date == _today(org)


def test_an_appointment_without_its_fields_is_dead_lettered_and_blocks_nothing(notif, org):
    env = notif.publish("plans.acting.upserted", {"id": 99, "agency_code": "PKMB", "acting_nip": AGUS, "for_nip": SITI})
    assert notif.rows(ActingRef) == []
    dead = platform_tables.dead_letters
    with notif.db() as s:
        reasons = [r.reason for r in s.execute(select(dead).where(dead.c.event_id == env["id"]))]
    assert reasons == ["rejected"]
    _appoint(notif, org, AGUS, SITI)  # the next one is processed
    assert [r.acting_nip for r in notif.rows(ActingRef)] == [AGUS]


def test_the_rebuild_restores_the_appointments_from_the_plans_api(notif, org):
    a = _appoint(notif, org, AGUS, SITI)
    server = make_server("127.0.0.1", 0, notif.emb.wsgi, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        notif.platform.settings.plans_url = f"http://127.0.0.1:{server.server_port}"
        with notif.db() as s:
            s.execute(delete(ActingRef))
            s.commit()
        r = notif.post("/read-model/rebuild", org.hr)
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["counts"] == {"units": 3, "people": 9, "acting": 1}
    finally:
        server.shutdown()
    (row,) = notif.rows(ActingRef)
    assert (row.id, row.acting_nip, row.for_nip, row.end_date) == (a["id"], AGUS, SITI, _today(org) + timedelta(30))
    # and the Plt hears the penilai's news again
    assert _told(notif, notif.publish("plans.plan.submitted", PLAN)) == {SITI: "penilai", AGUS: "penilai"}


# ------------------------------------------------------------------ penilai and atasan


def test_a_plt_hears_a_plan_submitted_to_the_penilai_they_stand_in_for_until_the_appointment_ends(notif, org):
    hp = org.head_plan()
    ka = org.cascade(hp, SITI, approver=HEAD)
    plan = org.cascade(ka, RINA)
    a = _appoint(notif, org, AGUS, SITI, days=30)
    assert org.submit(plan["id"], RINA).status_code == 200
    notif.pump()
    siti = [i for i in notif.inbox(org.as_(SITI)) if i["template"] == "plan.submitted"]
    agus = [i for i in notif.inbox(org.as_(AGUS)) if i["template"] == "plan.submitted"]
    assert [i["title"] for i in siti] == ["SKP Rina Wati menunggu persetujuan Anda"]
    assert "Anda menerima pesan ini" not in siti[0]["body"]  # the official is told as always
    # the Plt reads it in English, told why it reaches them, with the same link
    assert [i["title"] for i in agus] == ["Rina Wati's work plan (SKP) awaits your approval"]
    assert agus[0]["audience"] == "penilai" and agus[0]["link"] == siti[0]["link"]
    assert agus[0]["body"].rstrip().endswith("You receive this message as acting official (Plt) for Siti Aminah.")

    # HR ends the appointment early (today is its last day); from tomorrow the Plt hears nothing
    org.clock.advance(days=3)
    assert org.post(f"/acting/{a['id']}/end", org.hr, {}).status_code == 200
    notif.pump()
    assert _told(notif, notif.publish("plans.plan.submitted", PLAN)) == {SITI: "penilai", AGUS: "penilai"}
    org.clock.advance(days=1)
    assert _told(notif, notif.publish("plans.plan.submitted", {**PLAN, "plan_id": 52})) == {SITI: "penilai"}


def test_an_appointment_not_yet_begun_or_over_reaches_nobody(notif, org):
    _appoint(notif, org, AGUS, SITI, starts_in=1, days=5)
    assert _told(notif, notif.publish("plans.plan.submitted", PLAN)) == {SITI: "penilai"}
    org.clock.advance(days=1)  # its first day (in WIB)
    assert _told(notif, notif.publish("plans.plan.submitted", {**PLAN, "plan_id": 52})) == {
        SITI: "penilai",
        AGUS: "penilai",
    }
    org.clock.advance(days=6)  # the day after its last
    assert _told(notif, notif.publish("plans.plan.submitted", {**PLAN, "plan_id": 53})) == {SITI: "penilai"}


def test_a_plh_of_the_atasan_hears_what_the_atasan_hears(notif, org):
    _appoint(notif, org, AGUS, HEAD, kind="plh", days=3)
    env = notif.publish("reviews.evaluation.acknowledged", {**EV, "objection_closes_on": "2026-01-19"})
    told = _told(notif, env)
    assert told[HEAD] == told[AGUS] == "atasan" and told[RINA] == "employee"
    note = _note(notif, env, AGUS)
    assert note.template == "evaluation.acknowledged.atasan"
    assert note.body_text.rstrip().endswith("You receive this message as daily acting official (Plh) for Budi Santoso.")
    # the atasan found from the reporting lines (no atasan_nip in the payload) too
    without = {k: v for k, v in EV.items() if k != "atasan_nip"}
    env = notif.publish("reviews.evaluation.acknowledged", {**without, "objection_closes_on": "2026-01-19"})
    assert _told(notif, env)[AGUS] == "atasan"


def test_each_person_is_told_once_and_never_as_plh_of_their_own_plan_nor_when_inactive(notif, org):
    # the head stands in for Siti: as her Plt and as the atasan an objection reaches him once
    _appoint(notif, org, HEAD, SITI, days=10)
    env = notif.publish("reviews.objection.filed", {**EV, "objection_id": 3})
    heads = notif.rows(Notification, Notification.event_id == env["id"], Notification.recipient_nip == HEAD)
    assert len(heads) == 1
    # Rina, Plh for her own penilai, is not asked to approve her own plan, but is asked about Dewi's
    _appoint(notif, org, RINA, SITI, kind="plh", days=10)
    own = notif.publish("plans.plan.submitted", {**PLAN, "plan_id": 60, "employee_nip": RINA})
    assert RINA not in _told(notif, own)
    assert _told(notif, notif.publish("plans.plan.submitted", {**PLAN, "plan_id": 61}))[RINA] == "penilai"
    # an acting official who left (inactive) is skipped
    notif.publish(
        "plans.employee.upserted",
        {"nip": RINA, "agency_code": "PKMB", "name": "Rina Wati", "unit_code": "SEK-A", "active": False},
    )
    assert RINA not in _told(notif, notif.publish("plans.plan.submitted", {**PLAN, "plan_id": 62}))


# ------------------------------------------------------------------ reminders and escalations


def test_reminders_to_rate_and_escalations_reach_whoever_stands_in(notif, org):
    _appoint(notif, org, AGUS, SITI, days=10)
    _appoint(notif, org, JOKO, HEAD, kind="plh", days=10)
    deadline = (org.clock() + timedelta(days=1)).astimezone(JAKARTA)
    body = {"batch_key": "rate-1", "template": "reminder.rating", "recipients": [{"nip": SITI}]}
    r = notif.post("/reminders", org.hr, {**body, "deadline": deadline.isoformat(), "params": {"pending": 3}})
    assert r.status_code == 200 and r.get_json()["created"] == [SITI], r.get_json()
    agus = [n for n in notif.rows(Notification, Notification.recipient_nip == AGUS) if n.template.startswith("rem")]
    assert [n.title for n in agus] == ["Reminder: evaluations await your rating"]
    assert agus[0].body_text.rstrip().endswith("as acting official (Plt) for Siti Aminah.")
    # a reminder of one's own duty (a self-assessment) is not the Plt's
    self_assess = {"batch_key": "sa-1", "template": "reminder.self_assessment", "recipients": [{"nip": SITI}]}
    r = notif.post("/reminders", org.hr, {**self_assess, "params": {"period_name": "Triwulan I"}})
    assert r.status_code == 200, r.get_json()
    assert [n.template for n in notif.rows(Notification, Notification.recipient_nip == AGUS)].count(
        "reminder.self_assessment"
    ) == 0

    # overdue: Siti's superior (the head) and his Plh (Joko) hear of it
    org.clock.advance(days=2)
    r = notif.post("/reminders/rate-1/escalate", org.hr, {"to": "superior"})
    assert r.status_code == 200, r.get_json()
    (item,) = r.get_json()["items"]
    assert item["escalations"][0]["to"] == "superior"
    assert sorted(item["escalations"][0]["recipients"]) == sorted([HEAD, JOKO])
    (joko,) = [n for n in notif.rows(Notification, Notification.recipient_nip == JOKO) if n.template.startswith("esc")]
    assert joko.title == "Eskalasi: Siti Aminah melewati tenggat"
    assert joko.body_text.rstrip().endswith(
        "Anda menerima pesan ini sebagai Pelaksana Harian (Plh) untuk Budi Santoso."
    )


def test_the_overdue_plh_is_not_told_of_their_own_delay(notif, org):
    _appoint(notif, org, SITI, HEAD, kind="plh", days=10)  # Siti stands in for her own superior
    deadline = (org.clock() + timedelta(hours=1)).astimezone(JAKARTA)
    body = {"batch_key": "rate-2", "template": "reminder.rating", "recipients": [{"nip": SITI}]}
    assert notif.post("/reminders", org.hr, {**body, "deadline": deadline.isoformat()}).status_code == 200
    org.clock.advance(hours=2)
    r = notif.post("/reminders/rate-2/escalate", org.hr, {"to": "superior"})
    assert r.get_json()["items"][0]["escalations"][0]["recipients"] == [HEAD]


# ------------------------------------------------------------------ the appointment itself


def test_the_acting_official_is_told_of_the_appointment_in_their_language_once(notif, org):
    a = _appoint(notif, org, AGUS, SITI, kind="plt", days=30)
    (en,) = [i for i in notif.inbox(org.as_(AGUS)) if i["template"] == "acting.appointed"]
    assert en["title"] == "You are appointed Plt for Siti Aminah"
    assert "acting official (Pelaksana Tugas, Plt) for Siti Aminah (NIP 198004152005042002)" in en["body"]
    assert "from 5 January 2026 to 4 February 2026" in en["body"]
    assert "rate, sign, countersign" in en["body"] and en["link"].endswith("/tim")
    assert en["audience"] == "acting"

    _appoint(notif, org, RINA, SITI, kind="plh", days=2)
    (id_,) = [i for i in notif.inbox(org.as_(RINA)) if i["template"] == "acting.appointed"]
    assert id_["title"] == "Anda ditetapkan sebagai Plh untuk Siti Aminah"
    assert "Pelaksana Harian (Plh) untuk Siti Aminah (NIP 198004152005042002)" in id_["body"]
    assert "dari 5 Januari 2026 sampai 7 Januari 2026" in id_["body"]
    assert "Anda menilai, menandatangani" in id_["body"] and "halaman Tim Saya" in id_["body"]
    # the official they stand in for is not told of it by this rule
    assert [i for i in notif.inbox(org.as_(SITI)) if i["template"] == "acting.appointed"] == []

    # ending it early tells nobody again
    org.clock.advance(days=1)
    assert org.post(f"/acting/{a['id']}/end", org.hr, {}).status_code == 200
    notif.pump()
    assert len([i for i in notif.inbox(org.as_(AGUS)) if i["template"] == "acting.appointed"]) == 1


def test_hr_may_address_the_acting_official_in_a_rule_and_not_an_unknown_audience(notif, org):
    rules = notif.get("/rules", org.hr).get_json()
    assert "acting" in rules["audiences"] and "acting.appointed" in rules["templates"]
    assert {"event_type": "plans.acting.upserted", "audience": "acting", "template": "acting.appointed"}.items() <= {
        k: v for r in rules["rules"] if r["event_type"] == "plans.acting.upserted" for k, v in r.items()
    }.items()
    bad = {"rules": [{"event_type": "plans.acting.upserted", "audience": "stand_in", "template": "acting.appointed"}]}
    body = problem(notif.put("/rules", org.hr, bad), 422)
    assert body["errors"][0]["field"] == "rules[0].audience" and "acting" in body["errors"][0]["detail"]
