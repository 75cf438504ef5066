"""In a real browser: a supervisor gives feedback — from the team dashboard, a coaching record on an RHK
of a subordinate's SKP (the empty form refused beside its fields first) — the employee reads it on
the SKP page and replies, and at the annual evaluation the penilai finds note and reply again on
the rating page, above the rating form. A note on a BerAKHLAK value stands beside that value's level
on the rating form; the penilai rates the value from it, the page suggests the behaviour rating from
the levels with the reason per value, and the penilai rates perilaku following the suggestion."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.plans.support import KASI_A, STAFF_A
from tests.portal.browser import login, screenshot
from tests.portal.test_evaluations import Team

pytestmark = pytest.mark.browser


def test_a_supervisor_gives_feedback_the_employee_replies_and_the_rating_page_shows_it(live, page):
    team = Team(live).approve_all_plans()
    team.advance_to("monitoring:1:check_in")
    plan = team.plans[STAFF_A[0]]
    login(page, live.url, KASI_A)
    page.goto(f"{live.url}/tim")
    page.locator("tr", has_text="Rina Wati").get_by_role("link", name="Umpan balik").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Umpan balik dan bimbingan: Rina Wati")
    page.get_by_role("button", name="Simpan catatan").click()  # nothing chosen, nothing written
    expect(page.locator("#e-target")).to_have_text("Pilih RHK atau nilai perilaku yang dibahas.")
    expect(page.locator("#e-text")).to_have_text("Tulis catatannya.")
    page.select_option("#f-kind", "coaching")
    page.select_option("#f-target", f"rhk:{plan['rhk'][0]['id']}")
    page.select_option("#f-period_seq", "1")
    page.fill("#f-text", "Sesi bimbingan: laporan bulan depan dikirim sebelum tanggal 5.")
    page.get_by_role("button", name="Simpan catatan").click()
    expect(page.locator(".flash.ok")).to_contain_text("Catatan bimbingan kinerja untuk Rina Wati tersimpan")
    expect(page.locator("#riwayat .fb-item")).to_have_count(1)
    screenshot(page, "feedback-supervisor-writes")

    page.context.clear_cookies()
    login(page, live.url, STAFF_A[0])
    page.goto(f"{live.url}/skp/{plan['id']}")
    expect(page.locator("#umpan-balik")).to_contain_text("Sesi bimbingan: laporan bulan depan")
    page.get_by_role("link", name="Buka dan balas (1 catatan)").click()
    page.get_by_role("button", name="Kirim balasan").click()  # an empty reply
    expect(page.locator(".fb-reply-form .err")).to_have_text("Tulis balasan Anda.")
    page.get_by_label("Balas catatan ini").fill("Baik, Pak. Draf saya kirim tanggal 3.")
    page.get_by_role("button", name="Kirim balasan").click()
    expect(page.locator(".fb-reply")).to_contain_text("Baik, Pak. Draf saya kirim tanggal 3.")
    screenshot(page, "feedback-employee-replies")

    # feedback on a behaviour value, written the same way
    page.context.clear_cookies()
    login(page, live.url, KASI_A)
    page.goto(f"{live.url}/tim/skp/{plan['id']}/umpan-balik")
    page.select_option("#f-kind", "feedback")
    page.select_option("#f-target", "value:akuntabel")
    page.fill("#f-text", "Laporan bulanan selalu lengkap dengan bukti dan dikirim sebelum tenggat.")
    page.get_by_role("button", name="Simpan catatan").click()
    expect(page.locator(".flash.ok")).to_be_visible()
    expect(page.locator("#riwayat .fb-item")).to_have_count(2)

    team.advance_to("annual_evaluation")
    team.realise(STAFF_A[0], 4, [5, 100])
    ev = team.evaluation(STAFF_A[0])
    page.context.clear_cookies()
    login(page, live.url, KASI_A)
    page.goto(f"{live.url}/evaluasi/{ev['id']}/nilai")
    notes = page.locator("#umpan-balik")
    expect(notes).to_contain_text("Bimbingan kinerja")
    expect(notes).to_contain_text("Sesi bimbingan: laporan bulan depan")
    expect(notes.locator(".fb-reply")).to_contain_text("Baik, Pak. Draf saya kirim tanggal 3.")
    notes.scroll_into_view_if_needed()
    screenshot(page, "feedback-on-the-rating-page")

    # the behaviour value: its note beside its level; rated from it, the suggestion follows with its reason
    saran = page.locator("#saran-perilaku")
    expect(saran).to_contain_text("Belum ada nilai yang dapat dinilai")
    row = page.locator("#nilai-akuntabel")
    expect(row).to_contain_text("Laporan bulanan selalu lengkap dengan bukti")
    row.locator("#f-value_level-akuntabel-above").check()
    page.fill("#f-value_text\\.akuntabel", "Tepat waktu dan lengkap sepanjang tahun, sesuai catatan umpan balik.")
    page.get_by_role("button", name="Perbarui saran perilaku").click()
    expect(saran.locator(".suggestion")).to_contain_text("Di atas ekspektasi")
    expect(saran.locator("#saran-akuntabel")).to_contain_text("Tingkat yang Anda pilih bersama umpan balik Anda")
    expect(page.locator("#f-value_level-akuntabel-above")).to_be_checked()  # the choice kept
    expect(page.locator("#h-f-rating_perilaku")).to_have_text(
        "Saran sistem: Di atas ekspektasi. Bila memilih yang lain, tuliskan alasannya di bawah."
    )
    saran.scroll_into_view_if_needed()
    screenshot(page, "feedback-behaviour-suggestion")
    suggested_hasil = team.api("GET", f"/evaluations/{ev['id']}/suggestion", KASI_A).get_json()["rating"]
    page.locator(f"#f-rating_hasil-{suggested_hasil}").check()
    page.locator("#f-rating_perilaku-above").check()  # following the suggestion: no reason asked
    page.get_by_role("button", name="Simpan penilaian").click()
    expect(page.locator(".flash.ok")).to_contain_text("Penilaian tersimpan.")
    rated = team.evaluation(STAFF_A[0])
    assert (rated["rating_perilaku"], rated["suggested_perilaku"], rated["perilaku_deviation_reason"]) == (
        "above",
        "above",
        None,
    )
    assert rated["value_feedback"]["akuntabel"]["level"] == "above"
    page.locator("#hasil").scroll_into_view_if_needed()
    screenshot(page, "feedback-behaviour-rated")
