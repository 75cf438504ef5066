"""In a real browser at a phone's size: a citizen opens the published survey results of their city
(PermenPANRB 14/2017) — the agency's list, then one unit's page with its IKM, mutu, the NRR of each
unsur, respondents against the minimum sample and the follow-up — without signing in, in Bahasa
Indonesia and in English; a survey still running has no results page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.portal.browser import screenshot

pytestmark = pytest.mark.browser

S = "/surveys/api/v1"
FOLLOW_UP = "Loket izin galian dibuka juga hari Sabtu mulai Juni 2026; petugas dilatih layanan prima."


def _campaign(live, title: str, answers: list[dict], close: bool) -> dict:
    client, hr = live.org.client, live.org.hr
    body = {
        "unit_code": "SEK-B",
        "service_type": "Pelayanan izin galian jalan",
        "title": title,
        "start_date": "2026-01-01",
        "end_date": "2026-03-31",
        "population": 200,
    }
    r = client.post(f"{S}/campaigns", headers=hr, json=body)
    assert r.status_code == 201, r.get_json()
    c = r.get_json()
    assert client.post(f"{S}/campaigns/{c['id']}/open", headers=hr).status_code == 200
    r = client.post(f"{S}/campaigns/{c['id']}/responses:batch", headers=hr, json=answers)
    assert r.status_code == 201, r.get_json()
    if close:
        assert client.post(f"{S}/campaigns/{c['id']}/close", headers=hr).status_code == 200
        etag = client.get(f"{S}/campaigns/{c['id']}", headers=hr).headers["ETag"]
        r = client.patch(f"{S}/campaigns/{c['id']}", headers={**hr, "If-Match": etag}, json={"follow_up": FOLLOW_UP})
        assert r.status_code == 200, r.get_json()
    return c


def test_a_citizen_opens_the_public_results_on_a_phone(live, phone):
    units = ("U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "U9")
    # 40 respondents: every unsur 4 from half, 3 from the other half, but waiting time (U3) 2: IKM 86.11 (B)
    answers = [
        {"answers": {u: (4 if i % 2 else (2 if u == "U3" else 3)) for u in units}, "suggestion": "Petugas Andi lambat"}
        for i in range(40)
    ]
    closed = _campaign(live, "SKM Izin Galian Triwulan I 2026", answers, close=True)
    running = _campaign(live, "SKM Izin Galian Berjalan", answers[:3], close=False)
    live.settle()

    phone.goto(f"{live.url}/surveys/results/PKMB")
    assert phone.get_by_role("heading", level=1).inner_text() == "Hasil Survei Kepuasan Masyarakat — PKMB"
    assert phone.get_by_text("SKM Izin Galian Berjalan").count() == 0  # still running: not published
    item = phone.get_by_role("link", name="SKM Izin Galian Triwulan I 2026")
    box = item.bounding_box()
    assert box["width"] >= 300 and box["height"] >= 44  # a finger-sized target across the screen
    screenshot(phone, "survey-results-phone-list")
    item.click()

    assert phone.get_by_role("heading", level=1).inner_text() == "SKM Izin Galian Triwulan I 2026"
    index = phone.locator("#index")
    expect(index).to_contain_text("86,11")
    expect(index).to_contain_text("B")
    expect(index).to_contain_text("Baik")
    bars = phone.locator("#unsur li")
    assert bars.count() == 9
    assert "U3 Waktu penyelesaian" in bars.nth(2).inner_text() and "3,00" in bars.nth(2).inner_text()
    assert "priority" in (bars.nth(2).get_attribute("class") or "")
    expect(phone.locator("#sample")).to_contain_text("40")
    expect(phone.locator("#sample")).to_contain_text("132")  # Krejcie–Morgan for 200 service users
    expect(phone.locator("#sample")).to_contain_text("Sampel minimum belum tercapai (kurang 92)")
    expect(phone.locator("#follow-up")).to_have_text(FOLLOW_UP)
    assert phone.get_by_text("Petugas Andi").count() == 0  # no respondent's words on a public page
    # nothing wider than the phone: no sideways scrolling
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "survey-results-phone")

    phone.get_by_role("link", name="English").click()
    assert phone.get_by_role("heading", level=1).inner_text() == "SKM Izin Galian Triwulan I 2026"
    expect(phone.locator("#index")).to_contain_text("86.11")
    expect(phone.get_by_role("heading", name="Follow-up")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "survey-results-phone-en")

    # the running survey's results page does not exist yet
    r = phone.goto(f"{live.url}/surveys/results/PKMB/{running['id']}")
    assert r.status == 404
    assert phone.get_by_role("heading", level=1).inner_text() == "Hasil survei tidak ditemukan"
    assert closed["id"] != running["id"]
