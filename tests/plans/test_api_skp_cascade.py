"""Cascading through the API (``skp_cascade.py``): the cascade picker's source — an employee sees
their penilai's RHK (and nothing else of that plan) — and a plan's cascade coverage."""

from __future__ import annotations

from tests.plans.support import HEAD, KASI_A, KASI_B, OTHER_EMP, STAFF_A, STAFF_B, content, problem, rhk


def test_an_employee_sees_only_the_rhk_of_their_penilai(org):
    hp = org.head_plan()
    ka = org.cascade(hp, KASI_A, approver=HEAD)
    r = org.get(f"/plans/cascade-options?cycle_id={org.cycle_id}", org.as_(STAFF_A[0]))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["superior_nip"] == KASI_A and body["superior_name"] == "Siti Aminah"
    assert body["plan_id"] == ka["id"] and body["plan_status"] == "approved" and body["is_head_of_unit"] is False
    assert body["rhk"] == [{"id": x["id"], "kind": x["kind"], "description": x["description"]} for x in ka["rhk"]]
    problem(org.get(f"/plans/{ka['id']}", org.as_(STAFF_A[0])), 404)  # the plan itself stays hidden


def test_no_superior_plan_yet_and_heads_of_unit(org):
    body = org.get(f"/plans/cascade-options?cycle_id={org.cycle_id}", org.as_(STAFF_B[0])).get_json()
    assert body["superior_nip"] is not None and body["plan_id"] is None and body["rhk"] == []
    body = org.get(f"/plans/cascade-options?cycle_id={org.cycle_id}", org.as_(HEAD)).get_json()
    assert body["superior_nip"] is None and body["is_head_of_unit"] is True


def test_unknown_or_foreign_cycle_and_non_employees(org):
    problem(org.get("/plans/cascade-options?cycle_id=999", org.as_(STAFF_A[0])), 404)
    problem(org.get(f"/plans/cascade-options?cycle_id={org.cycle_id}", org.as_(OTHER_EMP)), 404)
    problem(org.get(f"/plans/cascade-options?cycle_id={org.cycle_id}", org.hr), 403)
    problem(org.get("/plans/cascade-options", org.as_(STAFF_A[0])), 422)


def test_coverage_shows_support_idle_and_missing_subordinates(org):
    hp = org.head_plan()
    ka = org.cascade(hp, KASI_A, which=0, approver=HEAD)
    cov = org.get(f"/plans/{hp['id']}/coverage", org.as_(HEAD)).get_json()
    r0, r1 = hp["rhk"][0]["id"], hp["rhk"][1]["id"]
    assert [(r["id"], r["supported_by"]) for r in cov["rhk"]] == [(r0, [KASI_A]), (r1, [])]
    assert cov["unsupported"] == [r1] and cov["ratio"] == 0.5
    assert cov["idle_subordinates"] == [] and cov["subordinates_without_plan"] == [KASI_B]
    kb = org.cascade(hp, KASI_B, which=1, approver=HEAD)
    cov = org.get(f"/plans/{hp['id']}/coverage", org.hr).get_json()
    assert cov["unsupported"] == [] and cov["ratio"] == 1.0 and cov["subordinates_without_plan"] == []
    # the head replaces the first RHK: kasi A's plan now supports nothing of the head's
    r = org.get(f"/plans/{hp['id']}", org.as_(HEAD))
    data = content([rhk("Sasaran baru", goal="Sasaran PK 3"), r.get_json()["rhk"][1]])
    r = org.put(f"/plans/{hp['id']}", org.as_(HEAD) | {"If-Match": r.headers["ETag"]}, data)
    assert r.status_code == 200, r.get_json()
    cov = org.get(f"/plans/{hp['id']}/coverage", org.as_(HEAD)).get_json()
    new_r0 = r.get_json()["rhk"][0]["id"]
    assert cov["unsupported"] == [new_r0] and cov["idle_subordinates"] == [KASI_A]
    assert [r["supported_by"] for r in cov["rhk"]] == [[], [KASI_B]]
    # kasi A's own coverage: three staff, none with a plan yet
    cov = org.get(f"/plans/{ka['id']}/coverage", org.as_(KASI_A)).get_json()
    assert cov["subordinates_without_plan"] == sorted(STAFF_A) and cov["ratio"] == 0.0
    assert kb


def _coverage(org, plan_id: int, nip: str = HEAD) -> dict:
    r = org.get(f"/plans/{plan_id}/coverage", org.as_(nip))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_only_an_approved_plan_counts_as_support(org):
    """Issue 15, bug 4: a subordinate's draft (or submitted, or returned) SKP is a proposal, not a
    commitment: its RHK do not support the superior's until the penilai approves it; the coverage
    names such subordinates instead. A plan reopened for revision keeps counting with its last
    approved version until the revision is approved."""
    hp = org.head_plan()
    r0, r1 = hp["rhk"][0]["id"], hp["rhk"][1]["id"]
    ka = org.cascade(hp, KASI_A, which=0)  # a draft
    cov = _coverage(org, hp["id"])
    assert [r["supported_by"] for r in cov["rhk"]] == [[], []] and cov["ratio"] == 0.0
    assert cov["unsupported"] == [r0, r1] and cov["idle_subordinates"] == []
    assert cov["subordinates_not_approved"] == [KASI_A] and cov["subordinates_without_plan"] == [KASI_B]
    assert org.submit(ka["id"], KASI_A).status_code == 200  # submitted: still not agreed
    assert _coverage(org, hp["id"])["ratio"] == 0.0
    r = org.post(f"/plans/{ka['id']}/return", org.as_(HEAD), {"note": "Perjelas target"})
    assert r.status_code == 200, r.get_json()
    assert _coverage(org, hp["id"])["subordinates_not_approved"] == [KASI_A]
    assert org.submit(ka["id"], KASI_A).status_code == 200
    assert org.approve(ka["id"], HEAD).status_code == 200
    cov = _coverage(org, hp["id"])
    assert [r["supported_by"] for r in cov["rhk"]] == [[KASI_A], []] and cov["ratio"] == 0.5
    assert cov["subordinates_not_approved"] == []

    # reopened for revision, kasi A moves the link to the second RHK: the approved version (first RHK)
    # stays in force until the head approves the revision
    org.advance_to("monitoring:1:check_in")
    r = org.post(f"/plans/{ka['id']}/revise", org.as_(KASI_A))
    assert r.status_code == 200, r.get_json()
    data = content(r.get_json()["rhk"])
    data["rhk"][0]["parent_rhk_id"] = r1
    r = org.put(f"/plans/{ka['id']}", org.as_(KASI_A) | {"If-Match": r.headers["ETag"]}, data)
    assert r.status_code == 200, r.get_json()
    assert org.submit(ka["id"], KASI_A).status_code == 200
    cov = _coverage(org, hp["id"])
    assert [r["supported_by"] for r in cov["rhk"]] == [[KASI_A], []] and cov["subordinates_not_approved"] == []
    assert org.approve(ka["id"], HEAD).status_code == 200
    assert [r["supported_by"] for r in _coverage(org, hp["id"])["rhk"]] == [[], [KASI_A]]
