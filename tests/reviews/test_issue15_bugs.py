"""Bugs of issue 15 a user hit in the reviews API, each reproduced: rater consistency reported a
penilai under a ratee's unit (2); submitting a self-assessment without a body ignored the saved
draft (3); an organisation result could change on a closed cycle, or under signed evaluations, and
calibration then found new violations the signed ratings could no longer fix (9); the evaluation
did not state when its objection window closes, only the inbox did (10)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from tests.plans.support import HEAD, KASI_A, KASI_B, STAFF_A, STAFF_B, field_errors, problem

REASON = "Penilaian berdasarkan bukti dukung."
SUBMIT = "/evaluations/{id}/self-assessment/submit"


def _rate(chain, ratings: dict[str, tuple[str, str]]) -> None:
    chain.advance_to("monitoring:1:supervisor_evaluation")
    for nip, (hasil, perilaku) in ratings.items():
        ev = chain.evaluation_of(nip)
        r = chain.rate(ev, ev["penilai_nip"], hasil, perilaku, deviation_reason=REASON)
        assert r.status_code == 200, (nip, r.get_json())


def _sign(chain, *nips: str) -> None:
    for nip in nips:
        ev = chain.evaluation_of(nip)
        r = chain.post(f"/evaluations/{ev['id']}/sign", chain.as_(ev["penilai_nip"]))
        assert r.status_code == 200, (nip, r.get_json())


# ------------------------------------------------------------------ bug 2


def test_rater_consistency_reports_each_penilai_under_their_own_unit(chain):
    """The head of the dinas rates the two heads of section: reported under DINAS (was the unit of
    whichever section head came last), and measured against the whole dinas, the units below it."""
    chain.advance_to("monitoring:1:check_in")
    for unit in ("SEK-A", "SEK-B"):
        assert chain.set_org_result(unit, "BAIK").status_code == 200
    _rate(
        chain,
        {
            KASI_A: ("meets", "meets"),
            KASI_B: ("meets", "above"),
            STAFF_A[0]: ("above", "above"),
            STAFF_A[1]: ("meets", "meets"),
            STAFF_B[0]: ("meets", "below"),
        },
    )
    r = chain.get(f"/rater-consistency?cycle_id={chain.org.cycle_id}&period_seq=1", chain.hr)
    assert r.status_code == 200, r.get_json()
    raters = {x["penilai_nip"]: x for x in r.get_json()["raters"]}
    assert {n: raters[n]["unit_code"] for n in (HEAD, KASI_A, KASI_B)} == {
        HEAD: "DINAS",
        KASI_A: "SEK-A",
        KASI_B: "SEK-B",
    }
    head = raters[HEAD]
    assert head["n"] == 4 and head["unit_mean"] == head["agency_mean"]  # the dinas holds every rating
    assert head["index_vs_unit"] == head["index_vs_agency"]
    # a head of section against the section's ratings: staff A0 and A1 (by Siti) and Siti herself (by Budi)
    kasi_a = raters[KASI_A]
    assert kasi_a["unit_mean"] != kasi_a["agency_mean"]
    assert abs(kasi_a["unit_mean"] - (1 + 1 + 0 + 0 + 0 + 0) / 6) < 1e-9  # above 1, meets 0, below −1


# ------------------------------------------------------------------ bug 3


def _draft(chain, ev: dict, nip: str, body: dict) -> None:
    r = chain.put(
        f"/evaluations/{ev['id']}/self-assessment", {**chain.as_(nip), "If-Match": chain.etag(ev["id"])}, body
    )
    assert r.status_code == 200, r.get_json()


def test_submitting_without_a_body_submits_the_saved_draft(chain):
    chain.advance_to("monitoring:1:check_in")
    ev = chain.evaluation_of(STAFF_A[0])
    iki_id = chain.plans[STAFF_A[0]]["rhk"][0]["iki"][0]["id"]
    draft = {
        "achievements": "Empat dokumen perencanaan selesai.",
        "challenges": "Data kecamatan terlambat.",
        "improvement_plan": "Jadwal pengumpulan data dimajukan.",
        "iki_comments": {iki_id: "Dokumen kelima menyusul."},
    }
    _draft(chain, ev, STAFF_A[0], draft)
    r = chain.post(SUBMIT.format(id=ev["id"]), chain.as_(STAFF_A[0]))  # no body at all
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert out["status"] == "self_assessed" and out["self_assessment"] == draft
    assert chain.evaluation_of(STAFF_A[0])["self_submitted_at"] is not None


def test_submit_keeps_the_draft_fields_left_out_replaces_those_given_and_names_each_missing_one(chain):
    chain.advance_to("monitoring:1:check_in")
    ev = chain.evaluation_of(STAFF_A[1])
    _draft(chain, ev, STAFF_A[1], {"achievements": "Basis data pegawai diperbarui."})
    body = problem(chain.post(SUBMIT.format(id=ev["id"]), chain.as_(STAFF_A[1]), {}), 422)
    assert field_errors(body) == {"challenges": "field.required", "improvement_plan": "field.required"}
    kept = chain.evaluation_of(STAFF_A[1])
    assert kept["status"] == "open" and kept["self_assessment"]["achievements"] == "Basis data pegawai diperbarui."
    r = chain.post(
        SUBMIT.format(id=ev["id"]),
        chain.as_(STAFF_A[1]),
        {"challenges": "Server lambat.", "improvement_plan": "Impor malam hari."},
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["self_assessment"] == {
        "achievements": "Basis data pegawai diperbarui.",
        "challenges": "Server lambat.",
        "improvement_plan": "Impor malam hari.",
        "iki_comments": {},
    }
    # a field given replaces the draft's; an empty one given counts as missing
    ev2 = chain.evaluation_of(STAFF_A[2])
    _draft(chain, ev2, STAFF_A[2], {"achievements": "Lama.", "challenges": "Lama.", "improvement_plan": "Lama."})
    body = problem(chain.post(SUBMIT.format(id=ev2["id"]), chain.as_(STAFF_A[2]), {"challenges": ""}), 422)
    assert field_errors(body) == {"challenges": "field.required"}
    r = chain.post(SUBMIT.format(id=ev2["id"]), chain.as_(STAFF_A[2]), {"achievements": "Baru."})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["self_assessment"]["achievements"] == "Baru."
    assert r.get_json()["self_assessment"]["challenges"] == "Lama."


def test_the_openapi_says_the_submit_body_is_optional_and_what_it_holds(chain):
    spec = chain.org.client.get("/reviews/openapi.json").get_json()
    op = spec["paths"]["/reviews/api/v1/evaluations/{evaluation_id}/self-assessment/submit"]["post"]
    assert op["requestBody"].get("required", False) is False
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    schema = spec["components"]["schemas"][ref]
    assert set(schema["properties"]) == {"achievements", "challenges", "improvement_plan", "iki_comments"}
    assert not schema.get("required")


# ------------------------------------------------------------------ bug 9


def _calibration(chain, unit: str, seq: int = 1) -> dict:
    r = chain.get(f"/calibration?cycle_id={chain.org.cycle_id}&period_seq={seq}&unit_code={unit}", chain.hr)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["units"][0]


def test_an_organisation_result_is_fixed_once_the_units_evaluations_are_signed(chain):
    chain.advance_to("monitoring:1:check_in")
    assert chain.set_org_result("SEK-B", "ISTIMEWA").status_code == 200
    assert chain.set_org_result("SEK-A", "ISTIMEWA").status_code == 200
    _rate(chain, {n: ("meets", "meets") for n in STAFF_B})
    # rated, not signed: calibration may still move the curve
    assert chain.set_org_result("SEK-B", "BAIK").status_code == 200
    assert chain.set_org_result("SEK-B", "ISTIMEWA").status_code == 200
    _sign(chain, STAFF_B[0])
    for who in (chain.hr, chain.as_(HEAD)):  # HR and the head one level up alike
        body = problem(chain.set_org_result("SEK-B", "BAIK", headers=who), 409, "org_result.signed")
        assert body["unit_code"] == "SEK-B" and body["signed"] == 1
        assert "sudah ditandatangani" in body["detail"]  # Bahasa Indonesia first
    unit = _calibration(chain, "SEK-B")
    assert unit["org_result"] == "ISTIMEWA" and unit["violations"] == []  # Baik would want a Butuh Perbaikan
    # another unit, and the same unit's next period, are their own
    assert chain.set_org_result("SEK-A", "BAIK").status_code == 200
    assert chain.set_org_result("SEK-B", "BAIK", period_seq=2).status_code == 200


def test_an_organisation_result_cannot_change_on_a_closed_cycle(chain):
    """The reported case: the cycle closed with SEK-B's signed evaluations on the Istimewa curve; HR
    changed the result to Baik (200) and calibration found a violation nobody could fix any more."""
    chain.advance_to("monitoring:1:check_in")
    assert chain.set_org_result("SEK-B", "ISTIMEWA").status_code == 200
    _rate(chain, {n: ("meets", "meets") for n in STAFF_B})
    _sign(chain, *STAFF_B)
    chain.advance_to("closed")
    for unit, seq in (("SEK-B", 1), ("SEK-A", 1), ("SEK-B", 0)):  # signed or not, set before or not
        body = problem(chain.set_org_result(unit, "BAIK", period_seq=seq), 409, "org_result.cycle_closed")
        assert body["unit_code"] == unit and "sudah ditutup" in body["detail"]
    body = problem(
        chain.set_org_result("SEK-B", "BAIK", headers={**chain.hr, "Accept-Language": "en"}),
        409,
        "org_result.cycle_closed",
    )
    assert "is closed" in body["detail"]
    unit = _calibration(chain, "SEK-B")
    assert unit["org_result"] == "ISTIMEWA" and unit["violations"] == []
    listed = chain.get(f"/org-results?cycle_id={chain.org.cycle_id}", chain.hr).get_json()
    assert [(o["unit_code"], o["period_seq"], o["result"]) for o in listed] == [("SEK-B", 1, "ISTIMEWA")]


# ------------------------------------------------------------------ bug 10


def test_the_evaluation_states_its_objection_deadline_as_a_jakarta_date(chain, clock):
    """Acknowledged at 05:00 WIB (22:00 UTC the day before): the deadline is 14 days after the
    Jakarta date, not the UTC one — the very day the objection window closes on."""
    wib = ZoneInfo("Asia/Jakarta")
    chain.advance_to("monitoring:1:check_in")
    chain.set_org_result("SEK-B", "ISTIMEWA")
    _rate(chain, {STAFF_B[0]: ("meets", "meets"), STAFF_B[1]: ("meets", "meets")})
    _sign(chain, STAFF_B[0], STAFF_B[1])
    ev = chain.evaluation_of(STAFF_B[0])
    assert ev["status"] == "signed" and ev["objection_deadline"] is None  # not received yet
    day = (clock.now + timedelta(days=2)).astimezone(wib).date()
    clock.set(datetime(day.year, day.month, day.day, 5, 0, tzinfo=wib))
    r = chain.post(f"/evaluations/{ev['id']}/acknowledge", chain.as_(STAFF_B[0]))
    assert r.status_code == 200, r.get_json()
    last = day + timedelta(days=14)
    assert r.get_json()["objection_deadline"] == last.isoformat()  # the acknowledgement's answer says it
    for who in (chain.as_(STAFF_B[0]), chain.as_(KASI_B), chain.as_(HEAD), chain.hr):
        assert chain.get(f"/evaluations/{ev['id']}", who).get_json()["objection_deadline"] == last.isoformat()
    # the objection window closes on that very date
    other = chain.evaluation_of(STAFF_B[1])
    assert chain.post(f"/evaluations/{other['id']}/acknowledge", chain.as_(STAFF_B[1])).status_code == 200
    clock.set(datetime(last.year, last.month, last.day, 23, 30, tzinfo=timezone.utc))  # 06:30 WIB the day after
    body = problem(
        chain.post(
            f"/evaluations/{other['id']}/objections", chain.as_(STAFF_B[1]), {"reasons": "Terlambat sehari di Jakarta."}
        ),
        409,
        "objection.window_closed",
    )
    assert body["closed_on"] == chain.evaluation_of(STAFF_B[1])["objection_deadline"] == last.isoformat()


def test_the_openapi_documents_the_objection_deadline_as_a_nullable_date(chain):
    spec = chain.org.client.get("/reviews/openapi.json").get_json()
    prop = spec["components"]["schemas"]["EvaluationOut"]["properties"]["objection_deadline"]
    assert prop["type"] in ("string", ["string", "null"]) and prop["format"] == "date"
    assert prop.get("nullable") is True or "null" in prop["type"]
    assert prop.get("readOnly") is True
