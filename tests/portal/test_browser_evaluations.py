"""In a real browser: the penilai rates from the explained suggestion and signs; the employee
acknowledges and objects, the atasan penilai decides; the employee downloads the PDF."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.plans.support import HEAD, KASI_A, STAFF_A
from tests.portal.browser import login, screenshot
from tests.portal.test_evaluations import REASON, Team

pytestmark = pytest.mark.browser


@pytest.fixture
def team(live) -> Team:
    return Team(live).to_annual()


def test_penilai_rates_from_the_suggestion_departs_with_a_reason_and_signs(live, team, page):
    login(page, live.url, KASI_A)
    page.get_by_role("link", name="Penilaian Tim").first.click()
    expect(page.locator("#count-to_rate")).to_have_text("3")
    page.get_by_role("row", name="Rina Wati").get_by_role("link", name="Nilai").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Penilaian kinerja: Rina Wati")
    # the suggestion and why: per IKI the achievement, its class and the rule
    suggestion = page.locator("#saran")
    assert "Saran sistem: Sesuai ekspektasi" in " ".join(suggestion.inner_text().split())
    rows = suggestion.locator("table tbody tr")
    assert rows.count() == 2
    assert "125 %" in rows.nth(0).inner_text() and "Capaian lebih dari 105 % target" in rows.nth(0).inner_text()
    assert "Di atas ekspektasi" in rows.nth(0).inner_text()
    assert "Sesuai ekspektasi" in rows.nth(1).inner_text()
    # departing from the suggestion without a reason: the error appears beside the field
    page.get_by_role("group", name="Rating hasil kerja").get_by_label("Di atas ekspektasi").check()
    page.get_by_role("group", name="Rating perilaku kerja").get_by_label("Di atas ekspektasi").check()
    page.get_by_role("group", name="Kolaboratif").get_by_label("Di atas ekspektasi").check()
    page.get_by_label("Umpan balik Kolaboratif").fill("Membantu seksi lain menata arsip.")
    page.get_by_role("button", name="Simpan penilaian").click()
    expect(page.locator("#e-deviation_reason")).to_contain_text("berbeda dari saran sistem (Sesuai ekspektasi)")
    assert page.get_by_label("Alasan berbeda dari saran").get_attribute("aria-invalid") == "true"
    assert page.get_by_role("group", name="Rating hasil kerja").get_by_label("Di atas ekspektasi").is_checked()
    assert team.evaluation(STAFF_A[0])["status"] == "open"
    # with the reason: saved, the predikat of the two ratings is shown
    page.get_by_label("Alasan berbeda dari saran").fill(REASON)
    page.get_by_role("button", name="Simpan penilaian").click()
    expect(page.locator(".flash.ok")).to_contain_text("Penilaian tersimpan.")
    expect(page.locator("#hasil .predikat")).to_have_text("Sangat Baik")
    assert "Penandatanganan dibuka pada tahap penandatanganan." in page.locator("#hasil").inner_text()
    # HR moves the cycle on to sign-off; the penilai signs
    team.advance_to("sign_off")
    page.reload()
    page.get_by_role("button", name="Tandatangani penilaian").click()
    expect(page.locator(".flash.ok")).to_contain_text("Penilaian telah ditandatangani")
    assert "sudah ditandatangani" in page.locator(".flash.warn").inner_text()
    ev = team.evaluation(STAFF_A[0])
    assert (ev["status"], ev["predikat"], ev["deviation_reason"]) == ("signed", "SANGAT_BAIK", REASON)
    screenshot(page, "evaluations-penilai-signed")


def test_employee_acknowledges_and_objects_then_the_atasan_changes_the_result(live, team, page, browser):
    team.signed(STAFF_A[0], hasil="meets", perilaku="below")
    login(page, live.url, STAFF_A[0])
    page.get_by_role("link", name="Evaluasi Saya").first.click()
    page.get_by_role("link", name="Tahunan 2026").click()
    expect(page.locator("#hasil")).to_contain_text("Kurang/Misconduct")
    page.get_by_role("button", name="Saya telah menerima hasil penilaian").click()
    expect(page.locator(".flash.ok")).to_contain_text("Hasil penilaian telah Anda terima.")
    objection = page.locator("#keberatan")
    closing = (team.stack.clock.now.date() + timedelta(days=14)).isoformat()  # 14 days after acknowledging
    expect(objection).to_contain_text(f"sampai dengan {closing}")
    page.get_by_role("button", name="Ajukan keberatan").click()  # empty: refused beside the field
    expect(page.locator("#e-reasons")).to_have_text("Wajib diisi.")
    page.get_by_label("Alasan keberatan").fill("Perilaku kolaboratif saya dalam rapat koordinasi tidak dinilai.")
    page.get_by_role("button", name="Ajukan keberatan").click()
    expect(page.locator(".flash.ok")).to_contain_text("Keberatan Anda telah diajukan")
    page.get_by_label("Pernyataan Anda").fill("Notulen rapat koordinasi terlampir di bukti dukung.")
    page.get_by_role("button", name="Tambahkan pernyataan").click()
    expect(page.locator("#pernyataan .statements")).to_contain_text("Notulen rapat koordinasi")
    live.settle()

    # the atasan penilai, in their own browser session, decides it
    context = browser.new_context(locale="id-ID")
    atasan = context.new_page()
    atasan.set_default_timeout(15000)
    try:
        login(atasan, live.url, HEAD)
        atasan.get_by_role("link", name="Penilaian Tim").first.click()
        expect(atasan.locator("#count-objections")).to_have_text("1")
        atasan.get_by_role("row", name="Rina Wati").get_by_role("link", name="Putuskan").click()
        expect(atasan.locator("#pernyataan")).to_contain_text("Notulen rapat koordinasi terlampir")
        atasan.get_by_label("Hasil penilaian diubah").check()
        atasan.get_by_role("button", name="Putuskan keberatan").click()  # no reason, no ratings
        expect(atasan.locator("#e-reason")).to_have_text("Wajib diisi.")
        assert "Pilih rating baru" in atasan.locator("#e-f-rating_hasil").inner_text()
        atasan.get_by_label("Alasan keputusan").fill("Notulen membuktikan kolaborasi; perilaku sesuai ekspektasi.")
        atasan.get_by_role("group", name="Rating hasil kerja").get_by_label("Sesuai ekspektasi").check()
        atasan.get_by_role("group", name="Rating perilaku kerja").get_by_label("Sesuai ekspektasi").check()
        atasan.get_by_role("button", name="Putuskan keberatan").click()
        expect(atasan.locator(".flash.ok")).to_contain_text("Keberatan telah diputus.")
        decision = atasan.locator("#keputusan").inner_text()
        assert "Hasil penilaian diubah" in decision and "final" in decision
        expect(atasan.locator(".after-predikat")).to_have_text("Baik")
        assert atasan.get_by_role("button", name="Putuskan keberatan").count() == 0
        screenshot(atasan, "evaluations-objection-decided")
    finally:
        context.close()
    live.settle()
    # the employee sees the final state and the new document version
    page.goto(live.url + "/evaluasi")
    page.get_by_role("link", name="Tahunan 2026").click()
    expect(page.locator("#hasil .predikat")).to_have_text("Baik")
    assert "Hasil penilaian diubah" in page.locator("#keberatan").inner_text()
    assert "versi 3" in page.locator("#dokumen").inner_text()  # signed, acknowledged, changed
    ev = team.evaluation(STAFF_A[0])
    assert (ev["predikat"], ev["document_version"]) == ("BAIK", 3)


def test_employee_downloads_the_evaluation_pdf(live, team, page):
    team.signed(STAFF_A[0])
    login(page, live.url, STAFF_A[0])
    page.goto(live.url + "/evaluasi")
    page.get_by_role("link", name="Tahunan 2026").click()
    link = page.get_by_role("link", name="Unduh dokumen (PDF, versi 1)")
    href = link.get_attribute("href")
    assert href.endswith("/dokumen.pdf")
    signed = team.evaluation(STAFF_A[0])
    assert signed["content_hash"] in page.locator("#dokumen").inner_text()
    screenshot(page, "evaluations-employee-document")
    with page.expect_response(lambda r: r.url.endswith(href)) as clicked:
        link.click()  # what the browser receives when the employee follows the link
    assert clicked.value.status == 200 and clicked.value.headers["content-type"] == "application/pdf"
    assert "penilaian-" in clicked.value.headers["content-disposition"]
    resp = page.request.get(live.url + href)  # the bytes, with the page's own session cookie
    assert resp.status == 200 and resp.headers["content-type"] == "application/pdf"
    assert resp.body().startswith(b"%PDF")
    # a colleague's session is refused
    page.context.clear_cookies()
    login(page, live.url, STAFF_A[1])
    resp = page.request.get(live.url + href)
    assert resp.status == 403 and not resp.body().startswith(b"%PDF")


def test_team_evaluations_on_a_phone(live, team, phone):
    login(phone, live.url, KASI_A)
    phone.goto(live.url + "/tim/evaluasi")
    expect(phone.locator("#count-to_rate")).to_have_text("3")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width  # nothing wider than the screen: tables scroll inside .table-wrap
    phone.get_by_role("row", name="Dewi Lestari").get_by_role("link", name="Nilai").click()
    expect(phone.locator("#saran")).to_contain_text("Saran sistem")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "evaluations-rating-phone")
