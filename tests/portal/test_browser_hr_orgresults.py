"""In a real browser (issue 15 journey): HR sets a unit's organisation result, then, from the
calibration page, adjusts a rating with a reason and sees it before and after."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.plans.support import STAFF_A
from tests.portal.browser import login, screenshot
from tests.portal.test_hr import annual_curve_broken

pytestmark = pytest.mark.browser
R = "/reviews/api/v1"


def test_hr_sets_an_organisation_result_and_adjusts_a_rating(live, page):
    ch = annual_curve_broken(live, wait=live.settle)
    cid = live.org.cycle_id
    ev = ch.evaluation_of(STAFF_A[0], period_seq=0)
    login(page, live.url, "hr:PKMB")
    page.get_by_role("navigation").get_by_role("link", name="Kalibrasi", exact=True).click()
    page.select_option("#f-period_seq", "0")
    page.get_by_role("button", name="Tampilkan").click()

    # the organisation results per unit: DINAS has none yet; a choice left empty is refused beside it
    page.get_by_role("link", name="Capaian kinerja organisasi per unit").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Capaian kinerja organisasi per unit"
    row = page.locator("#unit-DINAS")
    expect(row.get_by_text("belum ditetapkan")).to_be_visible()
    row.get_by_role("button", name="Simpan").click()
    row = page.locator("#unit-DINAS")
    expect(row.locator("#e-result-DINAS")).to_have_text(
        "Pilih salah satu capaian: Istimewa, Baik, Butuh Perbaikan, Kurang atau Sangat Kurang."
    )
    row.get_by_label("Capaian organisasi DINAS").select_option("ISTIMEWA")
    row.get_by_role("button", name="Simpan").click()
    expect(page.get_by_text("Capaian organisasi unit DINAS ditetapkan: Istimewa.")).to_be_visible()
    expect(page.locator("#unit-DINAS strong.org-result")).to_have_text("Istimewa")
    listed = live.org.client.get(f"{R}/org-results?cycle_id={cid}", headers=live.org.hr).get_json()
    assert ("DINAS", 0, "ISTIMEWA") in [(o["unit_code"], o["period_seq"], o["result"]) for o in listed]
    screenshot(page, "hr-org-results")

    # the distribution rules, a table edited cell by cell: a percentage over 100 is named in its cell
    page.get_by_role("link", name="Aturan kurva distribusi").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Aturan kurva distribusi"
    page.locator("#f-percent-0").fill("150")
    page.get_by_role("button", name="Simpan aturan").click()
    expect(page.locator("#e-percent-0")).to_have_text("Isi persen dengan angka 0–100.")
    assert page.locator("#f-percent-0").get_attribute("aria-invalid") == "true"
    screenshot(page, "hr-distribution-rules")
    page.go_back()

    # back to calibration, SEK-A's ratings: 4 × Baik breaks "at most 70 % Baik"
    page.get_by_role("link", name="Kembali ke kalibrasi").click()
    page.locator("#unit-SEK-A").get_by_role("link", name="Penilaian unit ini dan penyesuaiannya").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Penilaian unit Seksi Perencanaan")
    expect(page.get_by_text("Baik: paling banyak 70 % (3 orang), tercatat 4 dari 4 orang.")).to_be_visible()
    card = page.locator(f"#ev-{ev['id']}")
    card.get_by_label("Rating hasil kerja").select_option("above")
    card.get_by_role("button", name="Simpan penyesuaian").click()  # no reason: refused beside the field
    card = page.locator(f"#ev-{ev['id']}")
    expect(card.locator(f"#e-reason-{ev['id']}")).to_have_text("Tuliskan alasan penyesuaian (minimal 5 karakter).")
    assert card.get_by_label("Alasan penyesuaian").get_attribute("aria-invalid") == "true"
    assert card.get_by_label("Rating hasil kerja").input_value() == "above"  # what was chosen is kept
    reason = "Capaian melampaui target tahunan dengan bukti dukung."
    card.get_by_label("Rating perilaku kerja").select_option("above")
    card.get_by_label("Alasan penyesuaian").fill(reason)
    card.get_by_role("button", name="Simpan penyesuaian").click()
    expect(page.get_by_text("disesuaikan: Baik → Sangat Baik.")).to_be_visible()
    card = page.locator(f"#ev-{ev['id']}")
    expect(card.get_by_role("heading", name="Riwayat penyesuaian")).to_be_visible()
    expect(card.locator(".adjustment .before")).to_contain_text("Sebelum: Sesuai ekspektasi / Sesuai ekspektasi")
    expect(card.locator(".adjustment .after")).to_contain_text("Sesudah: Di atas ekspektasi / Di atas ekspektasi")
    expect(card.locator(".adjustment .reason")).to_have_text(f"Alasan: {reason}")
    expect(page.get_by_text("Baik: paling banyak 70 %")).to_have_count(0)  # that bound holds now
    got = live.org.client.get(f"{R}/evaluations/{ev['id']}", headers=live.org.hr).get_json()
    assert got["predikat"] == "SANGAT_BAIK"
    card.scroll_into_view_if_needed()
    screenshot(page, "hr-calibration-adjustment")
