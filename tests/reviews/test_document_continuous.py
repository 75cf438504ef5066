"""The evaluation document lists the period's continuous feedback and coaching records (issue 15:
"reviews stores the feedback but never shows it on ... the evaluation document"): each with its
date, kind and what it was about, the period's only, inside the hashed content and in the PDF."""

from __future__ import annotations

from tests.plans.support import KASI_A, STAFF_A
from tests.reviews.test_document import pdf_text


def _give(chain, body: dict) -> dict:
    plan = chain.plans[STAFF_A[0]]
    r = chain.org.post(f"/plans/{plan['id']}/feedback", chain.as_(KASI_A), body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_the_signed_document_lists_the_periods_feedback_and_coaching(chain):
    chain.advance_to("monitoring:1:check_in")
    assert chain.set_org_result("SEK-A", "ISTIMEWA").status_code == 200
    rhk_id = chain.plans[STAFF_A[0]]["rhk"][0]["id"]
    _give(chain, {"rhk_id": rhk_id, "period_seq": 1, "text": "Laporan Januari rapi; lampirkan notulen rapat."})
    _give(chain, {"value_code": "kolaboratif", "kind": "coaching", "text": "Bimbingan: berbagi data dengan seksi B."})
    _give(chain, {"value_code": "adaptif", "period_seq": 2, "text": "Untuk triwulan II: uji aplikasi baru."})
    chain.pump()
    chain.advance_to("monitoring:1:supervisor_evaluation")
    ev = chain.evaluation_of(STAFF_A[0])
    r = chain.rate(ev, KASI_A, "meets", "meets", deviation_reason="Sesuai bukti dukung.")
    assert r.status_code == 200, r.get_json()
    signed = chain.post(f"/evaluations/{ev['id']}/sign", chain.as_(KASI_A))
    assert signed.status_code == 200, signed.get_json()
    doc = chain.get(f"/evaluations/{ev['id']}/documents", chain.as_(STAFF_A[0])).get_json()[0]
    items = doc["content"]["continuous"]
    assert [(i["kind"], i["value"], i["text"][:12]) for i in items] == [
        ("feedback", None, "Laporan Janu"),
        ("coaching", "kolaboratif", "Bimbingan: b"),
    ]  # the triwulan II note belongs to the next period's document
    assert items[0]["rhk"] == chain.plans[STAFF_A[0]]["rhk"][0]["description"] and items[0]["date"] == "2026-01-05"
    text = " ".join(pdf_text(chain.get(f"/evaluations/{ev['id']}/document.pdf", chain.as_(STAFF_A[0])).data).split())
    assert "UMPAN BALIK BERKELANJUTAN DAN BIMBINGAN KINERJA" in text
    assert "Bimbingan kinerja - Perilaku: Kolaboratif" in text and "berbagi data dengan seksi B." in text
    assert "uji aplikasi baru" not in text
