"""In a real browser: HR imports a directory with one broken row, sees each wrong cell, fixes the
row in the page and imports it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.plans.support import NEW_B
from tests.portal.browser import login, screenshot
from tests.portal.test_hr_directory import BROKEN, FIXED, GOOD, HEADER

pytestmark = pytest.mark.browser


def test_hr_imports_a_directory_with_one_broken_row_then_fixes_it(live, page):
    before = live.org.count("/employees")
    login(page, live.url, "hr:PKMB")
    page.get_by_role("navigation").get_by_role("link", name="Direktori", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Struktur unit kerja"
    expect(page.get_by_role("rowheader", name="Seksi Perencanaan")).to_be_visible()
    page.get_by_role("link", name="Impor CSV").first.click()
    page.locator("#f-kind").select_option("employees")
    page.get_by_label("Berkas CSV").set_input_files(
        files=[{"name": "pegawai.csv", "mimeType": "text/csv", "buffer": (HEADER + GOOD + BROKEN).encode()}]
    )
    page.get_by_role("button", name="Periksa (tanpa menyimpan)").click()
    expect(page.get_by_role("heading", name="3 kesalahan pada 1 baris")).to_be_visible()
    table = page.locator("table.import-errors")
    assert table.locator("tbody tr").count() == 3
    cells = {(r.get_attribute("data-row"), r.get_attribute("data-column")) for r in table.locator("tbody tr").all()}
    assert cells == {("3", "nip"), ("3", "position"), ("3", "unit_code")}
    expect(table.get_by_text("199702022022032000")).to_be_visible()
    assert live.org.count("/employees") == before  # a check saves nothing
    screenshot(page, "hr-directory-import-errors")
    # the file is back in the text area: fix the broken row there, check again, then import
    area = page.get_by_label("Atau isi berkas (dapat diperbaiki di sini)")
    assert BROKEN.strip() in area.input_value()
    area.fill(area.input_value().replace(BROKEN.strip(), FIXED.strip()))
    page.get_by_role("button", name="Periksa (tanpa menyimpan)").click()
    expect(page.get_by_role("heading", name="2 baris diperiksa, tidak ada kesalahan")).to_be_visible()
    assert page.locator("table.import-errors").count() == 0
    page.get_by_role("button", name="Impor sekarang").click()
    expect(page.get_by_text("Impor selesai: 2 baru, 0 diubah, 0 tetap.")).to_be_visible()
    assert page.get_by_role("heading", level=1).inner_text() == "Pegawai"
    assert live.org.count("/employees") == before + 2
    page.get_by_label("Cari nama atau NIP").fill("Wulan")
    page.get_by_role("button", name="Tampilkan").click()
    page.get_by_role("link", name="Wulan Sari").click()
    expect(page.get_by_text(NEW_B)).to_be_visible()
    expect(page.get_by_label("Jabatan")).to_have_value("Pengelola Data")
    screenshot(page, "hr-directory-import-fixed")
