"""In a real browser, SIASN by hand (issue 16, Deliver 4): without SIASN's credentials HR reads that
the push is not configured, downloads the JSON file of the periodic results, tries to mark without
choosing anything (the error beside the ticks), then marks the whole downloaded file uploaded with a
note; the employee's row then reads "Diunggah manual"."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.plans.support import STAFF_A
from tests.portal.browser import login, screenshot
from tests.portal.test_siasn_pages import countersigned

pytestmark = pytest.mark.browser


def test_hr_downloads_the_file_and_marks_it_uploaded(live, page):
    ev = countersigned(live)
    login(page, live.url, "hr:PKMB")
    page.goto(f"{live.url}/hr/siasn?cycle_id={live.org.cycle_id}")
    expect(page.locator("#belum-dikonfigurasi")).to_contain_text("SIASN belum dikonfigurasi")
    expect(page.locator("#kirim")).to_have_count(0)
    row = page.locator(f"#evaluasi-{ev['id']}")
    expect(row).to_contain_text("Rina Wati")
    expect(row).to_contain_text("Belum dikirim")

    page.get_by_role("button", name="Tandai sudah diunggah").click()
    expect(page.locator("#e-evaluation_ids")).to_have_text(
        "Centang paling sedikit satu pegawai, atau pilih semua isi berkas."
    )
    expect(page.locator("#e-mark_kind")).to_have_text("Pilih jenis hasil.")

    with page.expect_download() as info:
        page.locator("li", has_text="Periodik").get_by_role("link", name="Unduh JSON").click()
    download = info.value
    assert download.suggested_filename.startswith(f"siasn-kinerjaperiodik-PKMB-siklus-{live.org.cycle_id}-")
    payloads = json.loads(open(download.path(), encoding="utf-8").read())
    assert [p["pnsDinilaiId"] for p in payloads] == [STAFF_A[0]]

    page.goto(f"{live.url}/hr/siasn?cycle_id={live.org.cycle_id}")
    page.get_by_label("Semua evaluasi dalam berkas").check()
    page.get_by_label("Catatan").fill("Diunggah lewat SIASN web, 6 Des")
    page.get_by_role("button", name="Tandai sudah diunggah").click()
    expect(page.locator(".flash.ok")).to_contain_text("1 evaluasi ditandai sudah diunggah ke SIASN.")
    row = page.locator(f"#evaluasi-{ev['id']}")
    expect(row).to_contain_text("Diunggah manual")
    expect(row).to_contain_text("Diunggah lewat SIASN web, 6 Des")
    screenshot(page, "siasn-marked-uploaded")
