"""In a real browser (issue 15 journey): an employee nominates peers and a peer answers. Rina proposes
three colleagues from the menu "Umpan Balik Rekan" (first too few: the error beside the list), her
penilai approves the proposal with one colleague swapped, and Maya — added by the penilai — finds the
request, is told which values she left out, then answers."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.plans.support import KASI_A, STAFF_A, STAFF_B
from tests.portal.browser import login, screenshot
from tests.portal.test_evaluations import Team

pytestmark = pytest.mark.browser

VALUES = ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")


@pytest.fixture
def team(live) -> Team:
    t = Team(live).approve_all_plans()
    t.advance_to("monitoring:1:check_in")
    return t


def test_an_employee_nominates_peers_and_a_peer_answers(live, team, page):
    ev = team.evaluation(STAFF_A[0], period_seq=1)
    login(page, live.url, STAFF_A[0])
    page.get_by_role("link", name="Umpan Balik Rekan").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Umpan balik rekan")
    page.get_by_role("link", name="Usulkan rekan").click()
    page.get_by_label("Dewi Lestari").check()
    page.get_by_role("button", name="Kirim usulan").click()
    expect(page.locator("#e-rater_nips")).to_have_text("Pilih sedikitnya 3 rekan kerja.")
    screenshot(page, "peers-propose-too-few")
    page.get_by_label("Joko Widodo").check()
    page.get_by_label("Andi Pratama").check()
    page.get_by_role("button", name="Kirim usulan").click()
    expect(page.locator("#proposal-status")).to_have_text("Menunggu persetujuan penilai")
    screenshot(page, "peers-proposed")

    page.context.clear_cookies()
    login(page, live.url, KASI_A)
    page.goto(f"{live.url}/rekan")
    page.get_by_role("link", name="Tinjau dan setujui").click()
    expect(page.get_by_label("Dewi Lestari")).to_be_checked()
    page.get_by_label("Andi Pratama").uncheck()
    page.get_by_label("Maya Sari").check()
    page.get_by_role("button", name="Setujui dan kirim permintaan").click()
    expect(page.locator("#proposal-status")).to_have_text("Disetujui")
    screenshot(page, "peers-approved")
    live.settle()

    page.context.clear_cookies()
    login(page, live.url, STAFF_B[1])
    page.goto(f"{live.url}/inbox")
    expect(page.get_by_text("Permintaan umpan balik rekan untuk Rina Wati").first).to_be_visible()
    page.goto(f"{live.url}/rekan")
    page.get_by_role("link", name="Beri umpan balik").click()
    page.locator("#f-kolaboratif").select_option("above")
    page.get_by_role("button", name="Kirim umpan balik").click()
    expect(page.locator("#e-harmonis")).to_have_text("Pilih penilaian untuk nilai ini.")
    screenshot(page, "peers-answer-errors")
    for code in VALUES:
        if code != "kolaboratif":
            page.locator(f"#f-{code}").select_option("meets")
    page.locator("#f-comment").fill("Selalu sigap membantu rekan satu tim.")
    page.get_by_role("button", name="Kirim umpan balik").click()
    expect(page.get_by_text("Terima kasih, umpan balik Anda untuk Rina Wati terkirim.")).to_be_visible()
    screenshot(page, "peers-answered")
    summary = team.api("GET", f"/evaluations/{ev['id']}/peer-feedback", KASI_A).get_json()
    assert summary["nominated"] == 3 and summary["answered"] == 1 and summary["aggregate"] is None
