"""A rating perilaku "below expectations" names the BerAKHLAK values below (issue 15, Deliver 2): the
rating is refused without them or with a code that is no BerAKHLAK value, the named values are kept on
the evaluation, and the development plan after countersign lists them."""

from __future__ import annotations

from tests.plans.support import HEAD, KASI_B, STAFF_B, problem

REASON = "Penilaian berdasarkan bukti dukung."


def _fields(resp) -> dict[str, str]:
    return {e["field"]: e["code"] for e in problem(resp, 422, "validation")["errors"]}


def test_a_below_rating_perilaku_names_known_berakhlak_values(chain):
    chain.advance_to("monitoring:1:check_in")
    chain.set_org_result("SEK-B", "BAIK")
    chain.advance_to("monitoring:1:supervisor_evaluation")
    ev = chain.evaluation_of(STAFF_B[0])
    rate = lambda **extra: chain.rate(ev, KASI_B, "meets", "below", deviation_reason=REASON, **extra)  # noqa: E731
    assert _fields(rate(perilaku_below_values=[])) == {"perilaku_below_values": "rating.perilaku_below_values_required"}
    assert _fields(rate(perilaku_below_values=["loyal", "jujur"])) == {
        "perilaku_below_values[1]": "behaviour.unknown_value"
    }
    assert chain.evaluation_of(STAFF_B[0])["rating_perilaku"] is None  # nothing was stored
    r = rate(perilaku_below_values=["kolaboratif", "akuntabel", "kolaboratif"])
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["perilaku_below_values"] == ["akuntabel", "kolaboratif"]  # BerAKHLAK order, once each
    assert chain.evaluation_of(STAFF_B[0])["perilaku_below_values"] == ["akuntabel", "kolaboratif"]
    # a re-rating that is not "below" names no values (and any given are dropped)
    other = chain.evaluation_of(STAFF_B[1])
    r = chain.rate(other, KASI_B, "meets", "meets", deviation_reason=REASON, perilaku_below_values=["loyal"])
    assert r.status_code == 200 and r.get_json()["perilaku_below_values"] is None, r.get_json()


def test_the_development_plan_lists_the_values_named_below(chain):
    chain.advance_to("monitoring:1:check_in")
    chain.set_org_result("SEK-B", "BAIK")
    chain.advance_to("monitoring:1:supervisor_evaluation")
    ev = chain.evaluation_of(STAFF_B[0])
    r = chain.rate(ev, KASI_B, "meets", "below", deviation_reason=REASON, perilaku_below_values=["adaptif", "loyal"])
    assert r.status_code == 200, r.get_json()
    for who, action in ((KASI_B, "sign"), (STAFF_B[0], "acknowledge"), (HEAD, "countersign")):
        r = chain.post(f"/evaluations/{ev['id']}/{action}", chain.as_(who))
        assert r.status_code == 200, r.get_json()
    items = chain.get(f"/followups?cycle_id={chain.org.cycle_id}", chain.hr).get_json()["items"]
    dev = next(i for i in items if i["employee_nip"] == STAFF_B[0])
    assert dev["kind"] == "development" and dev["below_values"] == ["loyal", "adaptif"], dev  # BerAKHLAK order


def test_an_objection_lifting_the_below_drops_the_values_named(chain):
    chain.advance_to("monitoring:1:check_in")
    chain.set_org_result("SEK-B", "BAIK")
    chain.advance_to("monitoring:1:supervisor_evaluation")
    ev = chain.evaluation_of(STAFF_B[0])
    r = chain.rate(ev, KASI_B, "meets", "below", deviation_reason=REASON, perilaku_below_values=["harmonis"])
    assert r.status_code == 200, r.get_json()
    for who, action in ((KASI_B, "sign"), (STAFF_B[0], "acknowledge")):
        assert chain.post(f"/evaluations/{ev['id']}/{action}", chain.as_(who)).status_code == 200
    reasons = "Bukti kerja sama lintas seksi bulan Maret belum dipertimbangkan."
    r = chain.post(f"/evaluations/{ev['id']}/objections", chain.as_(STAFF_B[0]), {"reasons": reasons})
    assert r.status_code == 201, r.get_json()
    decision = {"decision": "changed", "reason": "Bukti sah.", "rating_hasil": "meets", "rating_perilaku": "meets"}
    r = chain.post(f"/objections/{r.get_json()['id']}/decide", chain.as_(HEAD), decision)
    assert r.status_code == 200, r.get_json()
    after = chain.evaluation_of(STAFF_B[0])
    assert after["rating_perilaku"] == "meets" and after["perilaku_below_values"] is None
