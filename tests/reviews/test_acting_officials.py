"""Acting officials (Plt/Plh) in reviews (issue 15, Deliver 3): an appointment recorded by HR in
plans reaches reviews as ``plans.acting.upserted``; for its dates the acting official rates, signs,
countersigns and decides objections in the official's place, sees what the official would see,
and the document names them as Plt/Plh. Before and after the appointment they are nobody here."""

from __future__ import annotations

from datetime import timedelta

from tests.plans.support import HEAD, JAKARTA, KASI_A, KASI_B, STAFF_A, problem
from tests.reviews.test_document import pdf_text

REASON = "Penilaian berdasarkan bukti dukung."


def _appoint(chain, acting: str, for_nip: str, kind: str, days: int) -> dict:
    start = chain.org.clock().astimezone(JAKARTA).date()
    body = {
        "acting_nip": acting,
        "for_nip": for_nip,
        "kind": kind,
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=days)).isoformat(),
    }
    r = chain.org.post("/acting", chain.hr, body)
    assert r.status_code == 201, r.get_json()
    chain.pump()  # plans.acting.upserted reaches the reviews read model
    return r.get_json()


def _rate_staff_a(chain, rater: str) -> None:
    for nip, (hasil, perilaku) in zip(STAFF_A, [("meets", "meets"), ("above", "above"), ("meets", "below")]):
        r = chain.rate(chain.evaluation_of(nip), rater, hasil, perilaku, deviation_reason=REASON)
        assert r.status_code == 200, (nip, r.get_json())


def test_a_plt_rates_and_signs_in_the_penilais_place_and_the_document_names_them(chain):
    chain.advance_to("monitoring:1:check_in")
    assert chain.set_org_result("SEK-A", "ISTIMEWA").status_code == 200
    chain.advance_to("monitoring:1:supervisor_evaluation")
    ev = chain.evaluation_of(STAFF_A[0])
    # before any appointment KASI_B is nobody to SEK-A's evaluations
    problem(chain.get(f"/evaluations/{ev['id']}", chain.as_(KASI_B)), 404)
    problem(chain.rate(ev, KASI_B, "meets", "meets", deviation_reason=REASON), 404)
    assert chain.evaluations(chain.as_(KASI_B), role="penilai") == [
        e for e in chain.evaluations(chain.as_(KASI_B), role="penilai") if e["penilai_nip"] == KASI_B
    ]

    _appoint(chain, KASI_B, KASI_A, "plt", days=30)
    mine = {e["employee_nip"] for e in chain.evaluations(chain.as_(KASI_B), role="penilai", period_seq=1)}
    assert set(STAFF_A) <= mine  # the Plt's list holds those they now rate
    _rate_staff_a(chain, KASI_B)
    r = chain.post(f"/evaluations/{ev['id']}/sign", chain.as_(KASI_B))
    assert r.status_code == 200, r.get_json()
    signed = r.get_json()
    acting = signed["signed_acting"]
    assert (acting["kind"], acting["nip"], acting["name"], acting["for_nip"]) == ("plt", KASI_B, "Agus Salim", KASI_A)
    assert signed["penilai_nip"] == KASI_A  # the penilai of record stays; the Plt signed for them
    doc = chain.get(f"/evaluations/{ev['id']}/documents", chain.as_(STAFF_A[0])).get_json()[0]
    assert doc["content"]["acting"]["penilai"]["nip"] == KASI_B  # inside the hashed content
    pdf = chain.get(f"/evaluations/{ev['id']}/document.pdf", chain.as_(STAFF_A[0])).data
    text = " ".join(pdf_text(pdf).split())
    assert "Plt. Kepala Seksi Perencanaan" in text and KASI_B in text
    # the employee acknowledges; the atasan (HEAD) countersigns as themself: no acting there
    assert chain.post(f"/evaluations/{ev['id']}/acknowledge", chain.as_(STAFF_A[0])).status_code == 200
    r = chain.post(f"/evaluations/{ev['id']}/countersign", chain.as_(HEAD))
    assert r.status_code == 200 and r.get_json()["countersigned_acting"] is None
    docs = chain.get(f"/evaluations/{ev['id']}/documents", chain.as_(STAFF_A[0])).get_json()
    assert all(d["content"]["acting"]["penilai"]["nip"] == KASI_B for d in docs)  # the chain keeps who signed


def test_the_appointment_ends_and_so_does_the_standing_in(chain):
    chain.advance_to("monitoring:1:check_in")
    assert chain.set_org_result("SEK-A", "ISTIMEWA").status_code == 200
    chain.advance_to("monitoring:1:supervisor_evaluation")
    a = _appoint(chain, KASI_B, KASI_A, "plh", days=10)
    ev = chain.evaluation_of(STAFF_A[0])
    assert chain.get(f"/evaluations/{ev['id']}", chain.as_(KASI_B)).status_code == 200
    # HR ends it today: still today; the day after, nothing
    r = chain.org.post(f"/acting/{a['id']}/end", chain.hr, {})
    assert r.status_code == 200, r.get_json()
    chain.pump()
    assert chain.get(f"/evaluations/{ev['id']}", chain.as_(KASI_B)).status_code == 200
    chain.org.clock.advance(days=1)
    problem(chain.get(f"/evaluations/{ev['id']}", chain.as_(KASI_B)), 404)
    problem(chain.rate(ev, KASI_B, "meets", "meets", deviation_reason=REASON), 404)
    assert all(e["penilai_nip"] == KASI_B for e in chain.evaluations(chain.as_(KASI_B), role="penilai"))


def test_a_plh_of_the_atasan_countersigns_and_decides_an_objection(chain):
    chain.advance_to("monitoring:1:check_in")
    assert chain.set_org_result("SEK-A", "ISTIMEWA").status_code == 200
    chain.advance_to("monitoring:1:supervisor_evaluation")
    _rate_staff_a(chain, KASI_A)
    ev = chain.evaluation_of(STAFF_A[2])
    assert chain.post(f"/evaluations/{ev['id']}/sign", chain.as_(KASI_A)).status_code == 200
    assert chain.post(f"/evaluations/{ev['id']}/acknowledge", chain.as_(STAFF_A[2])).status_code == 200
    problem(chain.post(f"/evaluations/{ev['id']}/countersign", chain.as_(KASI_B)), 404)  # not yet anybody here
    _appoint(chain, KASI_B, HEAD, "plh", days=20)  # the kepala dinas is away
    r = chain.post(f"/evaluations/{ev['id']}/countersign", chain.as_(KASI_B))
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["countersigned_acting"]["kind"] == "plh"
    assert r.get_json()["countersigned_acting"]["for_nip"] == HEAD
    obj = chain.post(
        f"/evaluations/{ev['id']}/objections",
        chain.as_(STAFF_A[2]),
        {"reasons": "Kolaborasi lintas seksi bulan Februari belum dipertimbangkan."},
    ).get_json()
    listed = chain.get(f"/objections?evaluation_id={ev['id']}", chain.as_(KASI_B)).get_json()["items"]
    assert [o["id"] for o in listed] == [obj["id"]]  # the Plh finds what the atasan would decide
    r = chain.post(
        f"/objections/{obj['id']}/decide",
        chain.as_(KASI_B),
        {"decision": "upheld", "reason": "Bukti kolaborasi tidak cukup."},
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["decided_acting"]["nip"] == KASI_B and r.get_json()["decided_acting"]["kind"] == "plh"
    pdf = chain.get(f"/evaluations/{ev['id']}/document.pdf", chain.as_(STAFF_A[2])).data
    assert "Plh. " in pdf_text(pdf)


def test_the_read_model_rebuild_brings_the_appointments_back(chain):
    from services.reviews import readmodel as svc
    from services.reviews.models import ActingRef

    chain.advance_to("monitoring:1:check_in")
    a = _appoint(chain, KASI_B, KASI_A, "plt", days=30)
    reviews = chain.emb.platform("reviews")
    with reviews.uow() as s:
        s.query(ActingRef).delete()  # lost

    def fetch(path):
        r = chain.org.client.get(path, headers=chain.hr)
        assert r.status_code == 200, (path, r.get_json())
        return r.get_json()

    with chain.emb.apps["reviews"].app_context(), reviews.uow() as s:
        assert svc.rebuild_read_model(s, fetch)["acting"] == 1
    with reviews.uow() as s:
        back = s.get(ActingRef, a["id"])
        assert (back.acting_nip, back.for_nip, back.kind, back.end_date.isoformat()) == (
            KASI_B,
            KASI_A,
            "plt",
            a["end_date"],
        )
    ev = chain.evaluation_of(STAFF_A[0])
    assert chain.get(f"/evaluations/{ev['id']}", chain.as_(KASI_B)).status_code == 200


def test_a_plh_of_their_own_penilai_does_not_rate_themself(chain):
    chain.advance_to("monitoring:1:check_in")
    chain.advance_to("monitoring:1:supervisor_evaluation")
    _appoint(chain, KASI_B, HEAD, "plh", days=10)  # KASI_B's own penilai is HEAD
    own = chain.evaluation_of(KASI_B)
    problem(chain.rate(own, KASI_B, "above", "above", deviation_reason=REASON), 403, "evaluation.only_penilai")
    listed = chain.evaluations(chain.as_(KASI_B), role="penilai", period_seq=1)
    assert KASI_B not in {e["employee_nip"] for e in listed}
    assert KASI_A in {e["employee_nip"] for e in listed}  # HEAD's other report: the Plh rates her
