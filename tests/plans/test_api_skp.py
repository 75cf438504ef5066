"""SKP plans through the API (``skp.py``): drafting with cascade links, validation field by field,
who may draft, reading and listing within one's reach, and ETags on edits."""

from __future__ import annotations

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
