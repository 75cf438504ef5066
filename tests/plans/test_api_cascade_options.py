"""The cascade picker's source: an employee sees their penilai's RHK (and nothing else of that plan)."""

from __future__ import annotations

from tests.plans.support import HEAD, KASI_A, OTHER_EMP, STAFF_A, STAFF_B, problem


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
