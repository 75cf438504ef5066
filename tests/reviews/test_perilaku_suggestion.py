"""The suggested rating perilaku kerja through the API (issue 15, Deliver 2): the suggestion preview adds
it beside the hasil suggestion (from the levels the penilai is about to record, else the peers' majority
once their aggregate is shown); the rating stores it, and departing from it needs a reason (refused field by
field, nothing stored). A changed "below" after the penilai's rating — an objection decided, a calibration
adjustment — names its values too."""

from __future__ import annotations

from tests.plans.support import HEAD, KASI_A, KASI_B, STAFF_A, STAFF_B, problem

REASON = "Penilaian berdasarkan bukti dukung."


def _fields(resp) -> dict[str, dict]:
    return {e["field"]: e for e in problem(resp, 422, "validation")["errors"]}


def _ready(chain, unit="SEK-B", result="BAIK"):
    chain.advance_to("monitoring:1:check_in")
    assert chain.set_org_result(unit, result).status_code == 200
    chain.advance_to("monitoring:1:supervisor_evaluation")


def test_the_preview_adds_the_perilaku_suggestion_from_the_levels_given(chain):
    _ready(chain)
    ev = chain.evaluation_of(STAFF_B[0])
    r = chain.get(f"/evaluations/{ev['id']}/suggestion", chain.as_(KASI_B))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert {"rating", "reason", "counts", "rhk"} <= set(body)  # the hasil suggestion as before
    perilaku = body["perilaku"]
    assert (perilaku["rating"], perilaku["reason"]) == (None, "suggest.perilaku.not_assessable")
    assert [v["reason"] for v in perilaku["values"]] == ["suggest.value.no_level"] * 7
    r = chain.get(f"/evaluations/{ev['id']}/suggestion?loyal=above&adaptif=above&akuntabel=meets", chain.as_(KASI_B))
    perilaku = r.get_json()["perilaku"]
    assert (perilaku["rating"], perilaku["reason"]) == ("above", "suggest.perilaku.above")
    loyal = next(v for v in perilaku["values"] if v["code"] == "loyal")
    assert (loyal["level"], loyal["reason"]) == ("above", "suggest.value.penilai")
    r = chain.get(f"/evaluations/{ev['id']}/suggestion?kolaboratif=below&loyal=above", chain.as_(KASI_B))
    perilaku = r.get_json()["perilaku"]
    assert (perilaku["rating"], perilaku["below_values"]) == ("below", ["kolaboratif"])
    problem(chain.get(f"/evaluations/{ev['id']}/suggestion?loyal=great", chain.as_(KASI_B)), 422)


def test_departing_from_the_perilaku_suggestion_needs_a_reason_and_the_rating_stores_it(chain):
    _ready(chain)
    ev = chain.evaluation_of(STAFF_B[0])
    feedback = {
        "akuntabel": {"level": "below", "text": "Dua laporan terlambat tanpa kabar."},
        "loyal": {"level": "meets", "text": ""},
    }
    r = chain.rate(ev, KASI_B, "meets", "meets", deviation_reason=REASON, value_feedback=feedback)
    errors = _fields(r)
    assert set(errors) == {"perilaku_deviation_reason"}
    assert errors["perilaku_deviation_reason"]["code"] == "rating.perilaku_deviation_reason_required"
    assert errors["perilaku_deviation_reason"]["params"]["suggested"] == "below"
    assert chain.evaluation_of(STAFF_B[0])["rating_perilaku"] is None  # nothing was stored
    # both deviations at once: both fields refused in one answer
    r = chain.put(
        f"/evaluations/{ev['id']}/rating",
        {**chain.as_(KASI_B), "If-Match": chain.etag(ev["id"])},
        {"rating_hasil": "above", "rating_perilaku": "above", "value_feedback": feedback},
    )
    suggested_hasil = chain.get(f"/evaluations/{ev['id']}/suggestion", chain.as_(KASI_B)).get_json()["rating"]
    expected = {"perilaku_deviation_reason"} | (
        {"deviation_reason"} if suggested_hasil not in (None, "above") else set()
    )
    assert set(_fields(r)) == expected
    why = "Keterlambatan karena sakit, sudah ada surat keterangan."
    r = chain.rate(
        ev, KASI_B, "meets", "meets", deviation_reason=REASON, value_feedback=feedback, perilaku_deviation_reason=why
    )
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert (out["suggested_perilaku"], out["rating_perilaku"], out["perilaku_deviation_reason"]) == (
        "below",
        "meets",
        why,
    )
    akuntabel = next(v for v in out["perilaku_suggestion"]["values"] if v["code"] == "akuntabel")
    assert (akuntabel["level"], akuntabel["reason"]) == ("below", "suggest.value.penilai")
    assert chain.evaluation_of(STAFF_B[0])["perilaku_deviation_reason"] == why
    # following the suggestion: no reason asked, none kept
    r = chain.rate(
        ev,
        KASI_B,
        "meets",
        "below",
        deviation_reason=REASON,
        value_feedback=feedback,
        perilaku_below_values=["akuntabel"],
        perilaku_deviation_reason="tidak dipakai",
    )
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["suggested_perilaku"], r.get_json()["perilaku_deviation_reason"]) == ("below", None)


def test_the_peers_majority_suggests_once_their_aggregate_is_shown(chain):
    chain.advance_to("monitoring:1:check_in")
    chain.set_org_result("SEK-A", "BAIK")
    ev = chain.evaluation_of(STAFF_A[0])
    raters = [STAFF_A[1], STAFF_A[2], STAFF_B[0]]
    assert chain.post(f"/evaluations/{ev['id']}/peers", chain.as_(KASI_A), {"rater_nips": raters}).status_code == 200
    answers = [{"kolaboratif": "above", "harmonis": "above"}, {"kolaboratif": "above"}, {"harmonis": "meets"}]
    preview = lambda: chain.get(f"/evaluations/{ev['id']}/suggestion", chain.as_(KASI_A)).get_json()["perilaku"]  # noqa: E731
    for i, (nip, answer) in enumerate(zip(raters, answers, strict=True)):
        assert preview()["rating"] is None, i  # the peers count only once their aggregate is shown
        r = chain.post(f"/evaluations/{ev['id']}/peer-feedback", chain.as_(nip), {"answers": answer})
        assert r.status_code == 201, r.get_json()
    p = preview()
    by = {v["code"]: v for v in p["values"]}
    assert (by["kolaboratif"]["level"], by["kolaboratif"]["reason"]) == ("above", "suggest.value.peers")
    assert by["kolaboratif"]["peers"] == {"above": 2, "meets": 0, "below": 0, "n": 2}
    assert (by["harmonis"]["level"], by["harmonis"]["reason"]) == (None, "suggest.value.peers_split")
    assert (p["rating"], p["reason"]) == ("above", "suggest.perilaku.above")
    chain.advance_to("monitoring:1:supervisor_evaluation")
    r = chain.rate(ev, KASI_A, "meets", "meets", deviation_reason=REASON)
    assert _fields(r)["perilaku_deviation_reason"]["params"]["suggested"] == "above"
    r = chain.rate(ev, KASI_A, "meets", "above", deviation_reason=REASON)
    assert r.status_code == 200 and r.get_json()["suggested_perilaku"] == "above", r.get_json()


def _signed_and_acknowledged(chain, nip, penilai, perilaku="meets", **extra):
    ev = chain.evaluation_of(nip)
    r = chain.rate(ev, penilai, "meets", perilaku, deviation_reason=REASON, **extra)
    assert r.status_code == 200, r.get_json()
    for who, action in ((penilai, "sign"), (nip, "acknowledge")):
        r = chain.post(f"/evaluations/{ev['id']}/{action}", chain.as_(who))
        assert r.status_code == 200, r.get_json()
    return ev


def test_an_objection_decided_below_names_its_values(chain):
    _ready(chain, result="ISTIMEWA")  # the curve lets a unit of Baik sign
    ev = _signed_and_acknowledged(chain, STAFF_B[0], KASI_B)
    reasons = "Kerja sama lintas seksi bulan Maret belum dipertimbangkan."
    r = chain.post(f"/evaluations/{ev['id']}/objections", chain.as_(STAFF_B[0]), {"reasons": reasons})
    assert r.status_code == 201, r.get_json()
    decide = f"/objections/{r.get_json()['id']}/decide"
    decision = {
        "decision": "changed",
        "reason": "Bukti menunjukkan sebaliknya.",
        "rating_hasil": "meets",
        "rating_perilaku": "below",
    }
    errors = _fields(chain.post(decide, chain.as_(HEAD), decision))
    assert errors["perilaku_below_values"]["code"] == "rating.perilaku_below_values_required"
    after = chain.evaluation_of(STAFF_B[0])
    assert (after["rating_perilaku"], after["predikat"]) == ("meets", "BAIK")  # nothing changed
    errors = _fields(chain.post(decide, chain.as_(HEAD), decision | {"perilaku_below_values": ["jujur"]}))
    assert errors["perilaku_below_values[0]"]["code"] == "behaviour.unknown_value"
    r = chain.post(decide, chain.as_(HEAD), decision | {"perilaku_below_values": ["kolaboratif", "harmonis"]})
    assert r.status_code == 200, r.get_json()
    after = chain.evaluation_of(STAFF_B[0])
    assert (after["rating_perilaku"], after["perilaku_below_values"]) == ("below", ["harmonis", "kolaboratif"])


def test_a_calibration_adjustment_to_below_names_its_values(chain):
    _ready(chain)
    ev = chain.evaluation_of(STAFF_B[0])
    assert chain.rate(ev, KASI_B, "meets", "meets", deviation_reason=REASON).status_code == 200
    adjust = f"/evaluations/{ev['id']}/adjust"
    errors = _fields(chain.post(adjust, chain.hr, {"rating_perilaku": "below", "reason": "Kalibrasi unit."}))
    assert (
        errors == {"perilaku_below_values": errors["perilaku_below_values"]}
        and errors["perilaku_below_values"]["code"] == "rating.perilaku_below_values_required"
    )
    assert chain.evaluation_of(STAFF_B[0])["rating_perilaku"] == "meets"  # nothing changed
    r = chain.post(
        adjust,
        chain.hr,
        {"rating_perilaku": "below", "perilaku_below_values": ["adaptif"], "reason": "Kalibrasi unit."},
    )
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["rating_perilaku"], r.get_json()["perilaku_below_values"]) == ("below", ["adaptif"])
    # a later adjustment of the hasil alone keeps the values the "below" named
    r = chain.post(adjust, chain.as_(KASI_B), {"rating_hasil": "below", "reason": "Laporan tidak diserahkan."})
    assert r.status_code == 200 and r.get_json()["perilaku_below_values"] == ["adaptif"], r.get_json()
    history = chain.get(f"/evaluations/{ev['id']}/adjustments", chain.hr).get_json()
    assert history[0]["after"]["perilaku_below_values"] == ["adaptif"]
    # lifting the "below" drops them
    r = chain.post(adjust, chain.hr, {"rating_perilaku": "meets", "reason": "Kalibrasi ulang."})
    assert r.status_code == 200 and r.get_json()["perilaku_below_values"] is None
