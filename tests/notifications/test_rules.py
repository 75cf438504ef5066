"""Which event notifies whom: the default rules for every plans, reviews and surveys event a person
cares about (parties from the payload, else from the read model), HR contacts, the batch to
everyone when a stage opens, HR editing the rules, the read model rebuilt from the plans API,
and messages the consumer cannot use (never a crash, never a blocked queue)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, func, select
from werkzeug.serving import make_server

from services.notifications.domain import DEFAULT_RULES
from services.notifications.models import Delivery, HrContact, Notification, Person, UnitRef
from tests.plans.support import ALL_PKMB, HEAD, KASI_A, KASI_B, OTHER_EMP, STAFF_A, problem

RINA = STAFF_A[0]
HR_MAIL = "kepegawaian@pkmb.go.id"

EV = {
    "evaluation_id": 7,
    "cycle_id": 1,
    "agency_code": "PKMB",
    "kind": "periodic",
    "period_seq": 1,
    "period_name": "Triwulan I",
    "employee_nip": RINA,
    "penilai_nip": KASI_A,
    "atasan_nip": HEAD,
    "unit_code": "SEK-A",
    "status": "open",
    "predikat": None,
}
OBJ = {
    "objection_id": 3,
    "evaluation_id": 7,
    "cycle_id": 1,
    "agency_code": "PKMB",
    "employee_nip": RINA,
    "penilai_nip": KASI_A,
    "atasan_nip": HEAD,
    "status": "filed",
    "decision": None,
}
PLAN = {
    "plan_id": 5,
    "cycle_id": 1,
    "agency_code": "PKMB",
    "employee_nip": RINA,
    "penilai_nip": KASI_A,
    "unit_code": "SEK-A",
    "status": "submitted",
    "revision": 0,
}

# event → (payload, {recipient key: expected title (Indonesian)})
CASES = {
    "plans.plan.submitted": (PLAN, {KASI_A: "SKP Rina Wati menunggu persetujuan Anda"}),
    "plans.plan.returned": ({**PLAN, "note": "Lengkapi IKI."}, {RINA: "SKP Anda dikembalikan untuk diperbaiki"}),
    "plans.plan.revised": (
        {**PLAN, "penilai_nip": None} | {"penilai_nip": KASI_A},
        {KASI_A: "SKP Rina Wati dibuka kembali untuk revisi"},
    ),
    "plans.feedback.given": (
        {
            "feedback_id": 1,
            "plan_id": 5,
            "cycle_id": 1,
            "employee_nip": RINA,
            "giver_nip": KASI_A,
            "rhk_id": None,
            "value_code": None,
            "period_seq": 1,
            "text": "Laporan rapi.",
        },
        {RINA: "Umpan balik baru dari Siti Aminah"},
    ),
    "plans.feedback.replied": (
        {
            "reply_id": 2,
            "feedback_id": 1,
            "plan_id": 5,
            "cycle_id": 1,
            "employee_nip": RINA,
            "giver_nip": KASI_A,
            "kind": "feedback",
            "text": "Siap.",
        },
        {KASI_A: "Rina Wati membalas umpan balik Anda"},
    ),
    "reviews.evaluation.opened": (EV, {RINA: "Penilaian kinerja Triwulan I dibuka"}),
    "reviews.self_assessment.submitted": (EV, {KASI_A: "Penilaian diri Rina Wati siap dinilai"}),
    "reviews.evaluation.rated": (
        {**EV, "rating_hasil": "above", "rating_perilaku": "meets", "suggested_hasil": "meets", "predikat": "BAIK"},
        {RINA: "Hasil penilaian Triwulan I tersedia"},
    ),
    "reviews.evaluation.signed": (
        {**EV, "content_hash": "ab" * 32, "predikat": "BAIK"},
        {RINA: "Mohon konfirmasi penerimaan penilaian Triwulan I"},
    ),
    "reviews.evaluation.acknowledged": (
        {**EV, "objection_closes_on": "2026-04-24"},
        {
            HEAD: "Mohon tanda tangan: penilaian Rina Wati (Triwulan I)",
            RINA: "Penerimaan penilaian tercatat; batas keberatan 24 April 2026",
        },
    ),
    "reviews.evaluation.countersigned": (
        {**EV, "content_hash": "ab" * 32, "predikat": "SANGAT_BAIK"},
        {RINA: "Penilaian Triwulan I Anda telah final"},
    ),
    "reviews.objection.filed": (
        OBJ,
        {
            HEAD: "Keberatan atas penilaian Rina Wati",
            KASI_A: "Keberatan atas penilaian Rina Wati",
            "hr": "Keberatan atas penilaian Rina Wati",
        },
    ),
    "reviews.objection.decided": (
        {**OBJ, "status": "decided", "decision": "changed", "predikat": "BAIK", "document_version": 2},
        {RINA: "Keberatan telah diputuskan: penilaian diubah", KASI_A: "Keberatan telah diputuskan: penilaian diubah"},
    ),
    "reviews.calibration.violation_found": (
        {
            "cycle_id": 1,
            "agency_code": "PKMB",
            "period_seq": 1,
            "unit_code": "SEK-A",
            "org_result": "BAIK",
            "violations": [{"code": "curve.max_exceeded"}],
        },
        {"hr": "Kalibrasi: distribusi predikat unit Seksi Perencanaan melanggar kurva"},
    ),
    "reviews.followup.planned": (
        {
            "followup_id": 2,
            "evaluation_id": 7,
            "cycle_id": 1,
            "agency_code": "PKMB",
            "employee_nip": RINA,
            "kind": "development",
            "predikat": "BUTUH_PERBAIKAN",
            "below_iki": ["x"],
            "below_values": [],
            "owner_nip": KASI_A,
            "due_date": "2026-06-30",
        },
        {RINA: "Rencana pengembangan untuk Rina Wati", KASI_A: "Rencana pengembangan untuk Rina Wati"},
    ),
    "reviews.peers.proposed": ({**EV, "proposed": 3}, {KASI_A: "Usulan rekan penilai dari Rina Wati"}),
    "reviews.peer.requested": (
        {
            "evaluation_id": 7,
            "cycle_id": 1,
            "agency_code": "PKMB",
            "period_name": "Triwulan I",
            "employee_nip": RINA,
            "employee_name": "Rina Wati",
            "rater_nip": STAFF_A[1],
        },
        {STAFF_A[1]: "Permintaan umpan balik rekan untuk Rina Wati"},  # the rater only, never the employee
    ),
    "surveys.ikm.computed": (
        {
            "campaign_id": 4,
            "agency_code": "PKMB",
            "unit_code": "SEK-B",
            "service_type": "KTP",
            "period_start": "2026-01-01",
            "period_end": "2026-03-31",
            "respondents": 380,
            "nrr": {},
            "ikm": 3.3,
            "ikm_unit": 82.5,
            "mutu": "B",
            "kinerja": "Baik",
            "final": True,
        },
        {"hr": "IKM Seksi Pelaksanaan: 82.5 (mutu B)"},
    ),
}


@pytest.mark.parametrize("event_type", sorted(CASES))
def test_each_event_reaches_whom_the_rules_name(notif, event_type):
    notif.set_hr_contacts([{"name": "Bagian Kepegawaian", "email": HR_MAIL}])
    data, expected = CASES[event_type]
    env = notif.publish(event_type, data)
    got = {n.recipient_key: n.title for n in notif.rows(Notification, Notification.event_id == env["id"])}
    (contact,) = notif.rows(HrContact)
    expected = {(f"hr:{contact.id}" if k == "hr" else k): v for k, v in expected.items()}
    assert got == expected
    emails = notif.rows(Delivery, Delivery.event_id == env["id"], Delivery.channel == "email")
    assert all(d.status in ("queued", "skipped") for d in emails)


def test_a_person_in_two_roles_hears_once_and_parties_come_from_the_directory(notif, org):
    # the head is HR contact too: objection.filed names them as atasan and as HR, one message
    notif.set_hr_contacts([{"name": "Budi (PPK)", "nip": HEAD}, {"name": "Kepegawaian", "email": HR_MAIL}])
    env = notif.publish("reviews.objection.filed", OBJ)
    keys = sorted(n.recipient_key for n in notif.rows(Notification, Notification.event_id == env["id"]))
    assert len(keys) == 3 and keys.count(HEAD) == 1 and KASI_A in keys
    # an event without a penilai field: the directory's superior is the penilai
    data = {k: v for k, v in PLAN.items() if k != "penilai_nip"}
    env = notif.publish("plans.plan.revised", data)
    assert [n.recipient_key for n in notif.rows(Notification, Notification.event_id == env["id"])] == [KASI_A]
    # an employee who left is not notified
    notif.publish(
        "plans.employee.upserted",
        {
            "nip": RINA,
            "agency_code": "PKMB",
            "name": "Rina Wati",
            "email": None,
            "phone": None,
            "position": "Analis",
            "grade": None,
            "unit_code": "SEK-A",
            "unit_name": "Seksi Perencanaan",
            "superior_nip": KASI_A,
            "language": "id",
            "active": False,
        },
    )
    env = notif.publish("plans.plan.returned", {**PLAN, "note": "x"})
    assert notif.rows(Notification, Notification.event_id == env["id"]) == []


def test_a_new_period_tells_everyone_in_the_agency_once_and_hr(notif, org):
    notif.set_hr_contacts([{"name": "Kepegawaian", "email": HR_MAIL}])
    org.advance_to("monitoring:1:check_in")
    notif.pump()
    event_id = org.outbox("plans.cycle.stage_changed")[-1]["event_id"]
    with notif.db() as s:
        opened = s.scalars(
            select(Notification).where(Notification.template == "cycle.stage_opened", Notification.event_id == event_id)
        ).all()
        assert sorted(n.recipient_nip for n in opened) == sorted(ALL_PKMB)
        assert OTHER_EMP not in {n.recipient_nip for n in opened}
        hr = s.scalars(
            select(Notification).where(
                Notification.template == "cycle.stage_changed", Notification.event_id == event_id
            )
        ).all()
    assert {n.title for n in hr} == {"Periode penilaian 2026: tahap Periode 1: pengisian realisasi"}
    (agus,) = [n for n in opened if n.recipient_nip == KASI_B]
    assert agus.title == "Now open: Period 1: check-in (2026)"
    assert "Record your realisations" in agus.body_text
    notif.pump()
    assert notif.dispatch_all()["sent"] >= 4  # budi, siti, agus and HR have addresses


def test_hr_edits_the_rules_as_data(notif, org):
    r = notif.get("/rules", org.hr)
    body = r.get_json()
    assert body["default"] is True and len(body["rules"]) == len(DEFAULT_RULES) and "plan.returned" in body["templates"]
    rules = [x for x in body["rules"] if x["event_type"] != "plans.plan.returned"]
    rules.append({"event_type": "plans.plan.approved", "audience": "penilai", "template": "plan.approved"})
    r = notif.put("/rules", org.hr, {"rules": rules})
    assert r.status_code == 200 and r.get_json()["default"] is False
    env = notif.publish("plans.plan.returned", {**PLAN, "note": "x"})
    assert notif.rows(Notification, Notification.event_id == env["id"]) == []
    approved = {
        **PLAN,
        "status": "approved",
        "revision": 1,
        "approach": "x",
        "employee_name": "Rina Wati",
        "position": "Analis",
        "grade": None,
        "is_head_of_unit": False,
        "approved_by": KASI_A,
        "rhk": [],
        "behaviour": {},
    }
    env = notif.publish("plans.plan.approved", approved)
    assert sorted(n.recipient_key for n in notif.rows(Notification, Notification.event_id == env["id"])) == sorted(
        [RINA, KASI_A]
    )
    # refused: bad rules, other agencies, non-HR
    body = problem(
        notif.put("/rules", org.hr, {"rules": [{"event_type": "x..y", "audience": "boss", "template": "nope"}]}), 422
    )
    assert {e["field"] for e in body["errors"]} == {"rules[0].event_type"}
    body = problem(
        notif.put("/rules", org.hr, {"rules": [{"event_type": "a.b", "audience": "boss", "template": "digest"}]}), 422
    )
    assert body["errors"][0]["field"] == "rules[0].audience"
    problem(notif.put("/rules", org.as_(KASI_A), {"rules": []}), 403)
    problem(notif.get("/rules?agency_code=PKMB", org.other_hr), 403)
    assert notif.get("/rules", org.other_hr).get_json()["default"] is True  # the other agency is untouched
    r = notif.delete("/rules", org.hr)
    assert r.get_json()["default"] is True
    assert notif.get("/rules?agency_code=PKMB", org.admin).get_json()["default"] is True
    problem(notif.get("/rules", org.admin), 422)  # an admin names the agency


def test_hr_contacts_api(notif, org):
    out = notif.set_hr_contacts([{"name": "Kepegawaian", "email": HR_MAIL, "language": "en"}])
    assert out["contacts"][0]["email"] == HR_MAIL
    body = problem(notif.put("/hr-contacts", org.hr, {"contacts": [{"name": "X", "email": "nope"}]}), 422)
    assert body["errors"][0]["field"] == "contacts[0].email"
    body = problem(notif.put("/hr-contacts", org.hr, {"contacts": [{"name": "X"}]}), 422)
    assert body["errors"][0]["field"] == "contacts[0].email"
    assert notif.get("/hr-contacts", org.other_hr).get_json()["contacts"] == []
    problem(notif.get("/hr-contacts", org.as_(RINA)), 403)


def test_the_read_model_is_rebuilt_from_the_plans_api(notif, org):
    server = make_server("127.0.0.1", 0, notif.emb.wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        notif.platform.settings.plans_url = f"http://127.0.0.1:{server.server_port}"
        with notif.db() as s:
            s.execute(delete(Person))
            s.execute(delete(UnitRef))
            s.commit()
        r = notif.post("/read-model/rebuild", org.hr)
        assert r.status_code == 200, r.get_json()
        assert r.get_json()["counts"] == {"units": 3, "people": 9}
        with notif.db() as s:
            assert s.scalar(select(func.count()).select_from(Person)) == 9
            assert s.get(Person, KASI_B).language == "en" and s.get(Person, RINA).superior_nip == KASI_A
        problem(notif.post("/read-model/rebuild", org.as_(RINA)), 403)
    finally:
        server.shutdown()
    notif.platform.settings.plans_url = "http://127.0.0.1:1"
    problem(notif.post("/read-model/rebuild", org.hr), 503, "readmodel.plans_unreachable")


def test_messages_the_consumer_cannot_use_never_block_it(notif, org):
    consumer = notif.emb.consumers[0]
    dlq_before = len(notif.rows(Notification))
    # a directory event without a NIP is rejected (dead-lettered), an event nobody is told about is just
    # consumed, an event of an agency nobody knows records nothing; the next event is processed
    notif.publish("plans.employee.upserted", {"agency_code": "PKMB", "name": "Tanpa NIP"})
    notif.publish(
        "plans.realisation.recorded",
        {
            "realisation_id": 1,
            "plan_id": 5,
            "cycle_id": 1,
            "employee_nip": RINA,
            "iki_id": "x",
            "period_seq": 1,
            "value": 3,
            "text": None,
            "evidence_count": 0,
            "source": "employee",
        },
    )
    notif.publish("reviews.evaluation.opened", {**EV, "agency_code": "NOWHERE", "employee_nip": "1" * 18})
    notif.publish("reviews.evaluation.opened", {"agency_code": "PKMB"})  # no parties at all
    assert len(notif.rows(Notification)) == dlq_before
    env = notif.publish("reviews.evaluation.opened", EV)
    assert [n.recipient_key for n in notif.rows(Notification, Notification.event_id == env["id"])] == [RINA]
    assert consumer.last_error is None


def test_a_late_retry_of_an_older_directory_event_never_overwrites_newer_data(notif):
    from datetime import timedelta

    from services.common.bus import make_event

    person = {
        "nip": RINA,
        "agency_code": "PKMB",
        "name": "Rina Wati",
        "email": "rina.baru@pkmb.go.id",
        "phone": None,
        "position": "Analis",
        "grade": None,
        "unit_code": "SEK-A",
        "unit_name": "Seksi Perencanaan",
        "superior_nip": KASI_A,
        "language": "id",
        "active": True,
    }
    notif.publish("plans.employee.upserted", person)
    older_time = notif.platform.clock() - timedelta(hours=1)
    notif.publish_envelope(
        make_event(
            "plans.employee.upserted",
            "/plans",
            RINA,
            {**person, "email": "rina.lama@pkmb.go.id", "unit_code": "SEK-B"},
            time=older_time,
        )
    )
    (rina,) = notif.rows(Person, Person.nip == RINA, order=Person.nip)
    assert (rina.email, rina.unit_code) == ("rina.baru@pkmb.go.id", "SEK-A")
    unit = {
        "id": 9001,
        "agency_code": "PKMB",
        "code": "SEK-C",
        "name": "Seksi Baru",
        "parent_code": None,
        "head_nip": None,
    }
    notif.publish("plans.unit.upserted", unit)
    notif.publish_envelope(
        make_event("plans.unit.upserted", "/plans", "9001", {**unit, "name": "Nama Lama"}, time=older_time)
    )
    assert [u.name for u in notif.rows(UnitRef, UnitRef.id == 9001)] == ["Seksi Baru"]
