"""A machine client of an agency (role ``agency``, no NIP) reads the calibration aggregate, the
organisation results and the distribution rules with the scope ``results:read`` (issue 16), never
a person's appraisal, whatever its scopes: evaluations (list,
detail, suggestion, documents, PDF), self-assessments, peer answers, objections (reasons,
statements, decisions) and follow-up plans all answer 403 problem+json (``auth.scope_missing``, no
scope opens them) naming nothing of them,
while HR of the same agency reads every one (issue 14, defect 4)."""

from __future__ import annotations

import pytest

from tests.plans.support import HEAD, KASI_B, STAFF_A, STAFF_B, problem

REASONS = "Bukti pengawasan lapangan bulan Maret belum dipertimbangkan."
STATEMENT = "Lampiran foto kegiatan tanggal 12 Maret."
DECISION = "Nilai tetap sesuai bukti dukung."
SECRETS = (
    REASONS,
    STATEMENT,
    DECISION,
    "Semua dokumen perencanaan",
    "Andi Pratama",
    "Maya Sari",
    STAFF_B[0],
    STAFF_B[1],
)


@pytest.fixture
def appraisal(chain):
    """Staff B[0]: self-assessed, peers answered, rated, signed, acknowledged, an objection with a
    statement and a decision. Staff B[1]: countersigned, so a follow-up (recognition) exists."""
    chain.advance_to("monitoring:1:check_in")
    assert chain.set_org_result("SEK-B", "ISTIMEWA").status_code == 200
    ev = chain.evaluation_of(STAFF_B[0])
    raters = [STAFF_B[1], STAFF_B[2], STAFF_A[0]]
    r = chain.post(f"/evaluations/{ev['id']}/peers", chain.as_(KASI_B), {"rater_nips": raters})
    assert r.status_code == 200, r.get_json()
    for nip in raters:
        r = chain.post(
            f"/evaluations/{ev['id']}/peer-feedback",
            chain.as_(nip),
            {"answers": {"kolaboratif": "above", "harmonis": "meets"}, "comment": "Rekan yang sigap."},
        )
        assert r.status_code == 201, r.get_json()
    chain.advance_to("monitoring:1:self_assessment")
    assert chain.self_assess(ev, STAFF_B[0]).status_code == 200
    chain.advance_to("monitoring:1:supervisor_evaluation")
    for nip, (hasil, perilaku) in {STAFF_B[0]: ("meets", "below"), STAFF_B[1]: ("above", "above")}.items():
        e = chain.evaluation_of(nip)
        why = "Penilaian berdasarkan bukti dukung."  # the peers' answers suggest a perilaku; this test is not about it
        r = chain.rate(e, KASI_B, hasil, perilaku, deviation_reason=why, perilaku_deviation_reason=why)
        assert r.status_code == 200, r.get_json()
    for who, action in ((KASI_B, "sign"), (STAFF_B[0], "acknowledge")):
        assert chain.post(f"/evaluations/{ev['id']}/{action}", chain.as_(who)).status_code == 200
    r = chain.post(f"/evaluations/{ev['id']}/objections", chain.as_(STAFF_B[0]), {"reasons": REASONS})
    assert r.status_code == 201, r.get_json()
    obj = r.get_json()
    r = chain.post(f"/objections/{obj['id']}/statements", chain.as_(STAFF_B[0]), {"text": STATEMENT})
    assert r.status_code == 201, r.get_json()
    r = chain.post(f"/objections/{obj['id']}/decide", chain.as_(HEAD), {"decision": "upheld", "reason": DECISION})
    assert r.status_code == 200, r.get_json()
    other = chain.evaluation_of(STAFF_B[1])
    for who, action in ((KASI_B, "sign"), (STAFF_B[1], "acknowledge"), (HEAD, "countersign")):
        assert chain.post(f"/evaluations/{other['id']}/{action}", chain.as_(who)).status_code == 200
    return {"ev": ev["id"], "obj": obj["id"], "nip": STAFF_B[0], "cycle": chain.org.cycle_id}


ALL_SCOPES = "directory:read plans:read results:read surveys:read surveys:responses:write webhooks:manage"
PERSON_LEVEL = [
    ("evaluations", "/evaluations"),
    ("evaluations of a person", "/evaluations?employee_nip={nip}"),
    ("evaluation with self-assessment", "/evaluations/{ev}"),
    ("rating suggestion", "/evaluations/{ev}/suggestion"),
    ("signed documents", "/evaluations/{ev}/documents"),
    ("document PDF", "/evaluations/{ev}/document.pdf"),
    ("peer answers", "/evaluations/{ev}/peer-feedback"),
    ("objections", "/objections"),
    ("objections of a cycle", "/objections?cycle_id={cycle}"),
    ("objection with reasons, statements, decision", "/objections/{obj}"),
    ("follow-up plans", "/followups"),
    ("follow-up plans of a cycle", "/followups?cycle_id={cycle}"),
]


def test_the_agency_role_reads_no_person_level_appraisal(chain, appraisal):
    client = chain.org.tokens.headers("agency", sub="bkd-sync", scope=ALL_SCOPES)  # a machine client of PKMB
    urls = {what: path.format(**appraisal) for what, path in PERSON_LEVEL}
    assert {w: chain.get(u, chain.hr).status_code for w, u in urls.items()} == dict.fromkeys(urls, 200)  # HR reads
    answers = {w: chain.get(u, client) for w, u in urls.items()}
    assert {w: r.status_code for w, r in answers.items()} == dict.fromkeys(urls, 403)
    for what, r in answers.items():
        body = problem(r, 403, "auth.scope_missing")  # no scope opens a person's appraisal (issue 16)
        assert body["scopes"] == [], (what, body)
        text = r.get_data(as_text=True)
        for secret in SECRETS:
            assert secret not in text, (what, secret)
        keys = {"type", "title", "status", "detail", "code", "instance", "request_id", "scopes", "required"}
        assert set(body) == keys, (what, body)
    # a machine client of another agency learns nothing either
    stranger = chain.org.tokens.headers("agency", agency="OTHER", sub="other-sync", scope=ALL_SCOPES)
    problem(chain.get(f"/evaluations/{appraisal['ev']}", stranger), 403, "auth.scope_missing")


def test_the_agency_role_reads_the_aggregates_with_results_read(chain, appraisal):
    client = chain.org.tokens.headers("agency", sub="bkd-sync", scope="results:read")
    cycle = appraisal["cycle"]
    r = chain.get(f"/calibration?cycle_id={cycle}&period_seq=1&unit_code=SEK-B", client)
    assert r.status_code == 200 and r.get_json()["units"][0]["headcount"] == 2, r.get_json()  # the two rated
    r = chain.get(f"/org-results?cycle_id={cycle}", client)
    assert r.status_code == 200 and [o["unit_code"] for o in r.get_json()] == ["SEK-B"]
    assert chain.get("/distribution-rules", client).status_code == 200
    # ... and HR's per-rater statistics stay HR's
    problem(chain.get(f"/rater-consistency?cycle_id={cycle}", client), 403, "auth.scope_missing")
    # without the scope, the aggregates are refused, naming it
    other = chain.org.tokens.headers("agency", sub="bkd-sync", scope="directory:read plans:read")
    body = problem(chain.get(f"/org-results?cycle_id={cycle}", other), 403, "auth.scope_missing")
    assert body["scopes"] == ["results:read"]
