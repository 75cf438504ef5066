"""In a real browser: HR is handed the countersigned evaluation PDF the employee downloaded, uploads it
on the verification page and sees that it is the stored document (version, step, signatures); the
same file with one byte changed is refused."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.plans.support import HEAD, STAFF_A
from tests.portal.browser import login, screenshot
from tests.portal.test_evaluations import Team

pytestmark = pytest.mark.browser


@pytest.fixture
def team(live) -> Team:
    return Team(live).to_annual()


def test_hr_verifies_a_downloaded_evaluation_pdf(live, team, page):
    team.signed(STAFF_A[0])
    team.act(STAFF_A[0], "acknowledge", STAFF_A[0])
    team.act(STAFF_A[0], "countersign", HEAD)
    ev = team.evaluation(STAFF_A[0])
    login(page, live.url, STAFF_A[0])
    pdf = page.request.get(f"{live.url}/evaluasi/{ev['id']}/dokumen.pdf").body()
    assert pdf.startswith(b"%PDF")
    page.context.clear_cookies()
    login(page, live.url, "hr:PKMB")
    page.get_by_role("link", name="Verifikasi dokumen evaluasi (PDF)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Verifikasi dokumen evaluasi")
    page.get_by_role("button", name="Verifikasi").click()  # nothing chosen
    expect(page.locator("#e-file")).to_have_text("Pilih berkas PDF.")
    page.locator("#f-file").set_input_files({"name": "penilaian.pdf", "mimeType": "application/pdf", "buffer": pdf})
    page.get_by_role("button", name="Verifikasi").click()
    result = page.locator("#hasil-verifikasi")
    expect(result.locator(".verdict")).to_contain_text("Asli")
    text = result.inner_text()
    assert "Versi 3" in text and "Disahkan atasan pejabat penilai" in text and ev["content_hash"] in text
    screenshot(page, "evaluations-verify-authentic")
    changed = pdf.replace(b"Kinerja reviews service", b"Kinerja reviews servicf")
    page.locator("#f-file").set_input_files({"name": "penilaian.pdf", "mimeType": "application/pdf", "buffer": changed})
    page.get_by_role("button", name="Verifikasi").click()
    expect(page.locator("#hasil-verifikasi .verdict")).to_contain_text("Tidak cocok")
    screenshot(page, "evaluations-verify-altered")
