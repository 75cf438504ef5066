"""Rules that surface through the reviews API: who sets organisation results, heads of unit,
the self-assessment requirement, the annual evaluation's stages, the editable curve."""

from __future__ import annotations

from tests.plans.support import HEAD, KASI_A, KASI_B, STAFF_A, problem


def test_organisation_result_is_set_by_hr_or_the_head_one_level_up(chain):
    chain.advance_to("monitoring:1:check_in")
    problem(chain.set_org_result("SEK-A", "ISTIMEWA", headers=chain.as_(KASI_A)), 403, "org_result.only_head_above")
    problem(chain.set_org_result("SEK-A", "ISTIMEWA", headers=chain.as_(STAFF_A[0])), 403)
    r = chain.set_org_result("SEK-A", "ISTIMEWA", headers=chain.as_(HEAD))  # head of the dinas above the seksi
    assert r.status_code == 200 and r.get_json()["result"] == "ISTIMEWA"
    body = problem(chain.set_org_result("SEK-A", "LUAR_BIASA"), 422)
    assert body["errors"][0]["field"] == "result"
    body = problem(chain.set_org_result("NOPE", "BAIK"), 422)
    assert body["errors"][0]["field"] == "unit_code"
    listed = chain.get(f"/org-results?cycle_id={chain.org.cycle_id}", chain.hr).get_json()
    assert [(o["unit_code"], o["result"]) for o in listed] == [("SEK-A", "ISTIMEWA")]


def test_head_of_unit_takes_the_organisation_result_and_needs_it(chain):
    chain.advance_to("monitoring:1:supervisor_evaluation")
    ev = chain.evaluation_of(KASI_B)
    body = problem(chain.rate(ev, HEAD, "above", "meets"), 409, "org_result.missing")
    assert body["unit_code"] == "SEK-B"
    chain.set_org_result("SEK-B", "BUTUH_PERBAIKAN")
    r = chain.rate(ev, HEAD, "above", "meets")  # the head's own view of results is replaced by the unit's
    assert r.status_code == 200 and (r.get_json()["rating_hasil"], r.get_json()["predikat"]) == (
        "below",
        "BUTUH_PERBAIKAN",
    )


def test_rating_waits_for_the_self_assessment_when_the_agency_demands_it(chain):
    chain.emb.platform("reviews").settings.require_self_assessment = True
    chain.advance_to("monitoring:1:supervisor_evaluation")
    ev = chain.evaluation_of(STAFF_A[0])
    problem(chain.rate(ev, KASI_A, "meets", "meets"), 409, "evaluation.self_assessment_required")
    assert chain.evaluation_of(STAFF_A[0])["status"] == "open"


def test_annual_evaluation_is_rated_in_its_stage_and_signed_only_at_sign_off(chain):
    chain.advance_to("annual_evaluation")
    annual = [e for e in chain.evaluations(period_seq=0) if e["employee_nip"] == STAFF_A[0]]
    assert len(annual) == 1 and annual[0]["kind"] == "annual" and annual[0]["period_name"] == "Tahunan 2026"
    ev = chain.evaluation_of(STAFF_A[0], period_seq=0)
    assert chain.self_assess(ev, STAFF_A[0]).status_code == 200
    r = chain.rate(ev, KASI_A, "meets", "meets", deviation_reason="Tanpa realisasi tercatat.")
    assert r.status_code == 200, r.get_json()
    problem(chain.post(f"/evaluations/{ev['id']}/sign", chain.as_(KASI_A)), 409, "stage.not_allowed")
    chain.advance_to("sign_off")
    assert chain.post(f"/evaluations/{ev['id']}/sign", chain.as_(KASI_A)).status_code == 200
    problem(chain.rate(ev, KASI_A, "above", "above", deviation_reason="x"), 409)


def test_hr_edits_the_distribution_rules(chain):
    rules = chain.get("/distribution-rules", chain.hr).get_json()["rules"]
    assert {
        "org_result": "BAIK",
        "bound": "max",
        "predikats": ["BAIK"],
        "percent": 70.0,
        "count": None,
        "rounding": "nearest",
    } in [{k: r.get(k) for k in ("org_result", "bound", "predikats", "percent", "count", "rounding")} for r in rules]
    body = problem(
        chain.put(
            "/distribution-rules",
            chain.hr,
            {"rules": [{"org_result": "BAIK", "bound": "most", "predikats": ["BAIK"], "percent": 70}]},
        ),
        422,
    )
    assert body["errors"][0]["field"].startswith("rules[0]")
    problem(chain.put("/distribution-rules", chain.as_(HEAD), {"rules": []}), 403)
    assert chain.get("/distribution-rules", chain.hr).get_json()["rules"] == rules  # unchanged
    new = [{"org_result": "BAIK", "bound": "max", "predikats": ["BAIK"], "percent": 80, "rounding": "floor"}]
    problem(chain.put("/distribution-rules", chain.hr, new), 422)  # a bare list is not the documented shape
    r = chain.put("/distribution-rules", chain.hr, {"rules": new})
    assert r.status_code == 200 and len(r.get_json()["rules"]) == 1
    assert chain.get("/distribution-rules", chain.org.other_hr).get_json()["rules"] == rules  # other agency: defaults


def test_a_re_rating_is_audited_with_the_ratings_it_replaced(chain):
    chain.advance_to("monitoring:1:supervisor_evaluation")
    ev = chain.evaluation_of(STAFF_A[0])
    reason = {"deviation_reason": "Dinilai dari pengamatan langsung."}
    assert chain.rate(ev, KASI_A, "meets", "meets", **reason).status_code == 200
    assert chain.rate(ev, KASI_A, "above", "above", **reason).status_code == 200
    rows = chain.get(f"/audit?entity_type=evaluation&entity_id={ev['id']}&limit=200", chain.hr).get_json()["items"]
    rated = sorted((r for r in rows if r["action"] == "evaluation.rated"), key=lambda r: r["id"])
    assert [(r["before"]["rating_hasil"], r["after"]["rating_hasil"]) for r in rated] == [
        (None, "meets"),
        ("meets", "above"),
    ]
    assert rated[1]["before"]["rating_perilaku"] == "meets" and rated[1]["before"]["status"] == "rated"


def test_a_signed_document_carries_the_units_organisation_result_and_the_rules_hr_set(chain):
    # the signature checks the unit's curve and writes the organisation result and its rules into the
    # frozen document from the same reading: the rules HR set, not the defaults
    rule = {"org_result": "BAIK", "bound": "max", "predikats": ["SANGAT_BAIK"], "percent": 100, "rounding": "floor"}
    r = chain.put("/distribution-rules", chain.hr, {"rules": [rule]})
    assert r.status_code == 200
    stored = r.get_json()["rules"]
    chain.advance_to("annual_evaluation")
    assert chain.set_org_result("SEK-A", "BAIK", period_seq=0).status_code == 200
    ev = chain.evaluation_of(STAFF_A[0], period_seq=0)
    assert chain.rate(ev, KASI_A, "meets", "meets", deviation_reason="Tanpa realisasi tercatat.").status_code == 200
    chain.advance_to("sign_off")
    assert chain.post(f"/evaluations/{ev['id']}/sign", chain.as_(KASI_A)).status_code == 200
    docs = chain.get(f"/evaluations/{ev['id']}/documents", chain.as_(STAFF_A[0])).get_json()
    assert docs[0]["content"]["org_result"] == "BAIK"
    assert docs[0]["content"]["distribution"] == {"org_result": "BAIK", "rules": stored}


def test_rules_read_in_a_session_are_read_again_after_hr_replaces_them(chain):
    # the rules are read once per unit of work; replacing them in that unit of work forgets what was read
    from services.common.auth import Principal
    from services.reviews import domain
    from services.reviews.orgresults import replace_rules, rules_for

    agency, reviews = "PKMB", chain.emb.platform("reviews")
    with chain.emb.apps["reviews"].test_request_context(), reviews.uow() as s:
        hr = Principal(sub="hr-test", roles=frozenset({"hr"}), agency=agency)
        assert rules_for(s, agency) == list(domain.DEFAULT_RULES)
        new = [{"org_result": "BAIK", "bound": "max", "predikats": ["BAIK"], "percent": 80, "rounding": "floor"}]
        replace_rules(s, hr, new)
        assert [domain.rule_to_dict(r) for r in rules_for(s, agency)] == [
            domain.rule_to_dict(domain.rule_from_dict(new[0]))
        ]
