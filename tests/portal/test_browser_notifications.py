"""In a real browser: an employee sets quiet hours and the daily digest, first mistyped (the error
beside the field, nothing saved), then right; the settings are what the API keeps."""

from __future__ import annotations

import pytest

from tests.plans.support import STAFF_A
from tests.portal.browser import login, screenshot

pytestmark = pytest.mark.browser


def test_employee_sets_quiet_hours_and_the_digest(live, page):
    login(page, live.url, STAFF_A[0])
    page.get_by_role("link", name="Pengaturan Notifikasi").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Pengaturan notifikasi"
    page.get_by_label("Mulai").fill("24.30")  # no such hour
    page.get_by_label("Selesai").fill("05:30")
    page.get_by_label("Gabungkan e-mail menjadi satu ringkasan per hari").check()
    page.get_by_label("Jam pengiriman ringkasan").fill("7")
    page.get_by_role("button", name="Simpan").click()
    error = page.locator("#e-quiet_start")
    assert error.inner_text().startswith("Isi jam dengan format JJ:MM")
    assert page.get_by_label("Mulai").get_attribute("aria-invalid") == "true"
    screenshot(page, "notifications-preferences-error")
    prefs = _prefs(live)
    assert prefs["quiet_start"] is None and prefs["digest"] is False  # nothing saved

    page.get_by_label("Mulai").fill("22.00")  # written the Indonesian way: kept as 22:00
    page.get_by_role("button", name="Simpan").click()
    assert page.get_by_role("status").inner_text() == "Pengaturan notifikasi disimpan."
    assert page.get_by_label("Mulai").input_value() == "22:00"
    assert page.get_by_label("Gabungkan e-mail menjadi satu ringkasan per hari").is_checked()
    screenshot(page, "notifications-preferences")
    prefs = _prefs(live)
    assert (prefs["quiet_start"], prefs["quiet_end"], prefs["digest"], prefs["digest_hour"]) == (
        "22:00",
        "05:30",
        True,
        7,
    )


def _prefs(live) -> dict:
    r = live.org.client.get("/notifications/api/v1/preferences", headers=live.org.as_(STAFF_A[0]))
    assert r.status_code == 200
    return r.get_json()
