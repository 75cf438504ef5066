"""In a real browser, a Plt signs (issue 15, Deliver 3 and 8): HR appoints a staff member as Plt of
the seksi's head on the directory's Plt/Plh page; the Plt signs in, finds the seksi on the team's
evaluation page, rates and signs in the head's place; the employee reads who signed and as what,
and the PDF names the Plt."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.plans.support import JAKARTA, STAFF_A
from tests.portal.browser import login, screenshot
from tests.portal.test_acting import PLT
from tests.portal.test_evaluations import Team
from tests.reviews.test_document import pdf_text

pytestmark = pytest.mark.browser


@pytest.fixture
def team(live) -> Team:
    return Team(live).to_annual()


def test_hr_appoints_a_plt_who_rates_and_signs_in_the_heads_place(live, team, page, browser):
    today = live.clock().astimezone(JAKARTA).date()
    login(page, live.url, "hr:PKMB")
    page.goto(live.url + "/hr/direktori/plt")
    page.select_option("#f-kind", "plt")
    page.select_option("#f-acting_nip", PLT)
    page.select_option("#f-for_nip", "198004152005042002")  # Siti Aminah, kepala seksi perencanaan
    page.fill("#f-start_date", today.isoformat())
    page.fill("#f-end_date", (today + timedelta(days=30)).isoformat())
    page.get_by_role("button", name="Tetapkan").click()
    expect(page.locator(".flash.ok")).to_contain_text(
        "Andi Pratama ditetapkan sebagai Plt (pelaksana tugas) untuk Siti Aminah."
    )
    live.settle()

    context = browser.new_context(locale="id-ID")
    plt = context.new_page()
    plt.set_default_timeout(15000)
    try:
        login(plt, live.url, PLT)
        plt.get_by_role("link", name="Penilaian Tim").first.click()
        plt.get_by_role("row", name="Rina Wati").get_by_role("link", name="Nilai").click()
        expect(plt.locator("#acting")).to_contain_text(
            "Anda bertindak sebagai Plt. Kepala Seksi Perencanaan untuk Siti Aminah"
        )
        plt.get_by_role("group", name="Rating hasil kerja").get_by_label("Sesuai ekspektasi").check()
        plt.get_by_role("group", name="Rating perilaku kerja").get_by_label("Sesuai ekspektasi").check()
        plt.get_by_role("button", name="Simpan penilaian").click()
        expect(plt.locator(".flash.ok")).to_contain_text("Penilaian tersimpan.")
        team.advance_to("sign_off")
        plt.reload()
        plt.get_by_role("button", name="Tandatangani penilaian").click()
        expect(plt.locator(".flash.ok")).to_contain_text("Penilaian telah ditandatangani")
        screenshot(plt, "acting-plt-signed")
    finally:
        context.close()
    live.settle()

    ev = team.evaluation(STAFF_A[0])
    assert ev["status"] == "signed" and ev["signed_acting"]["nip"] == PLT and ev["penilai_nip"] != PLT
    context = browser.new_context(locale="id-ID")
    emp = context.new_page()
    emp.set_default_timeout(15000)
    try:
        login(emp, live.url, STAFF_A[0])
        emp.goto(f"{live.url}/evaluasi/{ev['id']}")
        expect(emp.locator("ol.chain")).to_contain_text(
            f"oleh Andi Pratama (NIP {PLT}) sebagai Plt. Kepala Seksi Perencanaan"
        )
        screenshot(emp, "acting-employee-reads-who-signed")
        pdf = emp.request.get(f"{live.url}/evaluasi/{ev['id']}/dokumen.pdf")
        assert pdf.ok and "Plt. Kepala Seksi Perencanaan" in " ".join(pdf_text(pdf.body()).split())
    finally:
        context.close()
