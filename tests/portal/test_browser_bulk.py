"""In a real browser: a supervisor approves several SKPs at once — ticks them, reads the confirmation
naming each person, approves, and reads the result per person; HR downloads the plans as Excel."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from tests.plans.support import HEAD, KASI_A, STAFF_A
from tests.portal.browser import login, screenshot

pytestmark = pytest.mark.browser


def test_a_supervisor_bulk_approves_after_a_confirmation_and_hr_downloads_the_plans(live, page, tmp_path):
    org = live.org
    ka = org.cascade(org.head_plan(), KASI_A, approver=HEAD)
    plans = {nip: org.cascade(ka, nip) for nip in STAFF_A}
    for nip, p in plans.items():
        assert org.submit(p["id"], nip).status_code == 200
    login(page, live.url, KASI_A)
    page.goto(f"{live.url}/tim")
    page.get_by_role("link", name="Setujui beberapa SKP sekaligus").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Setujui SKP sekaligus"
    page.get_by_label("Joko Widodo").uncheck()  # not this one yet
    page.get_by_role("button", name="Lanjut ke konfirmasi").click()
    page.wait_for_load_state()
    listed = page.locator("#confirm-list li").all_inner_texts()
    assert len(listed) == 2 and "Rina Wati" in listed[0] + listed[1] and "Dewi Lestari" in listed[0] + listed[1]
    screenshot(page, "bulk-1-confirmation")
    page.get_by_role("button", name="Setujui 2 SKP").click()
    page.wait_for_load_state()
    assert page.get_by_text("2 berhasil, 0 ditolak.").is_visible()
    assert page.locator("#bulk-results tr.ok").count() == 2
    screenshot(page, "bulk-2-result")
    statuses = {nip: org.plan(p["id"])["status"] for nip, p in plans.items()}
    assert statuses == {STAFF_A[0]: "approved", STAFF_A[1]: "approved", STAFF_A[2]: "submitted"}
    # HR downloads the plans of seksi A as a workbook
    page.get_by_role("button", name="Keluar").click()
    page.wait_for_load_state()
    login(page, live.url, "hr:PKMB")
    page.goto(f"{live.url}/hr/ekspor?cycle_id={org.cycle_id}&unit_code=SEK-A")
    with page.expect_download() as info:
        page.get_by_role("link", name="Rencana SKP (RHK, IKI, target)").click()
    path = tmp_path / "plans.xlsx"
    info.value.save_as(path)
    ws = load_workbook(path)["Rencana SKP"]
    names = {row[1] for row in ws.iter_rows(min_row=2, values_only=True)}
    assert names == {"Siti Aminah", "Rina Wati", "Dewi Lestari", "Joko Widodo"}
    screenshot(page, "bulk-3-hr-exports")
