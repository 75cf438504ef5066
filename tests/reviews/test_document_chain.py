"""The evaluation document through the sign-off chain (issue 15, bug 7): the PDF of a version is the
same bytes on every download; acknowledging and countersigning each append a version whose hash
covers that step with its time and the version before; and a PDF someone was handed can be checked
against the stored versions (``POST /evaluations/documents:verify``): a downloaded one is authentic,
a changed one is not."""

from __future__ import annotations

import io
import os
import time
from datetime import datetime

from services.reviews import domain
from tests.plans.support import HEAD, KASI_B, STAFF_B, problem
from tests.reviews.support import RAPI

EMPLOYEE = STAFF_B[1]


def _rated(chain) -> dict:
    chain.advance_to("monitoring:1:check_in")
    chain.set_org_result("SEK-B", "ISTIMEWA")
    chain.advance_to("monitoring:1:supervisor_evaluation")
    ev = chain.evaluation_of(EMPLOYEE)
    r = chain.rate(ev, KASI_B, "above", "above", deviation_reason="Penilaian berdasarkan bukti dukung.")
    assert r.status_code == 200, r.get_json()
    return ev


def _pdf(chain, ev: dict, lang: str = "id") -> bytes:
    r = chain.get(f"/evaluations/{ev['id']}/document.pdf", {**chain.as_(EMPLOYEE), "Accept-Language": lang})
    assert r.status_code == 200 and r.data.startswith(b"%PDF"), r.status_code
    return r.data


def _verify(chain, pdf: bytes, headers: dict):
    data = {"file": (io.BytesIO(pdf), "penilaian.pdf", "application/pdf")}
    return chain.org.client.post(
        f"{RAPI}/evaluations/documents:verify", headers=headers, data=data, content_type="multipart/form-data"
    )


def _act(chain, ev: dict, who: str, action: str, clock) -> None:
    clock.advance(hours=5)  # each step at a time of its own
    r = chain.post(f"/evaluations/{ev['id']}/{action}", chain.as_(who))
    assert r.status_code == 200, r.get_json()


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_the_same_version_downloads_as_the_same_bytes(chain, clock):
    ev = _rated(chain)
    draft = _pdf(chain, ev)
    _act(chain, ev, KASI_B, "sign", clock)
    first, first_en = _pdf(chain, ev), _pdf(chain, ev, "en")
    time.sleep(1.1)  # fpdf2 stamps the wall clock to the second unless the document gives the time
    assert _pdf(chain, ev) == first
    assert _pdf(chain, ev, "en") == first_en and first_en != first
    assert draft != first
    _act(chain, ev, EMPLOYEE, "acknowledge", clock)
    assert _pdf(chain, ev) != first  # a new version (the receipt) is a new document


def test_each_step_appends_a_version_whose_hash_covers_the_whole_chain(chain, clock):
    ev = _rated(chain)
    for who, action in ((KASI_B, "sign"), (EMPLOYEE, "acknowledge"), (HEAD, "countersign")):
        _act(chain, ev, who, action, clock)
    current = chain.get(f"/evaluations/{ev['id']}", chain.hr).get_json()
    docs = chain.get(f"/evaluations/{ev['id']}/documents", chain.as_(EMPLOYEE)).get_json()
    assert [(d["version"], d["reason"]) for d in docs] == [(1, "signed"), (2, "acknowledged"), (3, "countersigned")]
    assert [d["previous_hash"] for d in docs] == [None, docs[0]["content_hash"], docs[1]["content_hash"]]
    latest = docs[-1]
    assert current["content_hash"] == latest["content_hash"] and current["document_version"] == 3
    sig = latest["content"]["signatures"]
    for step, field in (
        ("penilai", "signed_at"),
        ("employee", "acknowledged_at"),
        ("atasan_penilai", "countersigned_at"),
    ):
        assert _at(sig[step]) == _at(current[field]), step
    assert len({sig["penilai"], sig["employee"], sig["atasan_penilai"]}) == 3
    # the hash is over the whole content: each step's time and the link to the version before
    content = latest["content"]
    assert latest["content_hash"] == domain.content_hash(content)
    assert content["previous_hash"] == docs[1]["content_hash"]
    for step in sig:
        forged = {**content, "signatures": {**sig, step: "2020-01-01T00:00:00+00:00"}}
        assert domain.content_hash(forged) != latest["content_hash"], step
    assert domain.content_hash({**content, "previous_hash": "0" * 64}) != latest["content_hash"]
    # what the penilai signed stays as signed: the later versions add only their step
    strip = ("signatures", "previous_hash")
    assert [{k: v for k, v in d["content"].items() if k not in strip} for d in docs[1:]] == [
        {k: v for k, v in docs[0]["content"].items() if k not in strip}
    ] * 2
    assert docs[0]["content"]["signatures"]["employee"] is None
    assert docs[1]["content"]["signatures"]["employee"] == sig["employee"]
    assert docs[1]["content"]["signatures"]["atasan_penilai"] is None


def test_verify_says_which_version_a_pdf_is_and_refuses_a_changed_one(chain, clock):
    ev = _rated(chain)
    draft = _pdf(chain, ev)
    _act(chain, ev, KASI_B, "sign", clock)
    signed = _pdf(chain, ev)
    for who, action in ((EMPLOYEE, "acknowledge"), (HEAD, "countersign")):
        _act(chain, ev, who, action, clock)
    final, final_en = _pdf(chain, ev), _pdf(chain, ev, "en")
    latest = chain.get(f"/evaluations/{ev['id']}", chain.hr).get_json()

    r = _verify(chain, final, chain.as_(EMPLOYEE))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["verdict"], body["matched"], body["evaluation_id"], body["version"]) == (
        "authentic",
        True,
        ev["id"],
        3,
    )
    assert body["reason"] == "countersigned" and body["is_latest"] is True and body["lang"] == "id"
    assert body["content_hash"] == latest["content_hash"] and body["employee_nip"] == EMPLOYEE
    assert _at(body["signatures"]["employee"]) == _at(latest["acknowledged_at"])
    assert _at(body["signatures"]["atasan_penilai"]) == _at(latest["countersigned_at"])
    # HR of the agency, a colleague handed the printout: the same verdict; English too
    assert _verify(chain, final_en, chain.hr).get_json()["verdict"] == "authentic"
    assert _verify(chain, final, chain.as_(STAFF_B[0])).get_json()["verdict"] == "authentic"
    # an older version is genuine but superseded
    old = _verify(chain, signed, chain.hr).get_json()
    assert (old["verdict"], old["version"], old["reason"], old["is_latest"]) == ("authentic", 1, "signed", False)
    assert (old["latest_version"], old["latest_reason"]) == (3, "countersigned")
    # one byte changed anywhere: not the stored document
    for changed in (
        final.replace(b"Kinerja reviews service", b"Kinerja reviews servicf"),
        final[:-20] + bytes([final[-20] ^ 1]) + final[-19:],
        final + b"\n% appended\n",
    ):
        assert changed != final
        body = _verify(chain, changed, chain.as_(EMPLOYEE)).get_json()
        assert (body["verdict"], body["matched"], body["evaluation_id"]) == ("altered", False, ev["id"]), body
    # a draft, a PDF from elsewhere, another agency's HR: unknown, with nothing about the evaluation
    for pdf, headers in ((draft, chain.hr), (b"%PDF-1.7\n%%EOF\n", chain.hr), (final, chain.org.other_hr)):
        body = _verify(chain, pdf, headers).get_json()
        assert body["verdict"] == "unknown" and body["matched"] is False and body.get("evaluation_id") is None
    problem(_verify(chain, b"not a pdf at all", chain.hr), 422, "validation")
    r = chain.org.client.post(f"{RAPI}/evaluations/documents:verify", headers=chain.hr, data={})
    assert r.status_code == 422


def test_rendering_takes_its_dates_from_the_document_not_the_clock_or_the_host_zone():
    from datetime import timezone

    from services.reviews.document_pdf import render_pdf
    from tests.reviews.test_document import rich_content

    content = rich_content()
    digest = domain.content_hash(content)
    aware = datetime(2025, 7, 9, 2, 0, 0, 123456, tzinfo=timezone.utc)
    first = render_pdf(content, digest, 3, created_at=aware)
    assert b"/CreationDate (D:20250709020000Z)" in first
    assert f"kinerja-evaluation=41 version=3 lang=id sha256={digest}".encode() in first
    zone = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Jakarta"  # SQLite gives the time back naive: it is UTC on every host
    time.tzset()
    try:
        assert render_pdf(content, digest, 3, created_at=aware.replace(tzinfo=None)) == first
    finally:
        if zone is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = zone
        time.tzset()
    assert render_pdf(content, digest, 3, created_at=aware.replace(hour=3)) != first
    # without a stored time: the latest signature in the content, never the wall clock
    assert b"/CreationDate (D:20250705030000Z)" in render_pdf(content, digest, 3)
