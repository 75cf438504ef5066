"""The grants page for HR (issue 16, Deliver 2): /hr/akses lists the machine clients of other
agencies that may read this agency's data with their state, grants one more (the API's refusals
beside the fields, in Bahasa Indonesia or English, nothing saved) and revokes one only once
confirmed; employees are refused, and another agency's HR sees none of it."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from tests.plans.support import STAFF_A
from tests.portal.support import text

P = "/plans/api/v1"


def login(stack, who: str):
    b = stack.browser()
    b.login(who)
    return b


def errors_of(page: str) -> dict[str, str]:
    return {m[0]: html.unescape(m[1]) for m in re.findall(r'<p class="err" id="e-([^"]+)">([^<]*)</p>', page)}


def grants(stack, headers) -> list[dict]:
    return stack.org.client.get(f"{P}/grants", headers=headers).get_json()["items"]


def day(stack, days: int) -> str:
    return (stack.org.app.extensions["kinerja"].today() + timedelta(days=days)).isoformat()


def test_the_page_in_both_languages_linked_from_the_hr_integration_page_and_refused_to_employees(stack):
    hr = login(stack, "hr:PKMB")
    assert "<h1>Akses lintas instansi</h1>" in text(hr.get("/hr/akses"))
    assert "<h1>Access for other agencies</h1>" in text(hr.get("/hr/akses?lang=en"))
    assert 'href="/hr/akses"' in text(hr.get("/hr/notifikasi"))
    assert login(stack, STAFF_A[0]).get("/hr/akses").status_code == 403


def test_a_bad_grant_is_answered_beside_the_fields_and_nothing_is_saved(stack):
    hr = login(stack, "hr:PKMB")
    form = {"client_id": "prov-sync", "client_agency": "PKMB", "scope": "results:read", "expires_on": day(stack, -1)}
    resp = hr.post("/hr/akses", form)
    assert resp.status_code == 422
    errors = errors_of(text(resp))
    assert "bukan instansi PKMB sendiri" in errors["client_agency"]
    assert "tidak boleh sebelum hari ini" in errors["expires_on"]
    resp = hr.post("/hr/akses?lang=en", form | {"expires_on": day(stack, 900)})
    assert "at most two years" in errors_of(text(resp))["expires_on"]
    assert "prov-sync" in text(resp)  # the form keeps what was typed
    assert "client_id" in errors_of(text(hr.post("/hr/akses", form | {"client_id": ""})))
    assert grants(stack, stack.org.hr) == []


def test_grant_then_revoke_only_once_confirmed(stack):
    hr = login(stack, "hr:PKMB")
    form = {"client_id": "prov-sync", "client_agency": "OTHER", "scope": "results:read", "expires_on": day(stack, 30)}
    resp = hr.post("/hr/akses", form | {"note": "TPP provinsi"})
    page = text(resp)
    assert resp.status_code == 200 and "Akses results:read diberikan kepada prov-sync (OTHER)." in page
    assert "TPP provinsi" in page and "Aktif" in page
    (g,) = grants(stack, stack.org.hr)
    assert "prov-sync" not in text(login(stack, "hr:OTHER").get("/hr/akses"))
    resp = hr.post(f"/hr/akses/{g['id']}/cabut", {})
    assert "Centang konfirmasi" in text(resp)
    assert grants(stack, stack.org.hr)[0]["status"] == "active"
    resp = hr.post(f"/hr/akses/{g['id']}/cabut", {"confirm": "1"})
    assert "dicabut" in text(resp) and "Dicabut" in text(resp)
    assert grants(stack, stack.org.hr)[0]["status"] == "revoked"


def test_every_catalogue_key_of_the_page_exists_in_both_languages():
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "services" / "portal"
    catalogues = {}
    for lang in ("id", "en"):
        merged = {}
        for d in (root / "messages", *sorted(p for p in (root / "messages").iterdir() if p.is_dir())):
            if (d / f"{lang}.json").exists():
                merged |= json.loads((d / f"{lang}.json").read_text(encoding="utf-8"))
        catalogues[lang] = merged
    used = set()
    for path in (root / "pages_hr_akses.py", root / "templates" / "portal" / "hr" / "akses.html"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+(?:\.[a-z_0-9:]+)+)["']""", path.read_text(encoding="utf-8")))
    used |= {f"akses.scope.{s}" for s in ("directory:read", "plans:read", "results:read", "surveys:read")}
    used |= {f"akses.status.{s}" for s in ("active", "expired", "revoked")}
    assert len(used) > 20
    assert not sorted(used - set(catalogues["id"])) and not sorted(used - set(catalogues["en"]))
