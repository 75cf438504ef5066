"""HR publishes a closed survey's follow-up from the portal (it appears on the public results page,
linked from the campaign), and a refused follow-up is shown beside its field with nothing saved."""

from __future__ import annotations

import re

from tests.portal.support import text

S = "/surveys/api/v1"
FOLLOW_UP = "Menambah loket pelayanan izin pada hari Sabtu mulai Juni 2026."


def _closed_campaign(stack) -> dict:
    client, hr = stack.org.client, stack.org.hr
    body = {
        "unit_code": "SEK-B",
        "service_type": "Pelayanan izin galian jalan",
        "title": "SKM Izin Galian Q1",
        "start_date": "2026-01-01",
        "end_date": "2026-03-31",
        "population": 200,
    }
    r = client.post(f"{S}/campaigns", headers=hr, json=body)
    assert r.status_code == 201, r.get_json()
    c = r.get_json()
    assert client.post(f"{S}/campaigns/{c['id']}/open", headers=hr).status_code == 200
    answers = [{"answers": {f"U{i}": 3 for i in range(1, 10)}} for _ in range(5)]
    assert client.post(f"{S}/campaigns/{c['id']}/responses:batch", headers=hr, json=answers).status_code == 201
    r = client.post(f"{S}/campaigns/{c['id']}/close", headers=hr)
    assert r.status_code == 200
    return r.get_json()


def test_hr_writes_the_follow_up_and_the_public_page_shows_it(stack):
    c = _closed_campaign(stack)
    b = stack.browser()
    b.login("hr:PKMB")
    page = text(b.get("/hr/survei"))
    assert f'href="/surveys/results/PKMB/{c["id"]}"' in page and "Hasil publik" in page
    assert f'id="f-follow_up-{c["id"]}"' in page
    resp = b.post(f"/hr/survei/{c['id']}/tindak-lanjut", {"follow_up": "x" * 4001})
    assert resp.status_code == 422
    page = text(resp)
    m = re.search(rf'<p class="err" id="e-follow_up-{c["id"]}">([^<]*)</p>', page)
    assert m and m.group(1) == "Tindak lanjut paling banyak 4000 karakter."
    assert re.search(rf'id="f-follow_up-{c["id"]}"[^>]*aria-invalid="true"', page, re.S)
    assert stack.org.client.get(f"{S}/campaigns/{c['id']}", headers=stack.org.hr).get_json()["follow_up"] is None
    resp = b.post(f"/hr/survei/{c['id']}/tindak-lanjut", {"follow_up": f"  {FOLLOW_UP}  "})
    assert resp.status_code == 200 and "Tindak lanjut disimpan" in text(resp)
    assert stack.org.client.get(f"{S}/campaigns/{c['id']}", headers=stack.org.hr).get_json()["follow_up"] == FOLLOW_UP
    public = stack.org.client.get(f"/surveys/results/PKMB/{c['id']}")  # anyone, no login
    assert public.status_code == 200 and FOLLOW_UP in text(public)
    # English
    b.get("/hr/survei?lang=en")
    assert "Public results (no respondent" in text(b.get("/hr/survei"))
