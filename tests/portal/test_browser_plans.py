"""In a real browser: drafting an SKP with a cascade pick and submitting it; the superior returning
it with a note, the employee fixing and resubmitting, the superior approving; the form's errors
in Bahasa Indonesia beside the fields (on a phone); another employee's SKP is "tidak berwenang";
the team dashboard's log list refreshing on its own."""

from __future__ import annotations

import pytest

from tests.plans.support import HEAD, KASI_A, STAFF_A, iki, rhk
from tests.portal.browser import login, screenshot
from tests.portal.test_employee import BERAKHLAK

pytestmark = pytest.mark.browser


def kasi_plan(live) -> dict:
    return live.org.cascade(live.org.head_plan(), KASI_A, approver=HEAD)


def plans_of(live, nip) -> list[dict]:
    return live.org.get(f"/plans?employee_nip={nip}", live.org.as_(nip)).get_json()["items"]


def sign_out(page) -> None:
    page.get_by_role("button", name="Keluar").click()
    page.wait_for_load_state()


def test_employee_drafts_with_a_cascade_pick_and_submits(live, page):
    ka = kasi_plan(live)
    login(page, live.url, STAFF_A[0])
    page.get_by_role("link", name="SKP Saya").first.click()
    page.get_by_role("link", name="Susun SKP").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Susun SKP"
    page.get_by_label("Rencana hasil kerja").first.fill("Tersusunnya dokumen rencana kerja seksi")
    page.select_option("#f-rhk-0-parent", label=f"{ka['rhk'][0]['description']} (utama)")
    page.fill("#f-rhk-0-iki-0-indicator", "Jumlah dokumen rencana kerja")
    page.fill("#f-rhk-0-iki-0-target_value", "4")
    page.fill("#f-rhk-0-iki-0-target_unit", "dokumen")
    # the expectations are the superior's: shown, not written here
    assert page.locator("#f-behaviour-akuntabel").count() == 0
    assert page.locator("#expectations").get_by_text("Belum ditulis oleh atasan").count() == 7
    page.get_by_role("button", name="Simpan draf").click()
    page.wait_for_load_state()
    assert page.get_by_text("Draf SKP tersimpan.").is_visible()
    assert page.locator(".parent").first.inner_text() == ka["rhk"][0]["description"]
    page.get_by_role("button", name="Ajukan ke atasan").click()
    page.wait_for_load_state()
    assert page.get_by_text("SKP diajukan kepada atasan untuk disetujui.").is_visible()
    assert page.locator(".lead .badge").inner_text() == "Diajukan"
    (plan,) = plans_of(live, STAFF_A[0])
    full = live.org.plan(plan["id"])
    assert full["status"] == "submitted" and full["rhk"][0]["parent_rhk_id"] == ka["rhk"][0]["id"]
    assert full["behaviour"] == {}
    screenshot(page, "plans-1-drafted-and-submitted")


def test_return_with_a_note_fix_resubmit_and_approve(live, page):
    org = live.org
    ka = kasi_plan(live)
    plan = org.create_plan(
        STAFF_A[0],
        [rhk("Tersusunnya laporan bulanan", parent=ka["rhk"][0]["id"], ikis=[iki("kuantitas", 6, "laporan")])],
        behaviour={v: f"Ekspektasi {v}" for v in BERAKHLAK},
    )
    assert org.submit(plan["id"], STAFF_A[0]).status_code == 200
    live.settle()
    # the superior returns it with a note
    login(page, live.url, KASI_A)
    page.get_by_role("link", name="Tim Saya").first.click()
    assert page.get_by_text("1 SKP diajukan kepada Anda.").is_visible()
    page.locator(".waiting").get_by_role("link", name="Rina Wati").click()
    page.get_by_label("Catatan pengembalian").fill("Target 6 laporan terlalu rendah; satu laporan per bulan.")
    page.get_by_role("button", name="Kembalikan dengan catatan").click()
    page.wait_for_load_state()
    assert page.get_by_text("SKP Rina Wati dikembalikan dengan catatan.").is_visible()
    sign_out(page)
    # the employee sees the note, fixes and resubmits
    login(page, live.url, STAFF_A[0])
    page.get_by_role("link", name="SKP Saya").first.click()
    assert page.get_by_text("Target 6 laporan terlalu rendah; satu laporan per bulan.").is_visible()
    page.get_by_role("link", name="Buka SKP").click()
    note = page.locator(".returned-note")
    assert "Dikembalikan atasan dengan catatan" in note.inner_text() and "satu laporan per bulan" in note.inner_text()
    page.get_by_role("link", name="Ubah SKP").click()
    assert page.locator(".returned-note").is_visible()  # the note stays in sight while editing
    page.fill("#f-rhk-0-iki-0-target_value", "12")
    page.get_by_role("button", name="Simpan dan ajukan").click()
    page.wait_for_load_state()
    assert page.locator(".lead .badge").inner_text() == "Diajukan"
    assert org.plan(plan["id"])["rhk"][0]["iki"][0]["target_value"] == 12.0
    sign_out(page)
    # the superior approves
    login(page, live.url, KASI_A)
    page.goto(f"{live.url}/tim")
    page.locator(".waiting").get_by_role("link", name="Rina Wati").click()
    assert page.get_by_text("12 laporan").is_visible()
    page.get_by_role("button", name="Setujui SKP").click()
    page.wait_for_load_state()
    assert page.get_by_text("SKP Rina Wati disetujui.").is_visible()
    assert page.locator(".lead .badge").inner_text() == "Disetujui"
    screenshot(page, "plans-2-approved-review")
    after = org.plan(plan["id"])
    assert after["status"] == "approved" and after["revision"] == 1 and after["return_note"] is None
    page.goto(f"{live.url}/tim")
    assert page.get_by_text("Tidak ada SKP yang menunggu persetujuan Anda.").is_visible()
    screenshot(page, "plans-2-returned-fixed-approved")


def test_missing_fields_show_inline_in_bahasa_indonesia_on_a_phone(live, phone):
    kasi_plan(live)
    login(phone, live.url, STAFF_A[0])
    phone.goto(f"{live.url}/skp/new?cycle_id={live.org.cycle_id}")
    phone.fill("#f-rhk-0-description", "Terlaksananya pendataan jalan")
    phone.fill("#f-rhk-0-iki-0-target_value", "sepuluh")
    phone.press("#f-rhk-0-iki-0-target_value", "Enter")  # Enter saves (not "tambah baris")
    phone.wait_for_load_state()
    assert phone.locator("#f-rhk-3-description").count() == 0
    assert (
        phone.get_by_role("alert").inner_text() == "Periksa isian yang ditandai di bawah ini; belum ada yang disimpan."
    )
    assert phone.locator("#e-rhk-0-parent").inner_text() == "Pilih RHK atasan yang didukung RHK ini."
    assert phone.locator("#e-rhk-0-iki-0-target_value").inner_text() == "Isi dengan angka."
    assert phone.locator("#e-rhk-0-iki-0-target_unit").inner_text() == "Wajib diisi."
    assert phone.locator("#f-rhk-0-parent").get_attribute("aria-invalid") == "true"
    assert phone.locator("#f-rhk-0-iki-0-target_value").input_value() == "sepuluh"  # nothing typed is lost
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width  # no sideways scrolling on the phone
    assert plans_of(live, STAFF_A[0]) == []
    phone.locator("#e-rhk-0-parent").scroll_into_view_if_needed()
    screenshot(phone, "plans-3-errors-inline-phone")


def test_another_employees_skp_is_not_for_me(live, page):
    plan = live.org.cascade(kasi_plan(live), STAFF_A[0])
    login(page, live.url, STAFF_A[1])
    page.goto(f"{live.url}/skp/{plan['id']}")
    assert page.get_by_role("heading", level=1).inner_text() == "Tidak berwenang"
    assert plan["rhk"][0]["description"] not in page.content()
    screenshot(page, "plans-4-tidak-berwenang")


def test_team_logs_refresh_without_reloading(live, page):
    page.clock.install()
    login(page, live.url, KASI_A)
    page.goto(f"{live.url}/tim")
    assert page.get_by_text("Belum ada kegiatan tim yang dicatat hari ini.").is_visible()
    r = live.org.post(
        "/daily-logs",
        live.org.as_(STAFF_A[2]),
        {"date": "2026-01-05", "activity": "Mengarsipkan surat masuk", "minutes": 40},
    )
    assert r.status_code == 201
    page.clock.run_for(21000)
    page.get_by_text("Mengarsipkan surat masuk").wait_for(timeout=5000)
    assert "Joko Widodo" in page.locator("#team-logs").inner_text()
    screenshot(page, "plans-5-team-dashboard")


def test_realisation_with_an_evidence_file_then_a_daily_log_on_a_phone(live, phone, tmp_path):
    org = live.org
    plan = org.cascade(kasi_plan(live), STAFF_A[0], approver=KASI_A)
    org.advance_to("monitoring:1:check_in")
    iki_ = plan["rhk"][0]["iki"][0]
    evidence = tmp_path / "notulen rapat.pdf"
    evidence.write_bytes(b"%PDF-1.4\n% bukti dukung\n")
    login(phone, live.url, STAFF_A[0])
    phone.goto(f"{live.url}/skp/{plan['id']}")
    phone.get_by_role("link", name="Realisasi dan bukti dukung").first.click()
    assert phone.locator(".periods a[aria-current]").inner_text() == "Triwulan I"
    phone.fill(f"#f-iki-{iki_['id']}-value", "3")
    phone.fill(f"#f-iki-{iki_['id']}-note", "Tiga dokumen selesai")
    phone.set_input_files(f"#f-iki-{iki_['id']}-file", str(evidence))
    phone.locator("form.real-form").first.get_by_role("button", name="Simpan realisasi").click()
    phone.wait_for_load_state()
    assert phone.get_by_text("Realisasi tersimpan.").is_visible()
    assert phone.get_by_role("link", name="notulen rapat.pdf").is_visible()
    (rec,) = org.get(f"/plans/{plan['id']}/realisations?period_seq=1", org.as_(STAFF_A[0])).get_json()
    assert rec["value"] == 3.0 and rec["evidence"][0]["filename"] == "notulen rapat.pdf"
    assert rec["evidence"][0]["content_type"] == "application/pdf"
    phone.get_by_role("link", name="Log Harian").first.click()
    assert phone.locator("#f-date").input_value() == "2026-01-05"
    phone.fill("#f-activity", "Menyusun notulen rapat perencanaan")
    phone.fill("#f-minutes", "75")
    phone.select_option("#f-iki_id", iki_["id"])
    phone.get_by_role("button", name="Simpan kegiatan").click()
    phone.wait_for_load_state()
    assert phone.get_by_text("Kegiatan tercatat.").is_visible()
    day = phone.locator("section.day").first
    assert "Senin, 5 Januari 2026" in day.inner_text() and "Menyusun notulen rapat perencanaan" in day.inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "plans-6-realisation-and-daily-log-phone")
