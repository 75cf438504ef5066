"""Evidence review (issue 15): the penilai opens each evidence file and accepts it or asks for another
with a note; the employee is told (``plans.evidence.reviewed``) and sees the status beside the file.
A file opens only for its owner, the penilai, the atasan penilai and HR of the agency."""

from __future__ import annotations

from tests.plans.support import HEAD, KASI_A, KASI_B, OTHER_EMP, STAFF_A, field_errors, problem
from tests.plans.test_api_progress import PDF, realise, upload


def _evidence(org, sa) -> dict:
    rec = realise(org, sa).get_json()
    r = upload(org, sa["id"], rec["id"], PDF)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def review(org, evidence_id, nip, **body):
    return org.post(f"/evidence/{evidence_id}/review", org.as_(nip), body)


def test_a_new_file_is_pending_and_the_penilai_accepts_it(org, team):
    hp, ka, sa = team
    ev = _evidence(org, sa)
    assert (ev["review_status"], ev["review_note"], ev["reviewed_by"]) == ("pending", None, None)
    r = review(org, ev["id"], KASI_A, status="accepted")
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert (out["review_status"], out["reviewed_by"]) == ("accepted", KASI_A)
    assert out["reviewed_at"].endswith("+00:00")
    listed = org.get(f"/plans/{sa['id']}/realisations", org.as_(STAFF_A[0])).get_json()
    assert listed[0]["evidence"][0]["review_status"] == "accepted"  # the employee sees it
    event = org.outbox("plans.evidence.reviewed")[-1]["envelope"]["data"]
    assert event["employee_nip"] == STAFF_A[0] and event["penilai_nip"] == KASI_A
    assert (event["status"], event["evidence_id"], event["filename"], event["period_seq"]) == (
        "accepted",
        ev["id"],
        "bukti.pdf",
        1,
    )
    audit = org.get(f"/audit?subject={STAFF_A[0]}&limit=200", org.hr).get_json()
    rows = audit["items"] if isinstance(audit, dict) else audit
    assert any(a["action"] == "evidence.reviewed" for a in rows)


def test_asking_for_another_file_needs_a_note(org, team):
    hp, ka, sa = team
    ev = _evidence(org, sa)
    before = org.counts()
    outbox = len(org.outbox())
    for note in (None, "   "):
        body = {"status": "needs_replacement"} | ({"note": note} if note is not None else {})
        assert field_errors(problem(org.post(f"/evidence/{ev['id']}/review", org.as_(KASI_A), body), 422)) == {
            "note": "evidence.note_required"
        }
    problem(review(org, ev["id"], KASI_A, status="maybe"), 422)
    assert org.counts() == before and len(org.outbox()) == outbox  # nothing saved, nobody told
    r = review(org, ev["id"], KASI_A, status="needs_replacement", note="Lampirkan laporan yang sudah ditandatangani.")
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["review_status"], r.get_json()["review_note"]) == (
        "needs_replacement",
        "Lampirkan laporan yang sudah ditandatangani.",
    )
    data = org.outbox("plans.evidence.reviewed")[-1]["envelope"]["data"]
    assert data["note"] == "Lampirkan laporan yang sudah ditandatangani."


def test_only_the_penilai_or_their_acting_official_reviews(org, team):
    hp, ka, sa = team
    ev = _evidence(org, sa)
    before = org.counts()
    for nip in (STAFF_A[0], HEAD):  # the owner, the atasan penilai
        problem(review(org, ev["id"], nip, status="accepted"), 403, "plan.only_penilai")
    problem(org.post(f"/evidence/{ev['id']}/review", org.hr, {"status": "accepted"}), 403, "plan.only_penilai")
    for nip in (STAFF_A[1], KASI_B, OTHER_EMP):  # outside the line: the file is not even there
        problem(review(org, ev["id"], nip, status="accepted"), 404)
    problem(review(org, 9999, KASI_A, status="accepted"), 404)
    assert org.counts() == before
    r = org.post(
        "/acting",
        org.hr,
        {"acting_nip": KASI_B, "for_nip": KASI_A, "kind": "plt", "start_date": "2026-01-01", "end_date": "2026-06-30"},
    )
    assert r.status_code == 201
    r = review(org, ev["id"], KASI_B, status="accepted")
    assert r.status_code == 200 and r.get_json()["reviewed_by"] == KASI_B
    assert org.get(f"/evidence/{ev['id']}", org.as_(KASI_B)).status_code == 200  # the Plt opens it too


def test_a_file_opens_for_owner_penilai_atasan_and_hr_only(org, team):
    hp, ka, sa = team
    ev = _evidence(org, sa)
    for h in (org.as_(STAFF_A[0]), org.as_(KASI_A), org.as_(HEAD), org.hr, org.admin):
        assert org.get(f"/evidence/{ev['id']}", h).status_code == 200
    # the reporting line changes: staff A[1] becomes staff A[0]'s penilai, kasi A the atasan penilai,
    # and the head — three levels up — still sees the plan but no longer opens the file
    etag = org.get(f"/employees/{STAFF_A[0]}", org.hr).headers["ETag"]
    r = org.patch(f"/employees/{STAFF_A[0]}", org.hr | {"If-Match": etag}, {"superior_nip": STAFF_A[1]})
    assert r.status_code == 200, r.get_json()
    for nip in (STAFF_A[0], STAFF_A[1], KASI_A):
        assert org.get(f"/evidence/{ev['id']}", org.as_(nip)).status_code == 200, nip
    assert org.get(f"/plans/{sa['id']}", org.as_(HEAD)).status_code == 200
    problem(org.get(f"/evidence/{ev['id']}", org.as_(HEAD)), 403, "evidence.only_reader")
    problem(org.get(f"/evidence/{ev['id']}", org.other_hr), 404)
