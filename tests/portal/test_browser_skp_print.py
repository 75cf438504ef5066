"""In a real browser (issue 15, Deliver 8): an employee prints the SKP — opens My SKP, the approved
plan, presses "Cetak SKP (PDF)" and gets the PDF of the form offices sign, the same bytes the plans
service gives for that version. The first page of the PDF is rendered beside the screenshot when
pdftoppm is installed."""

from __future__ import annotations

import io
import shutil
import subprocess

import pypdf
import pytest

from tests.plans.support import API, HEAD, KASI_A, STAFF_A
from tests.portal.browser import ARTIFACTS, login, screenshot

pytestmark = pytest.mark.browser


def test_an_employee_prints_the_skp(live, page):
    org = live.org
    kasi = org.cascade(org.head_plan(), KASI_A, approver=HEAD)
    plan = org.cascade(kasi, STAFF_A[0], approver=KASI_A)
    login(page, live.url, STAFF_A[0])
    page.get_by_role("link", name="SKP Saya").first.click()
    page.get_by_role("link", name="Buka SKP").first.click()
    page.wait_for_load_state()
    link = page.get_by_role("link", name="Cetak SKP (PDF)")
    assert link.is_visible()
    with page.expect_download() as pressed:
        link.click()
    download = pressed.value
    data = open(download.path(), "rb").read()
    assert data.startswith(b"%PDF") and download.suggested_filename == f"skp-{plan['id']}-v1.pdf"
    words = " ".join(" ".join((p.extract_text() or "").split()) for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    assert "SASARAN KINERJA PEGAWAI" in words and "Rina Wati" in words and "Siti Aminah" in words
    assert kasi["rhk"][0]["description"][:30] in words and "Disetujui pada" in words and "LAMPIRAN" in words
    direct = org.client.get(f"{API}/plans/{plan['id']}/skp.pdf", headers=org.as_(STAFF_A[0]))
    assert data == direct.data  # the portal streams the service's file unchanged
    screenshot(page, "skp-print-1-plan-page")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "skp-print-2-skp.pdf").write_bytes(data)
    if shutil.which("pdftoppm"):
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "70",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                "-",
                str(ARTIFACTS / "skp-print-2-page1"),
            ],
            input=data,
            check=True,
            timeout=30,
        )
