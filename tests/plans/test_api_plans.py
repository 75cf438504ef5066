"""Cycles and SKP plans through the API: stages, cascading, validation, submission and approval,
revision with kept versions, object-level access, ETags and cascade coverage."""

from __future__ import annotations

from services.plans.domain import BERAKHLAK
from tests.plans.support import (
    HEAD,
    KASI_A,
    KASI_B,
    OTHER_EMP,
    STAFF_A,
    STAFF_B,
    content,
    field_errors,
    iki,
    problem,
    rhk,
)

# ------------------------------------------------------------------ cycles


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


# ------------------------------------------------------------------ drafting and cascading


def test_cascade_from_head_to_kasi_to_staff(org):
    hp = org.head_plan()
    assert hp["is_head_of_unit"] is True and hp["penilai_nip"] is None and hp["status"] == "draft"
    assert [r["organisation_goal"] for r in hp["rhk"]] == [
        "Sasaran PK 1: jalan mantap 90%",
        "Sasaran PK 2: jembatan baru",
    ]
    ka = org.cascade(hp, KASI_A)
    assert ka["penilai_nip"] == HEAD and ka["is_head_of_unit"] is True  # a kasi heads their seksi
    assert ka["rhk"][0]["parent_rhk_id"] == hp["rhk"][0]["id"]
    sa = org.cascade(ka, STAFF_A[0])
    assert sa["rhk"][0]["parent_rhk_id"] == ka["rhk"][0]["id"] and sa["penilai_nip"] == KASI_A
    assert sa["is_head_of_unit"] is False
    assert org.plan(sa["id"], STAFF_A[0])["rhk"] == sa["rhk"]
    body = problem(
        org.post("/plans", org.as_(STAFF_A[0]), content(sa["rhk"]) | {"cycle_id": org.cycle_id}), 409, "plan.exists"
    )
    assert body["cycle_id"] == org.cycle_id


def test_validation_errors_are_field_by_field(org):
    hp = org.head_plan()
    before = org.counts()
    bad = content(
        [
            rhk(
                "Baik",
                parent=hp["rhk"][0]["id"],
                ikis=[iki("speed"), iki("kuantitas", value=0), iki("kuantitas", indicator=" "), iki("waktu", unit="")],
            ),
            rhk("", kind="lainnya", parent=None, ikis=[]),
        ],
        behaviour={"akuntabel": "ok", "jujur": "?"},
    )
    body = problem(org.post("/plans", org.as_(KASI_A), bad | {"cycle_id": org.cycle_id}), 422, "validation")
    assert field_errors(body) == {
        "rhk[0].iki[0].aspect": "iki.aspect",
        "rhk[0].iki[1].target_value": "iki.target_value",
        "rhk[0].iki[2].aspect": "iki.aspect_duplicate",
        "rhk[0].iki[2].indicator": "iki.indicator",
        "rhk[0].iki[3].target_unit": "iki.target_unit",
        "rhk[1].kind": "rhk.kind",
        "rhk[1].description": "rhk.description",
        "rhk[1].parent_rhk_id": "rhk.cascade_required",
        "rhk[1].iki": "rhk.iki_required",
        "behaviour.jujur": "behaviour.unknown_value",
    }
    pointers = {e["field"]: e["pointer"] for e in body["errors"]}
    assert pointers["rhk[0].iki[0].aspect"] == "#/rhk/0/iki/0/aspect"
    # schema-level errors are named the same way
    wrong = content([rhk("x", parent=hp["rhk"][0]["id"], ikis=[iki() | {"target_value": "banyak", "colour": 1}])])
    body = problem(org.post("/plans", org.as_(KASI_A), wrong | {"approach": "intuitif"}), 422)
    assert field_errors(body) == {
        "approach": "field.invalid",
        "cycle_id": "field.required",
        "rhk[0].iki[0].target_value": "field.type",
        "rhk[0].iki[0].colour": "field.unknown",
    }
    body = problem(
        org.post(
            "/plans",
            org.as_(KASI_A),
            content([rhk("tambahan saja", kind="tambahan", parent=hp["rhk"][0]["id"])]) | {"cycle_id": org.cycle_id},
        ),
        422,
    )
    assert field_errors(body) == {"rhk": "rhk.utama_required"}
    assert org.counts() == before


def test_qualitative_plan_needs_a_target_text_or_a_full_number(org):
    hp = org.head_plan()
    plan = content(
        [
            rhk(
                "Kualitatif",
                parent=hp["rhk"][0]["id"],
                ikis=[
                    {"aspect": "kualitas", "indicator": "Mutu kajian", "target_text": "Kajian diterima"},
                    {"aspect": "waktu", "indicator": "Tepat waktu"},
                ],
            )
        ],
        approach="kualitatif",
    )
    body = problem(org.post("/plans", org.as_(KASI_A), plan | {"cycle_id": org.cycle_id}), 422)
    assert field_errors(body) == {"rhk[0].iki[1].target_text": "iki.target_required"}
    plan["rhk"][0]["iki"][1] |= {"target_value": 12, "target_unit": "bulan"}
    assert org.post("/plans", org.as_(KASI_A), plan | {"cycle_id": org.cycle_id}).status_code == 201


def test_unknown_parent_rhk_is_refused(org):
    hp = org.head_plan()
    ka = org.cascade(hp, KASI_A)
    before = org.counts()
    body = problem(
        org.post("/plans", org.as_(KASI_B), content([rhk("x", parent="no-such-rhk")]) | {"cycle_id": org.cycle_id}), 422
    )
    assert field_errors(body) == {"rhk[0].parent_rhk_id": "rhk.parent_unknown"}
    # a staff member cascades from their own penilai, not from the head or another kasi
    body = problem(
        org.post(
            "/plans",
            org.as_(STAFF_A[0]),
            content([rhk("x", parent=hp["rhk"][0]["id"]), rhk("y", parent=ka["rhk"][0]["id"])])
            | {"cycle_id": org.cycle_id},
        ),
        422,
    )
    assert field_errors(body) == {"rhk[0].parent_rhk_id": "rhk.parent_unknown"}
    body = problem(
        org.post(
            "/plans", org.as_(STAFF_B[0]), content([rhk("x", parent=ka["rhk"][0]["id"])]) | {"cycle_id": org.cycle_id}
        ),
        422,
    )
    assert field_errors(body) == {"rhk[0].parent_rhk_id": "rhk.parent_unknown"}
    # only a head of unit may cascade from an organisation goal instead
    body = problem(
        org.post(
            "/plans", org.as_(STAFF_A[1]), content([rhk("x", goal="Sasaran sendiri")]) | {"cycle_id": org.cycle_id}
        ),
        422,
    )
    assert field_errors(body) == {"rhk[0].parent_rhk_id": "rhk.cascade_required"}
    assert org.counts() == before


def test_who_may_draft_a_plan(org):
    hp = org.head_plan()
    body = content([rhk("x", goal="Sasaran")]) | {"cycle_id": org.cycle_id}
    before = org.counts()
    problem(org.post("/plans", org.hr, body), 403)  # HR has no NIP
    body_other = problem(org.post("/plans", org.as_(OTHER_EMP), body), 422)  # a cycle of another agency
    assert field_errors(body_other) == {"cycle_id": "cycle.unknown"}
    problem(org.post("/plans", org.tokens.employee("199609092021011010"), body), 403, "plan.not_employee")
    assert org.counts() == before and hp["id"]


def test_plan_in_a_draft_cycle_is_a_stage_conflict(org):
    hp = org.head_plan()
    draft = org.post("/cycles", org.hr, {"year": 2026, "period_type": "semester", "name": "Cadangan 2026"}).get_json()
    before = org.counts()
    body = problem(
        org.post("/plans", org.as_(KASI_A), content([rhk("x", parent=hp["rhk"][0]["id"])]) | {"cycle_id": draft["id"]}),
        409,
        "stage.not_allowed",
    )
    assert body["stage"] == "draft" and body["action"] == "plan.create"
    assert org.counts() == before


# ------------------------------------------------------------------ submit, return, approve


def test_submit_needs_all_seven_behaviour_expectations(org):
    hp = org.head_plan()
    partial = {v: "ok" for v in BERAKHLAK[:3]} | {"loyal": "  "}
    ka = org.create_plan(KASI_A, [rhk("x", parent=hp["rhk"][0]["id"])], behaviour=partial)
    before = org.counts()
    body = problem(org.submit(ka["id"], KASI_A), 422, "validation")
    missing = [f"behaviour.{v}" for v in BERAKHLAK[3:]]
    assert [e["field"] for e in body["errors"]] == missing
    assert {e["code"] for e in body["errors"]} == {"behaviour.expectation_required"}
    assert org.counts() == before
    assert org.plan(ka["id"], KASI_A)["status"] == "draft"


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


# ------------------------------------------------------------------ reading and listing


def test_reading_a_plan_outside_ones_reach_is_not_found(org):
    hp, ka, sa = org.team_a()
    for who in (org.as_(STAFF_A[1]), org.as_(KASI_B), org.as_(STAFF_B[0]), org.other_hr, org.as_(OTHER_EMP)):
        for path in ("", "/versions", "/versions/1", "/coverage", "/realisations", "/feedback"):
            body = problem(org.get(f"/plans/{sa['id']}{path}", who), 404, "plans.not_found")
            assert body["id"] == str(sa["id"]) or path.startswith("/versions/")
    for who in (org.as_(STAFF_A[0]), org.as_(KASI_A), org.as_(HEAD), org.hr, org.admin):
        assert org.get(f"/plans/{sa['id']}", who).status_code == 200
    problem(org.get("/plans/424242", org.hr), 404)


def test_list_filters_and_shows_only_visible_plans(org):
    hp, ka, sa = org.team_a()
    kb = org.cascade(hp, KASI_B)
    sa2 = org.cascade(ka, STAFF_A[1])
    assert org.submit(sa2["id"], STAFF_A[1]).status_code == 200
    sb = org.cascade(kb, STAFF_B[0])

    def listed(headers, query=""):
        r = org.get(f"/plans{query}", headers)
        assert r.status_code == 200, r.get_json()
        return {p["employee_nip"]: p["status"] for p in r.get_json()["items"]}

    assert listed(org.hr) == {
        HEAD: "draft",
        KASI_A: "approved",
        STAFF_A[0]: "approved",
        KASI_B: "draft",
        STAFF_A[1]: "submitted",
        STAFF_B[0]: "draft",
    }
    assert listed(org.hr, "?status=approved") == {KASI_A: "approved", STAFF_A[0]: "approved"}
    assert listed(org.hr, f"?status=draft&cycle_id={org.cycle_id}") == {
        HEAD: "draft",
        KASI_B: "draft",
        STAFF_B[0]: "draft",
    }
    assert listed(org.hr, "?unit_code=SEK-B") == {KASI_B: "draft", STAFF_B[0]: "draft"}
    assert listed(org.hr, f"?penilai_nip={KASI_A}") == {STAFF_A[0]: "approved", STAFF_A[1]: "submitted"}
    assert listed(org.as_(KASI_A)) == {KASI_A: "approved", STAFF_A[0]: "approved", STAFF_A[1]: "submitted"}
    assert listed(org.as_(KASI_A), "?status=submitted") == {STAFF_A[1]: "submitted"}
    assert listed(org.as_(KASI_A), f"?employee_nip={STAFF_B[0]}") == {}
    assert set(listed(org.as_(HEAD))) == {HEAD, KASI_A, KASI_B, STAFF_A[0], STAFF_A[1], STAFF_B[0]}
    assert listed(org.as_(STAFF_A[0])) == {STAFF_A[0]: "approved"}
    assert listed(org.other_hr) == {}
    other = org.post("/cycles", org.hr, {"year": 2027, "period_type": "monthly"}).get_json()
    assert listed(org.hr, f"?cycle_id={other['id']}") == {}
    body = problem(org.get("/plans?status=lost", org.hr), 422)
    assert field_errors(body) == {"status": "field.invalid"}
    assert sb and sa


def test_put_needs_current_if_match(org):
    hp = org.head_plan()
    ka = org.cascade(hp, KASI_A)
    url = f"/plans/{ka['id']}"
    r = org.get(url, org.as_(KASI_A))
    etag = r.headers["ETag"]
    data = content(r.get_json()["rhk"])
    data["rhk"][0]["description"] = "Uraian baru"
    before = org.counts()
    body = problem(org.put(url, org.as_(KASI_A), data), 428, "etag.required")
    assert body["etag"] == etag
    body = problem(org.put(url, org.as_(KASI_A) | {"If-Match": '"0"'}, data), 412, "etag.stale")
    assert body["etag"] == etag
    assert org.counts() == before
    assert org.plan(ka["id"])["rhk"][0]["description"] == ka["rhk"][0]["description"]
    r = org.put(url, org.as_(KASI_A) | {"If-Match": etag}, data)
    assert r.status_code == 200
    assert r.headers["ETag"] != etag and r.get_json()["rhk"][0]["description"] == "Uraian baru"
    assert r.get_json()["rhk"][0]["id"] == ka["rhk"][0]["id"]
    assert [i["id"] for i in r.get_json()["rhk"][0]["iki"]] == [i["id"] for i in ka["rhk"][0]["iki"]]
    problem(org.put(url, org.as_(KASI_A) | {"If-Match": etag}, data), 412)  # the old ETag is stale now
    # an id that is not on this plan is refused, field by field
    data["rhk"][0]["id"] = "not-mine"
    body = problem(org.put(url, org.as_(KASI_A) | {"If-Match": "*"}, data), 422)
    assert field_errors(body) == {"rhk[0].id": "rhk.unknown_id"}
    # a stale If-Match on an action is refused too
    problem(org.post(f"{url}/submit", org.as_(KASI_A) | {"If-Match": etag}), 412)
    assert org.plan(ka["id"])["status"] == "draft"


def test_coverage_shows_support_idle_and_missing_subordinates(org):
    hp = org.head_plan()
    ka = org.cascade(hp, KASI_A, which=0)
    cov = org.get(f"/plans/{hp['id']}/coverage", org.as_(HEAD)).get_json()
    r0, r1 = hp["rhk"][0]["id"], hp["rhk"][1]["id"]
    assert [(r["id"], r["supported_by"]) for r in cov["rhk"]] == [(r0, [KASI_A]), (r1, [])]
    assert cov["unsupported"] == [r1] and cov["ratio"] == 0.5
    assert cov["idle_subordinates"] == [] and cov["subordinates_without_plan"] == [KASI_B]
    kb = org.cascade(hp, KASI_B, which=1)
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
