"""Evaluation cycles through the API (``cycles.py``): periods, deadlines and the stages."""

from __future__ import annotations

from tests.plans.support import HEAD, STAFF_A, field_errors, problem


def test_create_cycle_generates_periods(org):
    r = org.post("/cycles", org.hr, {"year": 2027, "period_type": "quarterly", "planning_deadline": "2027-01-31"})
    assert r.status_code == 201, r.get_json()
    c = r.get_json()
    assert r.headers["ETag"] == f'"{c["version"]}"'
    assert (c["stage"], c["state"], c["name"], c["agency_code"]) == ("draft", "draft", "Penilaian Kinerja 2027", "PKMB")
    assert [p["name_id"] for p in c["periods"]] == ["Triwulan I", "Triwulan II", "Triwulan III", "Triwulan IV-Akhir"]
    assert [(p["start"], p["end"]) for p in c["periods"]][::3] == [
        ("2027-01-01", "2027-03-31"),
        ("2027-10-01", "2027-12-31"),
    ]
    opened = [e["envelope"] for e in org.outbox("plans.cycle.opened") if e["envelope"]["subject"] == str(c["id"])]
    assert len(opened) == 1 and len(opened[0]["data"]["periods"]) == 4
    for period_type, n in (("monthly", 12), ("semester", 2)):
        r = org.post("/cycles", org.hr, {"year": 2027, "period_type": period_type, "name": f"Uji {period_type}"})
        assert r.status_code == 201 and len(r.get_json()["periods"]) == n
    assert org.get(f"/cycles/{c['id']}", org.as_(STAFF_A[0])).get_json()["periods"] == c["periods"]


def test_cycle_creation_refusals_change_nothing(org):
    before = org.counts()
    body = problem(org.post("/cycles", org.hr, {"year": 2026, "period_type": "quarterly"}), 409, "cycle.exists")
    assert body["year"] == 2026
    body = problem(org.post("/cycles", org.hr, {"year": 2027, "period_type": "weekly", "deadline_days": -1}), 422)
    assert field_errors(body) == {"period_type": "field.invalid", "deadline_days": "field.invalid"}
    body = problem(org.post("/cycles", org.hr, {"year": 2027, "period_type": "monthly", "unit_codes": ["NOPE"]}), 422)
    assert field_errors(body) == {"unit_codes": "employee.unit_unknown"}
    problem(org.post("/cycles", org.as_(HEAD), {"year": 2027, "period_type": "monthly"}), 403, "auth.forbidden")
    assert org.counts() == before


def test_advance_with_wrong_expected_names_current_stage(org):
    before = org.counts()
    body = problem(org.advance("draft"), 409, "cycle.not_expected")
    assert body["stage"] == "planning" and body["expected"] == "draft"
    assert "planning" in body["detail"]
    assert org.counts() == before
    r = org.advance("planning")
    assert r.status_code == 200 and r.get_json()["state"] == "monitoring:1:check_in"
    problem(org.advance("planning"), 409, "cycle.not_expected")  # a repeated call is safe


def test_only_hr_of_the_agency_advances(org):
    before = org.counts()
    problem(org.post(f"/cycles/{org.cycle_id}/advance", org.as_(HEAD), {"expected": "planning"}), 403)
    problem(org.post(f"/cycles/{org.cycle_id}/advance", org.as_(STAFF_A[0]), {}), 403)
    problem(org.post(f"/cycles/{org.cycle_id}/advance", org.other_hr, {"expected": "planning"}), 404)
    problem(org.get(f"/cycles/{org.cycle_id}", org.other_hr), 404)
    assert org.get("/cycles", org.other_hr).get_json()["items"] == []
    problem(org.post("/cycles/9999/advance", org.hr, {}), 404)
    assert org.counts() == before
    assert org.get(f"/cycles/{org.cycle_id}", org.hr).get_json()["stage"] == "planning"


def test_hr_sets_a_period_deadline_with_if_match(org):
    c = org.get(f"/cycles/{org.cycle_id}", org.hr)
    etag = c.headers["ETag"]
    path = f"/cycles/{org.cycle_id}/periods/2"
    problem(org.patch(path, org.hr, {"deadline": "2026-07-10"}), 428)
    problem(org.patch(path, {**org.hr, "If-Match": '"999"'}, {"deadline": "2026-07-10"}), 412)
    problem(org.patch(path, {**org.as_(HEAD), "If-Match": etag}, {"deadline": "2026-07-10"}), 403)
    body = problem(org.patch(path, {**org.hr, "If-Match": etag}, {"deadline": "2026-03-01"}), 422)
    assert field_errors(body) == {"deadline": "period.deadline_before_start"}
    problem(
        org.patch(f"/cycles/{org.cycle_id}/periods/9", {**org.hr, "If-Match": etag}, {"deadline": "2026-07-10"}), 422
    )
    r = org.patch(path, {**org.hr, "If-Match": etag}, {"deadline": "2026-07-10"})
    assert r.status_code == 200, r.get_json()
    assert r.headers["ETag"] != etag
    assert [p["deadline"] for p in r.get_json()["periods"]][1] == "2026-07-10"
    org.advance("planning")  # monitoring: the calendar is fixed now
    etag = org.get(f"/cycles/{org.cycle_id}", org.hr).headers["ETag"]
    body = problem(org.patch(path, {**org.hr, "If-Match": etag}, {"deadline": "2026-07-15"}), 409, "stage.not_allowed")
    assert body["stage"] == "monitoring:1:check_in"


def test_walk_through_every_stage_to_closed(org):
    seen = ["planning"]
    for _ in range(30):
        r = org.advance(seen[-1])
        if r.status_code != 200:
            break
        assert r.headers["ETag"] == f'"{r.get_json()["version"]}"'
        seen.append(r.get_json()["state"])
    monitoring = [
        f"monitoring:{n}:{ph}" for n in range(1, 5) for ph in ("check_in", "self_assessment", "supervisor_evaluation")
    ]
    assert seen == ["planning", *monitoring, "annual_evaluation", "calibration", "sign_off", "objections", "closed"]
    before = org.counts()
    body = problem(org.advance(), 409, "cycle.closed")
    assert body["stage"] == "closed"
    assert org.counts() == before
    changed = org.outbox("plans.cycle.stage_changed")
    assert [e["envelope"]["data"]["state"] for e in changed] == seen
    assert [c["stage"] for c in org.get("/cycles?stage=closed", org.hr).get_json()["items"]] == ["closed"]
    assert org.get("/cycles?year=2025", org.hr).get_json()["items"] == []
