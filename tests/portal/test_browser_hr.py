"""In a real browser: HR calibrates an annual evaluation where a unit breaks the curve, HR advances
a cycle from its completion page, and a citizen answers the public survey on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.portal.browser import login, screenshot
from tests.portal.test_hr import annual_curve_broken

pytestmark = pytest.mark.browser
S = "/surveys/api/v1"


def test_hr_sees_the_broken_curve_and_records_an_override(live, page):
    annual_curve_broken(live, wait=live.settle)
    cid = live.org.cycle_id
    login(page, live.url, "hr:PKMB")
    page.get_by_role("navigation").get_by_role("link", name="Kalibrasi", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Kalibrasi kurva distribusi"
    page.select_option("#f-period_seq", "0")
    page.get_by_role("button", name="Tampilkan").click()
    unit = page.locator("#unit-SEK-A")
    assert unit.get_by_role("heading", level=2).inner_text().startswith("Seksi Perencanaan")
    # the chart is drawn (an SVG image with its title) and the violation is named in words, in red
    chart = unit.get_by_role("img", name=re.compile("Kurva predikat Seksi Perencanaan"))
    expect(chart).to_be_visible()
    assert chart.bounding_box()["width"] > 250
    assert unit.locator("rect.bar.bad").count() == 1
    violation = unit.locator("li.violation").first
    assert violation.inner_text() == "Baik: paling banyak 70 % (3 orang), tercatat 4 dari 4 orang."
    assert violation.evaluate("e => getComputedStyle(e).color") == "rgb(179, 38, 30)"
    expect(page.locator("#unit-SEK-B").get_by_text("Sesuai kurva distribusi.")).to_be_visible()
    # run the check, then the override: without a reason it is refused beside the field
    page.get_by_role("button", name="Jalankan pemeriksaan kalibrasi").click()
    expect(page.get_by_text("Pemeriksaan selesai: 1 unit melanggar kurva (SEK-A).")).to_be_visible()
    unit = page.locator("#unit-SEK-A")
    unit.get_by_role("button", name="Catat pengecualian").click()
    unit = page.locator("#unit-SEK-A")
    assert unit.locator("#e-reason-SEK-A").inner_text() == "Wajib diisi."
    assert unit.get_by_label("Alasan pengecualian").get_attribute("aria-invalid") == "true"
    reason = "Seksi kecil (4 orang); seluruh target tahunan tercapai dengan bukti dukung."
    unit.get_by_label("Alasan pengecualian").fill(reason)
    unit.get_by_role("button", name="Catat pengecualian").click()
    expect(page.get_by_text("Pengecualian untuk unit SEK-A tercatat")).to_be_visible()
    unit = page.locator("#unit-SEK-A")
    expect(unit.get_by_role("heading", name="Pengecualian tercatat")).to_be_visible()
    expect(unit.get_by_text(reason).first).to_be_visible()
    cal = live.org.client.get(
        f"/reviews/api/v1/calibration?cycle_id={cid}&period_seq=0&unit_code=SEK-A", headers=live.org.hr
    ).get_json()["units"][0]
    assert cal["override"]["reason"] == reason and cal["sign_off_blocked"] is False
    unit.scroll_into_view_if_needed()
    screenshot(page, "hr-calibration-override")


def test_hr_advances_planning_from_the_completion_page(live, page):
    org = live.org
    hp = org.head_plan()
    ka = org.cascade(hp, org.KASI_A, approver=org.HEAD)
    org.cascade(ka, org.STAFF_A[0], approver=org.KASI_A)
    live.settle()
    login(page, live.url, "hr:PKMB")
    page.get_by_role("navigation").get_by_role("link", name="Periode Penilaian", exact=True).click()
    page.get_by_role("link", name="Penilaian Kinerja 2026").click()
    expect(page.get_by_text("Tahap saat ini: Perencanaan SKP").first).to_be_visible()
    row = page.locator("tr", has=page.get_by_role("rowheader", name=re.compile("Seksi Perencanaan")))
    assert row.first.locator("progress").get_attribute("value") == "2"
    expect(row.first.get_by_text("2/4 (50%)")).to_be_visible()
    page.get_by_role("button", name="Majukan ke tahap berikutnya").click()
    expect(
        page.get_by_text("Tahap dimajukan. Tahap saat ini: Pemantauan — Triwulan I, Realisasi dan check-in.")
    ).to_be_visible()
    assert org.get(f"/cycles/{org.cycle_id}", org.hr).get_json()["state"] == "monitoring:1:check_in"
    # a second tab opened now, then the first one moves the cycle on: the second tab's form is stale
    stale = page.context.new_page()
    stale.goto(page.url)
    assert stale.locator("input[name=expected]").get_attribute("value") == "monitoring:1:check_in"
    page.get_by_role("button", name="Majukan ke tahap berikutnya").click()
    expect(page.get_by_text("Tahap saat ini: Pemantauan — Triwulan I, Penilaian diri").first).to_be_visible()
    stale.get_by_role("button", name="Majukan ke tahap berikutnya").click()
    alert = stale.get_by_role("alert")
    assert "Tahap tidak dimajukan" in alert.inner_text() and "Tidak ada yang diubah" in alert.inner_text()
    assert "Penilaian diri" in alert.inner_text()
    assert org.get(f"/cycles/{org.cycle_id}", org.hr).get_json()["state"] == "monitoring:1:self_assessment"
    screenshot(stale, "hr-cycle-advance-conflict")
    stale.close()
    page.reload()
    screenshot(page, "hr-cycle-completion")


def test_citizen_answers_the_survey_on_a_phone(live, phone):
    client, hr = live.org.client, live.org.hr
    r = client.post(
        f"{S}/campaigns",
        headers=hr,
        json={
            "unit_code": "SEK-B",
            "unit_name": "Seksi Pelaksanaan",
            "service_type": "Pelayanan izin galian jalan",
            "title": "Survei Kepuasan Izin Galian",
            "start_date": "2026-01-01",
            "end_date": "2026-03-31",
            "population": 200,
            # a form anyone may answer (no receipt token): HR must say why
            "open_form": True,
            "open_form_reason": "Layanan lapangan tanpa loket: formulir dibagikan lewat QR di lokasi",
        },
    )
    assert r.status_code == 201, r.get_json()
    c = r.get_json()
    assert client.post(f"{S}/campaigns/{c['id']}/open", headers=hr).status_code == 200
    live.settle()
    phone.goto(live.url + c["public_path"])
    assert phone.get_by_role("heading", level=1).inner_text() == "Survei Kepuasan Izin Galian"
    # nothing wider than the phone: no sideways scrolling
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    groups = phone.locator("fieldset[id^=q-]")
    assert groups.count() == 9
    for i in range(9):
        group = groups.nth(i)
        choice = group.locator("label.choice").nth(3 if i % 3 else 2)  # mostly the best answer
        box = choice.bounding_box()
        assert box["height"] >= 40 and box["width"] >= 300  # a finger-sized target across the screen
        choice.click()
    phone.get_by_label("Umur (tahun)").fill("34")
    phone.get_by_label("Pendidikan terakhir").select_option(index=3)
    phone.get_by_label("Saran dan masukan").fill("Antrean di loket bisa dipercepat.")
    phone.get_by_role("button", name="Kirim jawaban").click()
    assert phone.get_by_role("heading", level=1).inner_text() == "Terima kasih"
    expect(phone.get_by_text("Jawaban Anda sudah kami terima.")).to_be_visible()
    screenshot(phone, "survey-phone-thanks")
    camp = client.get(f"{S}/campaigns/{c['id']}", headers=hr).get_json()
    assert camp["respondents"] == 1
    ikm = client.get(f"{S}/campaigns/{c['id']}/ikm", headers=hr).get_json()
    assert ikm["respondents"] == 1 and ikm["nrr"]["U1"] in (3.0, 4.0)


def test_the_public_form_reads_well_on_a_phone(live, phone):
    """The questionnaire itself (not only its thank-you page) at 390 px: a screenshot to look at."""
    client, hr = live.org.client, live.org.hr
    c = client.post(
        f"{S}/campaigns",
        headers=hr,
        json={
            "unit_code": "SEK-B",
            "service_type": "Pelayanan izin galian jalan",
            "start_date": "2026-01-01",
            "end_date": "2026-03-31",
            "population": 200,
        },
    ).get_json()
    client.post(f"{S}/campaigns/{c['id']}/open", headers=hr)
    phone.goto(live.url + c["public_path"])
    font = phone.locator("legend").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert font >= 16
    screenshot(phone, "survey-phone-form")


def test_hr_creates_and_opens_a_campaign_on_a_phone_and_its_qr_code_shows(live, phone):
    login(phone, live.url, "hr:PKMB")
    phone.goto(live.url + "/hr/survei")
    assert phone.get_by_role("heading", level=1).inner_text() == "Survei Kepuasan Masyarakat"
    phone.get_by_label("Unit layanan").select_option("SEK-B")
    phone.get_by_label("Jenis layanan").fill("Pelayanan izin galian jalan")
    phone.get_by_label("Tanggal mulai").fill("2026-01-01")
    phone.get_by_label("Tanggal selesai").fill("2025-12-31")  # before the start: the API refuses it
    phone.get_by_label("Populasi pengguna layanan").fill("200")
    phone.get_by_role("button", name="Buat kampanye").click()
    assert "sebelum tanggal mulai" in phone.locator("#e-end_date").inner_text()
    assert phone.get_by_label("Jenis layanan").input_value() == "Pelayanan izin galian jalan"  # kept
    phone.get_by_label("Tanggal selesai").fill("2026-03-31")
    phone.get_by_role("button", name="Buat kampanye").click()
    expect(phone.get_by_text("Kampanye Pelayanan izin galian jalan dibuat")).to_be_visible()
    phone.get_by_role("button", name="Buka survei").click()
    assert "dibuka; formulir publik menerima jawaban" in phone.locator(".flash").first.inner_text(), phone.locator(
        "main"
    ).inner_text()[:600]
    qr = phone.get_by_role("img", name=re.compile("Kode QR formulir survei"))
    qr.scroll_into_view_if_needed()
    # the proxied SVG loaded: waited for, not looked at once (a busy machine loads it after the scroll)
    phone.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=qr.element_handle(), timeout=20_000)
    expect(phone.locator(".campaign .pct").first).to_have_text("0/132 (0%)")  # the minimum sample for 200 users
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "hr-surveys-phone")
    phone.get_by_role("link", name="Buka formulir publik").click()
    assert phone.get_by_role("heading", level=1).inner_text() == "Survei Kepuasan Masyarakat"
    assert phone.locator("fieldset[id^=q-]").count() == 9
