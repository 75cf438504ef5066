"""Approval of an SKP through the API (``skp_approval.py``): submission, return, approval and
revision with kept versions, and who may do each."""

from __future__ import annotations

from services.plans.domain import BERAKHLAK
from tests.plans.support import HEAD, KASI_A, KASI_B, STAFF_A, content, field_errors, problem, rhk


def test_approving_needs_all_seven_expectations_written_by_the_penilai(org):
    """The employee submits without the leader's expectations (they are not theirs to write); the penilai
    cannot approve until every value has one, and is told which."""
    hp = org.head_plan()
    partial = {v: "ok" for v in BERAKHLAK[:3]} | {"loyal": "  "}
    ka = org.create_plan(KASI_A, [rhk("x", parent=hp["rhk"][0]["id"])], behaviour=partial)
    assert org.submit(ka["id"], KASI_A).status_code == 200
    before = org.counts()
    body = problem(org.approve(ka["id"], HEAD), 422, "validation")
    missing = [f"behaviour.{v}" for v in BERAKHLAK[3:]]
    assert [e["field"] for e in body["errors"]] == missing
    assert {e["code"] for e in body["errors"]} == {"behaviour.expectation_required"}
    assert org.counts() == before
    assert org.plan(ka["id"], KASI_A)["status"] == "submitted"
    etag = org.get(f"/plans/{ka['id']}", org.as_(HEAD)).headers["ETag"]
    r = org.put(
        f"/plans/{ka['id']}/behaviour",
        org.as_(HEAD) | {"If-Match": etag},
        {"behaviour": {v: f"Ekspektasi {v}." for v in BERAKHLAK[3:]}},
    )
    assert r.status_code == 200, r.get_json()
    assert org.approve(ka["id"], HEAD).get_json()["status"] == "approved"


def test_only_the_owner_edits_and_submits(org):
    hp = org.head_plan()
    ka = org.cascade(hp, KASI_A, approver=HEAD)
    sa = org.cascade(ka, STAFF_A[0])
    etag = org.get(f"/plans/{sa['id']}", org.as_(STAFF_A[0])).headers["ETag"]
    before = org.counts()
    new = content([rhk("Diubah atasan", parent=ka["rhk"][0]["id"])])
    for who in (org.as_(KASI_A), org.as_(HEAD), org.hr):
        problem(org.put(f"/plans/{sa['id']}", who | {"If-Match": etag}, new), 403, "plan.only_owner")
        problem(org.post(f"/plans/{sa['id']}/submit", who), 403, "plan.only_owner")
    for who in (org.as_(STAFF_A[1]), org.as_(KASI_B), org.other_hr):
        problem(org.put(f"/plans/{sa['id']}", who | {"If-Match": etag}, new), 404)
        problem(org.post(f"/plans/{sa['id']}/submit", who), 404)
    assert org.counts() == before
    assert org.submit(sa["id"], STAFF_A[0]).get_json()["status"] == "submitted"


def test_only_the_direct_superior_or_acting_official_approves(org):
    hp = org.head_plan()
    ka = org.cascade(hp, KASI_A, approver=HEAD)
    sa = org.cascade(ka, STAFF_A[0])
    assert org.submit(sa["id"], STAFF_A[0]).status_code == 200
    before = org.counts()
    for who in (STAFF_A[0], HEAD):  # the owner; an indirect superior
        problem(org.approve(sa["id"], who), 403, "plan.only_penilai")
        problem(
            org.post(f"/plans/{sa['id']}/return", org.as_(who), {"note": "Perbaiki target"}), 403, "plan.only_penilai"
        )
    problem(org.post(f"/plans/{sa['id']}/approve", org.hr), 403, "plan.only_penilai")
    for who in (STAFF_A[1], KASI_B):  # outside the reporting line: the plan is not even visible
        problem(org.approve(sa["id"], who), 404)
    assert org.counts() == before
    # a Plt stands in for kasi A
    r = org.post(
        "/acting",
        org.hr,
        {"acting_nip": KASI_B, "for_nip": KASI_A, "kind": "plt", "start_date": "2026-01-01", "end_date": "2026-06-30"},
    )
    assert r.status_code == 201
    r = org.approve(sa["id"], KASI_B)
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["status"], r.get_json()["approved_by"], r.get_json()["revision"]) == ("approved", KASI_B, 1)
    problem(org.approve(sa["id"], KASI_A), 409, "plan.transition")  # already approved


def test_top_officials_plan_is_approved_by_hr(org):
    hp = org.head_plan()
    assert org.submit(hp["id"], HEAD).get_json()["penilai_nip"] is None
    problem(org.approve(hp["id"], KASI_A), 404)  # a subordinate does not even see it
    problem(org.approve(hp["id"], HEAD), 403, "plan.only_penilai")
    problem(org.post(f"/plans/{hp['id']}/approve", org.other_hr), 404)
    r = org.post(f"/plans/{hp['id']}/approve", org.hr)
    assert r.status_code == 200 and r.get_json()["status"] == "approved"
    assert r.get_json()["approved_by"] == "hr@pkmb"


def test_return_needs_a_note_then_edit_resubmit_approve(org):
    hp = org.head_plan()
    ka = org.cascade(hp, KASI_A)
    assert org.submit(ka["id"], KASI_A).status_code == 200
    before = org.counts()
    body = problem(org.post(f"/plans/{ka['id']}/return", org.as_(HEAD), {}), 422)
    assert field_errors(body) == {"note": "field.required"}
    body = problem(org.post(f"/plans/{ka['id']}/return", org.as_(HEAD), {"note": "x"}), 422)
    assert field_errors(body) == {"note": "field.invalid"}
    assert org.counts() == before
    r = org.post(f"/plans/{ka['id']}/return", org.as_(HEAD), {"note": "Target kuantitas terlalu rendah"})
    assert r.status_code == 200
    assert (r.get_json()["status"], r.get_json()["return_note"]) == ("returned", "Target kuantitas terlalu rendah")
    returned = org.outbox("plans.plan.returned")
    assert returned[-1]["envelope"]["data"]["note"] == "Target kuantitas terlalu rendah"
    problem(org.approve(ka["id"], HEAD), 409, "plan.transition")
    # the owner edits (status stays returned), resubmits, and the head approves
    r = org.get(f"/plans/{ka['id']}", org.as_(KASI_A))
    data = content(r.get_json()["rhk"])
    data["rhk"][0]["iki"][0]["target_value"] = 8
    r = org.put(f"/plans/{ka['id']}", org.as_(KASI_A) | {"If-Match": r.headers["ETag"]}, data)
    assert r.status_code == 200 and r.get_json()["status"] == "returned"
    assert org.submit(ka["id"], KASI_A).get_json()["status"] == "submitted"
    r = org.approve(ka["id"], HEAD)
    assert r.status_code == 200
    plan = r.get_json()
    assert (plan["status"], plan["revision"], plan["return_note"], plan["approved_by"]) == ("approved", 1, None, HEAD)
    assert plan["rhk"][0]["iki"][0]["target_value"] == 8


def test_revision_keeps_every_approved_version(org):
    hp, ka, sa = org.team_a()
    before = org.counts()
    body = problem(org.post(f"/plans/{sa['id']}/revise", org.as_(STAFF_A[0])), 409, "stage.not_allowed")
    assert body["stage"] == "planning" and body["action"] == "plan.revise"
    etag = org.get(f"/plans/{sa['id']}", org.as_(STAFF_A[0])).headers["ETag"]
    body = problem(
        org.put(f"/plans/{sa['id']}", org.as_(STAFF_A[0]) | {"If-Match": etag}, content(sa["rhk"])),
        409,
        "plan.transition",
    )  # an approved plan is not edited in place
    assert org.counts() == before
    org.advance_to("monitoring:1:check_in")
    problem(org.post(f"/plans/{sa['id']}/revise", org.as_(KASI_A)), 403, "plan.only_owner")
    r = org.post(f"/plans/{sa['id']}/revise", org.as_(STAFF_A[0]))
    assert r.status_code == 200 and r.get_json()["status"] == "revised"
    data = content(r.get_json()["rhk"])
    data["rhk"][0]["description"] = "Mendukung perencanaan (direvisi)"
    r = org.put(f"/plans/{sa['id']}", org.as_(STAFF_A[0]) | {"If-Match": r.headers["ETag"]}, data)
    assert r.status_code == 200, r.get_json()
    assert org.submit(sa["id"], STAFF_A[0]).status_code == 200
    r = org.approve(sa["id"], KASI_A)
    assert r.status_code == 200 and r.get_json()["revision"] == 2
    versions = org.get(f"/plans/{sa['id']}/versions", org.as_(STAFF_A[0])).get_json()
    assert [v["revision"] for v in versions] == [1, 2]
    v1 = org.get(f"/plans/{sa['id']}/versions/1", org.as_(KASI_A)).get_json()
    v2 = org.get(f"/plans/{sa['id']}/versions/2", org.hr).get_json()
    assert v1["snapshot"]["rhk"][0]["description"] == sa["rhk"][0]["description"]
    assert v2["snapshot"]["rhk"][0]["description"] == "Mendukung perencanaan (direvisi)"
    assert v1["snapshot"]["rhk"][0]["id"] == v2["snapshot"]["rhk"][0]["id"]  # the RHK kept its id
    assert v1["approved_by"] == KASI_A and v1["approved_at"].endswith("+00:00")
    problem(org.get(f"/plans/{sa['id']}/versions/3", org.as_(STAFF_A[0])), 404)
    assert [
        e["envelope"]["data"]["revision"]
        for e in org.outbox("plans.plan.approved")
        if e["envelope"]["subject"] == str(sa["id"])
    ] == [1, 2]
