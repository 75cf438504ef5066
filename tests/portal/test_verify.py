"""The page that checks an evaluation PDF (``/evaluasi/verifikasi``, issue 15 bug 7): a person
uploads the PDF they were handed and sees whether it is exactly the stored document, which
version and step of the sign-off chain, or that it was altered; a missing or non-PDF file is
refused beside the field; both languages."""

from __future__ import annotations

import io

import pytest

from tests.plans.support import HEAD, STAFF_A
from tests.portal.support import text
from tests.portal.test_evaluations import Team, plain


@pytest.fixture
def countersigned(stack) -> tuple[Team, dict]:
    team = Team(stack).to_annual()
    team.signed(STAFF_A[0])
    team.act(STAFF_A[0], "acknowledge", STAFF_A[0])
    team.act(STAFF_A[0], "countersign", HEAD)
    return team, team.evaluation(STAFF_A[0])


def _upload(browser, pdf: bytes | None, name: str = "penilaian.pdf", path: str = "/evaluasi/verifikasi"):
    data = {} if pdf is None else {"file": (io.BytesIO(pdf), name, "application/pdf")}
    return browser.post(path, data, content_type="multipart/form-data")


def test_a_downloaded_pdf_is_authentic_and_a_changed_one_is_not(countersigned):
    team, ev = countersigned
    emp = team.stack.browser()
    emp.login(STAFF_A[0])
    detail = plain(emp.get(f"/evaluasi/{ev['id']}"))
    assert "Diterima pegawai" in detail and "Disahkan atasan pejabat penilai" in detail  # the versions' steps
    assert "Verifikasi dokumen evaluasi (PDF)" in detail
    pdf = emp.get(f"/evaluasi/{ev['id']}/dokumen.pdf").data
    assert pdf.startswith(b"%PDF")
    # a colleague who was handed the file checks it
    colleague = team.stack.browser()
    colleague.login(STAFF_A[1])
    form = colleague.get("/evaluasi/verifikasi")
    assert form.status_code == 200 and 'type="file"' in text(form) and 'enctype="multipart/form-data"' in text(form)
    resp = _upload(colleague, pdf)
    assert resp.status_code == 200
    page = plain(resp)
    assert "Asli: berkas ini persis dokumen evaluasi yang tersimpan." in page
    assert "Versi 3 — Disahkan atasan pejabat penilai" in page and "Ini versi terbaru dokumen." in page
    assert ev["content_hash"] in page and STAFF_A[0] in page and ev["employee_name"] in page
    # one byte changed: refused, and nothing says it is genuine
    changed = pdf.replace(b"Kinerja reviews service", b"Kinerja reviews servicf")
    page = plain(_upload(colleague, changed))
    assert "Tidak cocok" in page and "Asli:" not in page
    # English
    page = plain(_upload(colleague, pdf, path="/evaluasi/verifikasi?lang=en"))
    assert "Authentic: this file is exactly the stored evaluation document." in page
    assert "Version 3 — Countersigned by the atasan penilai" in page


def test_no_file_or_not_a_pdf_is_refused_beside_the_field(countersigned):
    team, _ = countersigned
    hr = team.stack.browser()
    hr.login("hr:PKMB")
    resp = _upload(hr, None)
    assert resp.status_code == 422 and 'id="e-file"' in text(resp) and "Pilih berkas PDF." in plain(resp)
    resp = _upload(hr, b"GIF89a not a pdf", name="foto.gif")
    assert resp.status_code == 422 and "Berkas ini bukan PDF." in plain(resp)
    resp = _upload(hr, b"%PDF-1.7\n%%EOF\n", name="lain.pdf")
    assert resp.status_code == 200 and "Tidak dikenal" in plain(resp)
