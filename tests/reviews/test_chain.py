"""The whole appraisal chain through the HTTP APIs, plans and reviews wired by events:
evaluations opened when a period opens, self-assessment, rating with the suggestion, calibration
against the curve, sign-off chain with a frozen document, objections within 14 days, follow-up."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from tests.plans.support import HEAD, KASI_A, KASI_B, STAFF_A, STAFF_B, problem


def test_period_opening_creates_one_evaluation_per_approved_plan_with_snapshots(chain):
    assert chain.evaluations() == []  # planning: nothing to evaluate yet
    chain.advance_to("monitoring:1:check_in")
    evs = chain.evaluations(period_seq=1)
    assert sorted(e["employee_nip"] for e in evs) == sorted([HEAD, KASI_A, KASI_B, *STAFF_A, *STAFF_B])
    staff = chain.evaluation_of(STAFF_A[0])
    assert (staff["penilai_nip"], staff["atasan_nip"]) == (KASI_A, HEAD)
    assert staff["penilai_name"] == "Siti Aminah" and staff["unit_code"] == "SEK-A"
    assert staff["period_name"] == "Triwulan I" and staff["status"] == "open" and staff["kind"] == "periodic"
    assert chain.evaluation_of(KASI_A)["is_head_of_unit"] is True
    # a replayed stage change (the flow calling twice, or a redelivery) opens nothing new
    chain.pump()
    assert len(chain.evaluations(period_seq=1)) == 9


def test_rating_follows_the_suggestion_or_says_why(chain):
    chain.advance_to("monitoring:1:check_in")
    # staff A0 exceeds both targets: 4 documents → 5 (a = 1.25), quality 100 % → 100 % (meets)
    chain.realise(STAFF_A[0], 1, [5, 100])
    ev = chain.evaluation_of(STAFF_A[0])
    problem(chain.rate(ev, KASI_A, "meets", "meets"), 409, "stage.not_allowed")  # before the window
    chain.advance_to("monitoring:1:self_assessment")
    r = chain.self_assess(ev, STAFF_A[0])
    assert r.status_code == 200 and r.get_json()["status"] == "self_assessed", r.get_json()
    chain.advance_to("monitoring:1:supervisor_evaluation")
    sug = chain.get(f"/evaluations/{ev['id']}/suggestion", chain.as_(KASI_A)).get_json()
    assert sug["rating"] == "meets"  # one RHK: one IKI above, one meets → RHK meets
    assert [i["level"] for i in sug["rhk"][0]["iki"]] == ["above", "meets"]
    body = problem(chain.rate(ev, KASI_A, "above", "above"), 422)
    assert body["errors"][0]["field"] == "deviation_reason"
    assert chain.evaluation_of(STAFF_A[0])["status"] == "self_assessed"  # nothing changed
    problem(chain.rate(ev, STAFF_A[1], "meets", "meets"), 404)  # a colleague cannot even see it
    problem(chain.rate(ev, HEAD, "meets", "meets"), 403)  # the atasan does not rate
    body = problem(
        chain.put(
            f"/evaluations/{ev['id']}/rating",
            {**chain.as_(KASI_A), "If-Match": chain.etag(ev["id"])},
            {"rating_hasil": "excellent", "rating_perilaku": "meets"},
        ),
        422,
    )
    assert body["errors"][0]["field"] == "rating_hasil"
    r = chain.rate(
        ev,
        KASI_A,
        "above",
        "above",
        deviation_reason="Memimpin digitalisasi arsip di luar target.",
        value_feedback={"kolaboratif": {"level": "above", "text": "Membantu seksi lain"}},
    )
    assert r.status_code == 200, r.get_json()
    ev = r.get_json()
    assert (ev["rating_hasil"], ev["suggested_hasil"], ev["predikat"]) == ("above", "meets", "SANGAT_BAIK")
    assert ev["deviation_reason"].startswith("Memimpin")
    r = chain.rate(ev, KASI_A, "meets", "below")  # re-rating until signed; back to the suggestion
    assert r.get_json()["predikat"] == "KURANG_MISCONDUCT" and r.get_json()["deviation_reason"] is None


def _rate_team(chain, ratings: dict[str, tuple[str, str]]):
    chain.advance_to("monitoring:1:supervisor_evaluation")
    for nip, (hasil, perilaku) in ratings.items():
        ev = chain.evaluation_of(nip)
        penilai = ev["penilai_nip"]
        r = chain.rate(ev, penilai, hasil, perilaku, deviation_reason="Penilaian berdasarkan bukti dukung.")
        assert r.status_code == 200, (nip, r.get_json())


def test_curve_blocks_sign_off_until_fixed_or_overridden_then_the_document_is_frozen(chain):
    chain.advance_to("monitoring:1:check_in")
    assert chain.set_org_result("SEK-A", "BAIK").status_code == 200
    # Baik: at most 70 % Baik and at least one Butuh Perbaikan or Kurang: 3 staff + kasi all Baik breaks both
    _rate_team(chain, {n: ("meets", "meets") for n in STAFF_A})
    r = chain.rate(chain.evaluation_of(KASI_A), HEAD, "meets", "meets")
    assert r.status_code == 200 and r.get_json()["rating_hasil"] == "meets"  # head of seksi: org result Baik
    cal = chain.get(f"/calibration?cycle_id={chain.org.cycle_id}&period_seq=1&unit_code=SEK-A", chain.hr).get_json()
    unit = cal["units"][0]
    assert unit["headcount"] == 4 and unit["sign_off_blocked"] is True
    assert sorted(v["code"] for v in unit["violations"]) == ["curve.max_exceeded", "curve.min_missing"]
    baik = next(b for b in unit["bands"] if b["predikat"] == "BAIK")
    assert (baik["count"], baik["percent"], baik["max_count"]) == (4, 100.0, 3)
    ev = chain.evaluation_of(STAFF_A[0])
    body = problem(chain.post(f"/evaluations/{ev['id']}/sign", chain.as_(KASI_A)), 409, "calibration.blocked")
    assert len(body["violations"]) == 2
    # HR check publishes the violation for notifications
    chain.post(f"/calibration/check?cycle_id={chain.org.cycle_id}&period_seq=1", chain.hr)
    # calibration: one staff really was below expectations (adjustment with reason, before/after kept)
    r = chain.post(
        f"/evaluations/{chain.evaluation_of(STAFF_A[2])['id']}/adjust",
        chain.as_(KASI_A),
        {"rating_hasil": "below", "reason": "Dua laporan tidak diserahkan."},
    )
    assert r.status_code == 200 and r.get_json()["predikat"] == "BUTUH_PERBAIKAN"
    cal = chain.get(f"/calibration?cycle_id={chain.org.cycle_id}&period_seq=1&unit_code=SEK-A", chain.hr).get_json()
    assert cal["units"][0]["violations"] == [] and cal["units"][0]["sign_off_blocked"] is False
    r = chain.post(f"/evaluations/{ev['id']}/sign", chain.as_(KASI_A))
    assert r.status_code == 200, r.get_json()
    signed = r.get_json()
    assert signed["status"] == "signed" and len(signed["content_hash"]) == 64 and signed["document_version"] == 1
    # frozen: later writes are refused with the hash, nothing changes
    body = problem(chain.rate(ev, KASI_A, "below", "below"), 409, "evaluation.frozen")
    assert body["content_hash"] == signed["content_hash"]
    problem(chain.post(f"/evaluations/{ev['id']}/countersign", chain.as_(HEAD)), 409)  # out of order
    problem(chain.post(f"/evaluations/{ev['id']}/acknowledge", chain.as_(KASI_A)), 403)  # not the employee
    r = chain.post(f"/evaluations/{ev['id']}/acknowledge", chain.as_(STAFF_A[0]))
    assert r.status_code == 200 and r.get_json()["status"] == "acknowledged"
    problem(chain.post(f"/evaluations/{ev['id']}/countersign", chain.as_(KASI_A)), 403)
    r = chain.post(f"/evaluations/{ev['id']}/countersign", chain.as_(HEAD))
    assert r.status_code == 200 and r.get_json()["status"] == "countersigned"
    docs = chain.get(f"/evaluations/{ev['id']}/documents", chain.as_(STAFF_A[0])).get_json()
    assert [d["version"] for d in docs] == [1, 2, 3] and docs[0]["content_hash"] == signed["content_hash"]
    assert [d["reason"] for d in docs] == ["signed", "acknowledged", "countersigned"]  # each step appended
    assert docs[0]["content"]["employee"]["nip"] == STAFF_A[0]
    assert docs[0]["content"]["penilai"]["nip"] == KASI_A


def test_objection_window_is_fourteen_days_and_a_change_makes_a_new_document_version(chain, clock):
    chain.advance_to("monitoring:1:check_in")
    chain.set_org_result("SEK-B", "ISTIMEWA")
    _rate_team(chain, {STAFF_B[0]: ("meets", "below"), STAFF_B[1]: ("above", "above"), STAFF_B[2]: ("meets", "meets")})
    evs = {n: chain.evaluation_of(n) for n in STAFF_B}
    for n, ev in evs.items():
        assert chain.post(f"/evaluations/{ev['id']}/sign", chain.as_(KASI_B)).status_code == 200
        assert chain.post(f"/evaluations/{ev['id']}/acknowledge", chain.as_(n)).status_code == 200
    # day 14 after acknowledging: still allowed
    clock.advance(days=14)
    ev = evs[STAFF_B[0]]
    r = chain.post(
        f"/evaluations/{ev['id']}/objections",
        chain.as_(STAFF_B[0]),
        {"reasons": "Bukti pengawasan lapangan bulan Maret belum dipertimbangkan."},
    )
    assert r.status_code == 201, r.get_json()
    obj = r.get_json()
    problem(
        chain.post(
            f"/evaluations/{ev['id']}/objections",
            chain.as_(STAFF_B[0]),
            {"reasons": "Keberatan kedua untuk hal yang sama."},
        ),
        409,
        "objection.exists",
    )
    # day 15: closed, with the date it closed
    clock.advance(days=1)
    late = evs[STAFF_B[2]]
    body = problem(
        chain.post(
            f"/evaluations/{late['id']}/objections",
            chain.as_(STAFF_B[2]),
            {"reasons": "Terlambat mengajukan keberatan ini."},
        ),
        409,
        "objection.window_closed",
    )
    start = chain.org.clock.now - timedelta(days=15)
    assert body["closed_on"] == (start.date() + timedelta(days=14)).isoformat()
    # both sides are heard; only the atasan penilai decides; the decision is final
    assert (
        chain.post(
            f"/objections/{obj['id']}/statements",
            chain.as_(STAFF_B[0]),
            {"text": "Lampiran foto kegiatan tanggal 12 Maret."},
        ).status_code
        == 201
    )
    assert (
        chain.post(
            f"/objections/{obj['id']}/statements", chain.as_(KASI_B), {"text": "Foto belum diunggah saat penilaian."}
        ).status_code
        == 201
    )
    problem(
        chain.post(f"/objections/{obj['id']}/decide", chain.as_(KASI_B), {"decision": "upheld", "reason": "Tetap."}),
        403,
    )
    r = chain.post(
        f"/objections/{obj['id']}/decide",
        chain.as_(HEAD),
        {"decision": "changed", "reason": "Bukti foto sah.", "rating_hasil": "meets", "rating_perilaku": "meets"},
    )
    assert r.status_code == 200, r.get_json()
    decided = r.get_json()
    assert decided["status"] == "decided" and decided["before"]["predikat"] == "KURANG_MISCONDUCT"
    assert decided["after"]["predikat"] == "BAIK" and decided["after"]["document_version"] == 3  # signed, acknowledged
    problem(
        chain.post(f"/objections/{obj['id']}/decide", chain.as_(HEAD), {"decision": "upheld", "reason": "Ubah lagi."}),
        409,
        "objection.transition",
    )
    listed = chain.get(f"/objections?cycle_id={chain.org.cycle_id}", chain.hr).get_json()["items"]
    assert [(o["id"], o["decision"]) for o in listed] == [(obj["id"], "changed")]
    assert chain.get("/objections?decision=upheld", chain.hr).get_json()["items"] == []
    assert chain.get("/objections", chain.as_(STAFF_B[1])).get_json()["items"] == []  # not theirs
    # the penilai, who answers the objection, finds it from the evaluation
    mine = chain.get(f"/objections?evaluation_id={ev['id']}", chain.as_(KASI_B)).get_json()["items"]
    assert [o["id"] for o in mine] == [obj["id"]]
    assert chain.get(f"/objections?evaluation_id={late['id']}", chain.as_(KASI_B)).get_json()["items"] == []
    assert chain.get("/objections", chain.org.other_hr).get_json()["items"] == []
    docs = chain.get(f"/evaluations/{ev['id']}/documents", chain.as_(STAFF_B[0])).get_json()
    assert [d["version"] for d in docs] == [1, 2, 3]
    assert docs[2]["previous_hash"] == docs[1]["content_hash"] and docs[2]["reason"] == "objection_changed"
    assert docs[2]["content"]["predikat"] == "BAIK"


def test_follow_up_after_countersign(chain):
    chain.advance_to("monitoring:1:check_in")
    chain.set_org_result("SEK-B", "ISTIMEWA")
    _rate_team(chain, {STAFF_B[0]: ("below", "meets"), STAFF_B[1]: ("above", "above")})
    for n in STAFF_B[:2]:
        ev = chain.evaluation_of(n)
        for who, action in ((KASI_B, "sign"), (n, "acknowledge"), (HEAD, "countersign")):
            r = chain.post(f"/evaluations/{ev['id']}/{action}", chain.as_(who))
            assert r.status_code == 200, r.get_json()
    items = chain.get(f"/followups?cycle_id={chain.org.cycle_id}", chain.hr).get_json()["items"]
    kinds = {i["employee_nip"]: (i["kind"], i["predikat"]) for i in items}
    assert kinds == {STAFF_B[0]: ("development", "BUTUH_PERBAIKAN"), STAFF_B[1]: ("recognition", "SANGAT_BAIK")}
    dev = next(i for i in items if i["kind"] == "development")
    assert dev["owner_nip"] == KASI_B and dev["due_date"]
    mine = chain.get("/followups", chain.as_(STAFF_B[0])).get_json()["items"]
    assert [i["employee_nip"] for i in mine] == [STAFF_B[0]]


def test_who_sees_which_evaluation(chain):
    chain.advance_to("monitoring:1:check_in")
    ev = chain.evaluation_of(STAFF_A[0])
    for who, status in ((STAFF_A[0], 200), (KASI_A, 200), (HEAD, 200), (STAFF_A[1], 404), (KASI_B, 404)):
        assert chain.get(f"/evaluations/{ev['id']}", chain.as_(who)).status_code == status, who
    other_hr = chain.org.other_hr
    problem(chain.get(f"/evaluations/{ev['id']}", other_hr), 404)
    assert chain.get("/evaluations", other_hr).get_json()["items"] == []
    assert [e["employee_nip"] for e in chain.evaluations(chain.as_(STAFF_A[1]))] == [STAFF_A[1]]
    mine_to_rate = chain.evaluations(chain.as_(KASI_A), role="penilai")
    assert sorted(e["employee_nip"] for e in mine_to_rate) == sorted(STAFF_A)
    problem(chain.get("/evaluations", {}), 401)
    problem(chain.get(f"/calibration?cycle_id={chain.org.cycle_id}", other_hr), 404)


def test_peer_feedback_is_shown_only_in_aggregate_from_three_raters(chain):
    chain.advance_to("monitoring:1:check_in")
    ev = chain.evaluation_of(STAFF_A[0])
    raters = [STAFF_A[1], STAFF_A[2], STAFF_B[0]]
    problem(chain.post(f"/evaluations/{ev['id']}/peers", chain.as_(STAFF_A[1]), {"rater_nips": raters}), 404)
    body = problem(chain.post(f"/evaluations/{ev['id']}/peers", chain.as_(KASI_A), {"rater_nips": [STAFF_A[0]]}), 422)
    assert body["errors"][0]["code"] == "peer.self"
    r = chain.post(f"/evaluations/{ev['id']}/peers", chain.as_(KASI_A), {"rater_nips": raters})
    assert r.status_code == 200 and r.get_json()["nominated"] == 3
    for i, nip in enumerate(raters):
        r = chain.post(
            f"/evaluations/{ev['id']}/peer-feedback",
            chain.as_(nip),
            {"answers": {"kolaboratif": "above", "harmonis": "meets" if i else "below"}},
        )
        assert r.status_code == 201 and r.get_json()["aggregate"] is None
        seen = chain.get(f"/evaluations/{ev['id']}/peer-feedback", chain.as_(STAFF_A[0])).get_json()
        assert (seen["aggregate"] is None) == (i < 2)
    problem(
        chain.post(
            f"/evaluations/{ev['id']}/peer-feedback", chain.as_(raters[0]), {"answers": {"kolaboratif": "below"}}
        ),
        409,
        "peer.already_answered",
    )
    problem(
        chain.post(f"/evaluations/{ev['id']}/peer-feedback", chain.as_(KASI_B), {"answers": {"kolaboratif": "below"}}),
        404,
    )  # not nominated
    agg = chain.get(f"/evaluations/{ev['id']}/peer-feedback", chain.as_(STAFF_A[0])).get_json()["aggregate"]
    assert agg["kolaboratif"]["above"] == 3 and agg["harmonis"] == {"above": 0, "meets": 2, "below": 1, "n": 3}


def test_read_model_is_rebuilt_from_the_plans_api_after_loss(chain):
    from services.reviews import readmodel as svc
    from services.reviews.models import CycleRef, Person, PlanRef, UnitRef

    chain.advance_to("monitoring:1:check_in")
    chain.realise(STAFF_A[0], 1, [5, 100])
    reviews = chain.emb.platform("reviews")

    def ours(s):  # the rebuild runs with PKMB's HR token: it restores PKMB's part of the model
        return {
            m.__name__: s.scalar(select(func.count()).select_from(m).where(m.agency_code == "PKMB"))
            for m in (Person, UnitRef, CycleRef, PlanRef)
        }

    with reviews.uow() as s:
        before = ours(s)
        for model in (Person, UnitRef, CycleRef, PlanRef):
            s.query(model).filter(model.agency_code == "PKMB").delete()
        assert set(ours(s).values()) == {0}

    def fetch(path):
        r = chain.org.client.get(path, headers=chain.hr)
        assert r.status_code == 200, (path, r.get_json())
        return r.get_json()

    with chain.emb.apps["reviews"].app_context(), reviews.uow() as s:
        counts = svc.rebuild_read_model(s, fetch)
    with reviews.uow() as s:
        after = ours(s)
        cycle = s.get(CycleRef, chain.org.cycle_id)
        assert (cycle.stage, cycle.period_seq, cycle.phase) == ("monitoring", 1, "check_in")
    assert after == before and counts["plans"] == 9 and counts["realisations"] == 2
    # and the evaluation still computes its suggestion from the rebuilt model
    ev = chain.evaluation_of(STAFF_A[0])
    assert chain.get(f"/evaluations/{ev['id']}/suggestion", chain.hr).get_json()["rating"] == "meets"


def test_the_evaluation_document_is_a_pdf_with_its_hash_and_signature_dates(chain):
    import io

    from pypdf import PdfReader

    chain.advance_to("monitoring:1:check_in")
    chain.set_org_result("SEK-B", "ISTIMEWA")
    _rate_team(chain, {STAFF_B[1]: ("above", "above")})
    ev = chain.evaluation_of(STAFF_B[1])
    draft = chain.get(f"/evaluations/{ev['id']}/document.pdf", chain.as_(STAFF_B[1]))
    assert draft.status_code == 200 and draft.data.startswith(b"%PDF")
    assert "DRAF" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(draft.data)).pages)
    for who, action in ((KASI_B, "sign"), (STAFF_B[1], "acknowledge"), (HEAD, "countersign")):
        assert chain.post(f"/evaluations/{ev['id']}/{action}", chain.as_(who)).status_code == 200
    signed = chain.get(f"/evaluations/{ev['id']}", chain.hr).get_json()
    pdf = chain.get(f"/evaluations/{ev['id']}/document.pdf", chain.as_(STAFF_B[1]))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert signed["content_hash"] in text.replace("\n", "") and STAFF_B[1] in text and "Sangat Baik" in text
    assert "belum ditandatangani" not in text  # all three signatures carry their dates
    problem(chain.get(f"/evaluations/{ev['id']}/document.pdf", chain.as_(STAFF_A[0])), 404)


def test_the_objection_window_runs_on_jakarta_dates_not_utc_ones(chain, clock):
    """Acknowledged at 05:00 WIB (still the day before in UTC) and objecting at 06:30 WIB on the
    15th day (23:30 UTC on the 14th): the window is the employee's 14 local days."""
    from zoneinfo import ZoneInfo

    wib = ZoneInfo("Asia/Jakarta")
    chain.advance_to("monitoring:1:check_in")
    chain.set_org_result("SEK-B", "ISTIMEWA")
    _rate_team(chain, {STAFF_B[0]: ("meets", "meets"), STAFF_B[1]: ("meets", "meets")})
    day = (clock.now + timedelta(days=2)).astimezone(wib).date()
    clock.set(datetime(day.year, day.month, day.day, 5, 0, tzinfo=wib))  # 22:00 UTC the day before
    evs = {n: chain.evaluation_of(n) for n in STAFF_B[:2]}
    for n, ev in evs.items():
        assert chain.post(f"/evaluations/{ev['id']}/sign", chain.as_(KASI_B)).status_code == 200
        assert chain.post(f"/evaluations/{ev['id']}/acknowledge", chain.as_(n)).status_code == 200
    last = day + timedelta(days=14)
    clock.set(datetime(last.year, last.month, last.day, 10, 0, tzinfo=wib))  # the 14th day, 03:00 UTC
    r = chain.post(
        f"/evaluations/{evs[STAFF_B[0]]['id']}/objections",
        chain.as_(STAFF_B[0]),
        {"reasons": "Bukti kegiatan bulan Maret belum dipertimbangkan."},
    )
    assert r.status_code == 201, r.get_json()
    clock.set(datetime(last.year, last.month, last.day, 23, 30, tzinfo=timezone.utc))  # 06:30 WIB, day 15
    body = problem(
        chain.post(
            f"/evaluations/{evs[STAFF_B[1]]['id']}/objections",
            chain.as_(STAFF_B[1]),
            {"reasons": "Terlambat satu hari menurut waktu Jakarta."},
        ),
        409,
        "objection.window_closed",
    )
    assert body["closed_on"] == last.isoformat()
