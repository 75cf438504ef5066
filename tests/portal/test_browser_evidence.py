"""In a real browser: a supervisor verifies evidence — from the team dashboard to the subordinate's
progress page, opens the file (streamed through the portal), asks for another file (the empty note
refused beside the field first); the employee finds the status, the note and a message in the inbox;
at the annual evaluation the penilai accepts the replacement from the rating page."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect

from tests.plans.support import API, KASI_A, STAFF_A
from tests.portal.browser import login, screenshot
from tests.portal.test_evaluations import Team

pytestmark = pytest.mark.browser

E = STAFF_A[0]
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _upload(org, plan: dict, period_seq: int, filename: str, value: float) -> dict:
    iki_id = plan["rhk"][0]["iki"][0]["id"]
    rec = org.post(
        f"/plans/{plan['id']}/realisations", org.as_(E), {"iki_id": iki_id, "period_seq": period_seq, "value": value}
    )
    r = org.client.post(
        f"{API}/plans/{plan['id']}/realisations/{rec.get_json()['id']}/evidence",
        headers=org.as_(E),
        data={"file": (io.BytesIO(PDF), filename, "application/pdf")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_a_supervisor_verifies_evidence(live, page):
    team = Team(live).approve_all_plans()
    team.advance_to("monitoring:1:check_in")
    plan = team.plans[E]
    ev = _upload(live.org, plan, 1, "laporan-januari.pdf", 2)
    team.sync()

    login(page, live.url, KASI_A)
    page.goto(f"{live.url}/tim")
    page.locator("tr", has_text="Rina Wati").get_by_role("link", name="Bukti dukung").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Progres dan bukti dukung Rina Wati")
    item = page.locator(f"#bukti-{ev['id']}")
    expect(item.locator(".badge")).to_have_text("Menunggu diperiksa")
    with page.expect_download() as download:  # the file itself, through the portal with kasi A's token
        item.get_by_role("link", name="laporan-januari.pdf").click()
    assert download.value.suggested_filename == "laporan-januari.pdf"
    item.locator("summary", has_text="Minta bukti lain").click()
    item.get_by_role("button", name="Kirim permintaan").click()  # no note: refused beside the field
    expect(page.locator(f"#e-note-{ev['id']}")).to_have_text("Catatan wajib diisi saat meminta bukti lain.")
    page.fill(f"#f-note-{ev['id']}", "Lampirkan laporan yang sudah ditandatangani kepala seksi.")
    page.locator(f"#bukti-{ev['id']}").get_by_role("button", name="Kirim permintaan").click()
    expect(page.locator(".flash.ok")).to_contain_text("Permintaan bukti pengganti untuk laporan-januari.pdf")
    expect(page.locator(f"#bukti-{ev['id']} .badge")).to_have_text("Perlu diganti")
    screenshot(page, "evidence-supervisor-asks-for-another")

    team.sync()
    page.context.clear_cookies()
    login(page, live.url, E)
    page.goto(f"{live.url}/skp/{plan['id']}/realisasi?period_seq=1")
    mine = page.locator(f"#bukti-{ev['id']}")
    expect(mine.locator(".badge")).to_have_text("Perlu diganti")
    expect(mine).to_contain_text("Lampirkan laporan yang sudah ditandatangani kepala seksi.")
    screenshot(page, "evidence-employee-sees-the-note")
    page.goto(f"{live.url}/inbox")
    expect(page.locator("main")).to_contain_text("Bukti dukung laporan-januari.pdf perlu diganti")

    team.advance_to("annual_evaluation")
    again = _upload(live.org, plan, 4, "laporan-bertanda-tangan.pdf", 5)
    team.sync()
    evaluation = team.evaluation(E)
    page.context.clear_cookies()
    login(page, live.url, KASI_A)
    page.goto(f"{live.url}/evaluasi/{evaluation['id']}/nilai")
    item = page.locator(f"#bukti-{again['id']}")
    expect(item.get_by_role("link", name="laporan-bertanda-tangan.pdf")).to_be_visible()
    item.get_by_role("button", name="Terima").click()
    expect(page.locator(".flash.ok")).to_contain_text("Bukti laporan-bertanda-tangan.pdf diterima")
    expect(page).to_have_url(f"{live.url}/evaluasi/{evaluation['id']}/nilai#bukti-{again['id']}")
    expect(page.locator(f"#bukti-{again['id']} .badge")).to_have_text("Diterima")
    page.locator(f"#bukti-{again['id']}").scroll_into_view_if_needed()
    screenshot(page, "evidence-accepted-on-the-rating-page")
