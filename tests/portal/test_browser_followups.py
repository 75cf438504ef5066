"""In a real browser: HR opens a development plan from the follow-up list, is told beside the field
that a completion needs what was done, writes it and marks the plan completed; the list shows it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.plans.support import HEAD, KASI_B, STAFF_B
from tests.portal.browser import login, screenshot
from tests.portal.test_hr import annual_curve_broken

pytestmark = pytest.mark.browser
NOTE = "Mengikuti pelatihan pelayanan prima 3 hari dan 4 sesi bimbingan dengan atasan; keluhan layanan turun."


def test_hr_marks_a_development_plan_completed(live, page):
    ch = annual_curve_broken(live, wait=live.settle)
    ch.advance_to("sign_off")
    ev = ch.evaluation_of(STAFF_B[2], period_seq=0)
    for action, who in (("sign", KASI_B), ("acknowledge", STAFF_B[2]), ("countersign", HEAD)):
        r = ch.post(f"/evaluations/{ev['id']}/{action}", ch.as_(who))
        assert r.status_code == 200, (action, r.get_json())
    live.settle()
    login(page, live.url, "hr:PKMB")
    page.goto(f"{live.url}/hr/tindak-lanjut")
    row = page.locator("tr", has=page.get_by_role("rowheader", name="Eko Saputra"))
    expect(row.get_by_text("Direncanakan")).to_be_visible()
    row.get_by_role("link", name="Perbarui").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Tindak lanjut: Eko Saputra"
    page.get_by_label("Status").select_option("completed")
    page.get_by_role("button", name="Simpan").click()
    note = page.get_by_label("Catatan penyelesaian")
    expect(page.locator("#e-completion_note")).to_contain_text("Tuliskan apa yang sudah dilakukan")
    assert note.get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Status").input_value() == "completed"  # what I chose stays
    screenshot(page, "hr-followup-note-missing")
    note.fill(NOTE)
    page.get_by_role("button", name="Simpan").click()
    expect(page.get_by_text("Tindak lanjut disimpan.")).to_be_visible()
    expect(page.get_by_text("Tindak lanjut ini sudah Selesai dan tidak dapat diubah lagi.")).to_be_visible()
    expect(page.get_by_text(NOTE)).to_be_visible()
    screenshot(page, "hr-followup-completed")
    page.get_by_role("link", name="Tindak lanjut", exact=True).first.click()
    row = page.locator("tr", has=page.get_by_role("rowheader", name="Eko Saputra"))
    expect(row.get_by_text("Selesai")).to_be_visible()
