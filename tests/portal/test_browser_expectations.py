"""In a real browser: the penilai writes the ekspektasi khusus pimpinan of one subordinate (an error
beside its field first), approval waits for all seven, the employee reads them on the SKP; the head
writes the same expectations for two kasi at once (choose, confirm naming both, one result per
person); the page on a phone."""

from __future__ import annotations

import pytest

from tests.plans.support import HEAD, KASI_A, KASI_B, STAFF_A, iki, rhk
from tests.portal.browser import login, screenshot
from tests.portal.test_employee import BERAKHLAK

pytestmark = pytest.mark.browser

TEXT = "Menyerahkan laporan bulanan paling lambat tanggal 5 setiap bulan."


def draft(org, nip, parent) -> dict:
    return org.create_plan(
        nip,
        [rhk("Tersusunnya laporan bulanan", parent=parent["rhk"][0]["id"], ikis=[iki("kuantitas", 12, "laporan")])],
        behaviour={},
    )


def sign_out(page) -> None:
    page.get_by_role("button", name="Keluar").click()
    page.wait_for_load_state()


def test_the_penilai_writes_them_approves_and_the_employee_reads_them(live, page):
    org = live.org
    ka = org.cascade(org.head_plan(), KASI_A, approver=HEAD)
    plan = draft(org, STAFF_A[0], ka)
    assert org.submit(plan["id"], STAFF_A[0]).status_code == 200  # submitted without them: not hers to write
    live.settle()
    login(page, live.url, KASI_A)
    page.goto(f"{live.url}/tim")
    page.locator(".waiting").get_by_role("link", name="Rina Wati").click()
    assert "setelah Anda menulis ekspektasi khusus pimpinan untuk" in page.locator("#exp-missing").inner_text()
    page.get_by_role("link", name="Tulis ekspektasi khusus pimpinan").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Ekspektasi khusus pimpinan untuk Rina Wati"
    for v in BERAKHLAK:
        page.fill(f"#f-behaviour-{v}", f"{TEXT} ({v})")
    page.fill("#f-behaviour-loyal", "Setia")
    page.get_by_role("button", name="Simpan ekspektasi").click()
    page.wait_for_load_state()
    assert page.locator("#e-behaviour-loyal").inner_text().startswith("Terlalu singkat")
    assert page.locator("#f-behaviour-loyal").get_attribute("aria-invalid") == "true"
    assert page.locator("#f-behaviour-akuntabel").input_value() == f"{TEXT} (akuntabel)"  # nothing typed is lost
    assert org.plan(plan["id"])["behaviour"] == {}
    screenshot(page, "expectations-1-error-beside-the-field")
    page.fill("#f-behaviour-loyal", "Menjaga kerahasiaan data perencanaan dan nama baik puskesmas.")
    page.get_by_role("button", name="Simpan ekspektasi").click()
    page.wait_for_load_state()
    assert page.get_by_text("Ekspektasi khusus pimpinan untuk Rina Wati disimpan.").is_visible()
    assert page.locator("#exp-missing").count() == 0
    page.get_by_role("button", name="Setujui SKP").click()
    page.wait_for_load_state()
    assert page.get_by_text("SKP Rina Wati disetujui.").is_visible()
    assert org.plan(plan["id"])["behaviour_by_penilai"] == list(BERAKHLAK)
    sign_out(page)
    login(page, live.url, STAFF_A[0])
    page.goto(f"{live.url}/skp/{plan['id']}")
    table = page.locator("#expectations")
    assert "Menjaga kerahasiaan data perencanaan" in table.inner_text()
    assert f"{TEXT} (kolaboratif)" in table.inner_text() and "Belum ditulis oleh atasan" not in table.inner_text()
    screenshot(page, "expectations-2-employee-reads-them")


def test_the_head_writes_for_two_kasi_at_once(live, page):
    org = live.org
    hp = org.head_plan()
    draft(org, KASI_A, hp)
    draft(org, KASI_B, hp)
    live.settle()
    login(page, live.url, HEAD)
    page.goto(f"{live.url}/tim")
    page.get_by_role("link", name="Tulis ekspektasi khusus pimpinan untuk beberapa pegawai").click()
    rows = page.locator("#expectation-people tbody tr")
    assert rows.count() == 2 and "0 dari 7 nilai" in rows.nth(0).inner_text()
    page.fill("#f-behaviour-kolaboratif", "Memimpin rapat koordinasi lintas seksi setiap bulan.")
    page.fill("#f-behaviour-akuntabel", TEXT)
    page.get_by_label("Siti Aminah").check()
    page.get_by_label("Agus Salim").check()
    screenshot(page, "expectations-3-bulk-choose")
    page.get_by_role("button", name="Lanjut ke konfirmasi").click()
    page.wait_for_load_state()
    listed = page.locator("#confirm-list").inner_text()
    assert "Siti Aminah" in listed and "Agus Salim" in listed
    assert "tidak diubah" in page.locator("#confirm-texts").inner_text()
    screenshot(page, "expectations-4-bulk-confirm")
    page.get_by_role("button", name="Tulis pada 2 SKP").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text() == "2 berhasil, 0 ditolak."
    assert page.locator("#bulk-results tr.ok").count() == 2
    screenshot(page, "expectations-5-bulk-result")
    page.get_by_role("link", name="Kembali ke daftar bawahan").click()
    assert page.locator("#expectation-people").get_by_text("2 dari 7 nilai").count() == 2


def test_the_page_on_a_phone(live, phone):
    org = live.org
    plan = draft(org, STAFF_A[0], org.cascade(org.head_plan(), KASI_A, approver=HEAD))
    live.settle()
    login(phone, live.url, KASI_A)
    phone.goto(f"{live.url}/tim/skp/{plan['id']}/ekspektasi")
    phone.fill("#f-behaviour-adaptif", "x" * 2001)
    phone.get_by_role("button", name="Simpan ekspektasi").click()
    phone.wait_for_load_state()
    assert phone.locator("#e-behaviour-adaptif").inner_text() == "Terlalu panjang: 2001 karakter, paling banyak 2000."
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.locator("#e-behaviour-adaptif").scroll_into_view_if_needed()
    screenshot(phone, "expectations-6-phone")
