"""Issue 15, bug 1: the SKP form and an IKI's link to a service unit's satisfaction index (IKM,
``satisfaction_unit_code``): saving the form keeps the link, the employee can set and clear it
from the agency's units, and a code the form did not offer is refused beside the field with
nothing saved."""

from __future__ import annotations

import html
import re

from tests.plans.support import HEAD, KASI_A, STAFF_A, iki, rhk
from tests.portal.support import text

FIELD = "rhk-0-iki-{}-satisfaction_unit_code"


def browser_form(page: str) -> dict[str, str]:
    """What a browser would send for the SKP form as shown: every input's value, every textarea's
    text and every select's selected option (the first one when none is selected); no button."""
    form = page[page.index('class="skp-form"') :]
    data = {
        m.group(1): html.unescape(m.group(2)) for m in re.finditer(r'<input[^>]*name="([^"]+)" value="([^"]*)"', form)
    }
    for m in re.finditer(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        data[m.group(1)] = html.unescape(m.group(2))
    for m in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        options = re.findall(r'<option value="([^"]*)"( selected)?>', m.group(2))
        chosen = [v for v, sel in options if sel] or [options[0][0]]
        data[m.group(1)] = html.unescape(chosen[0])
    return data


def selected(page: str, name: str) -> str | None:
    m = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)
    assert m, name
    chosen = re.search(r'<option value="([^"]*)" selected>', m.group(1))
    return chosen.group(1) if chosen else ""


def mapped_plan(org) -> dict:
    """Staff A[0]'s draft SKP whose first IKI takes its realisation from SEK-A's IKM (set through the API)."""
    ka = org.cascade(org.head_plan(), KASI_A, approver=HEAD)
    plan = org.create_plan(
        STAFF_A[0],
        [
            rhk(
                "Meningkatnya kepuasan pengguna layanan seksi",
                parent=ka["rhk"][0]["id"],
                ikis=[
                    iki("kualitas", 80, "nilai IKM", indicator="IKM seksi", satisfaction_unit_code="SEK-A"),
                    iki("kuantitas", 12, "laporan"),
                ],
            )
        ],
    )
    assert [k["satisfaction_unit_code"] for k in plan["rhk"][0]["iki"]] == ["SEK-A", None]
    return plan


def codes(org, plan_id: int) -> list:
    return [k["satisfaction_unit_code"] for k in org.plan(plan_id)["rhk"][0]["iki"]]


def test_saving_the_form_keeps_the_link_and_the_employee_can_set_and_clear_it(stack):
    org = stack.org
    plan = mapped_plan(org)
    b = stack.browser()
    b.login(STAFF_A[0])
    page = text(b.get(f"/skp/{plan['id']}/edit"))
    assert selected(page, FIELD.format(0)) == "SEK-A" and selected(page, FIELD.format(1)) == ""
    assert "Seksi Pelaksanaan (SEK-B)" in page and "Biro Umum" not in page  # only my agency's units
    data = browser_form(page) | {"rhk-0-description": "Meningkatnya kepuasan pengguna layanan seksi (diperbaiki)"}
    resp = b.post(f"/skp/{plan['id']}/edit", data)
    assert "Draf SKP tersimpan." in text(resp) and "Realisasi dari IKM SEK-A" in text(resp)
    assert codes(org, plan["id"]) == ["SEK-A", None]  # the save did not erase the link

    page = text(b.get(f"/skp/{plan['id']}/edit"))
    data = browser_form(page) | {FIELD.format(0): "", FIELD.format(1): "SEK-B"}
    assert "Draf SKP tersimpan." in text(b.post(f"/skp/{plan['id']}/edit", data))
    assert codes(org, plan["id"]) == [None, "SEK-B"]


def test_a_code_that_is_no_longer_a_unit_is_kept_too(stack):
    """A link the API stored to a code that is not (or no longer) one of the agency's units is shown
    and kept: saving the form never drops what it did not offer."""
    org = stack.org
    plan = mapped_plan(org)
    data = org.plan(plan["id"], STAFF_A[0])
    r = org.get(f"/plans/{plan['id']}", org.as_(STAFF_A[0]))
    body = {k: data[k] for k in ("approach", "rhk", "behaviour", "annex")}
    body["rhk"][0]["iki"][0]["satisfaction_unit_code"] = "PKM-LAMA"
    r = org.put(f"/plans/{plan['id']}", org.as_(STAFF_A[0]) | {"If-Match": r.headers["ETag"]}, body)
    assert r.status_code == 200, r.get_json()
    b = stack.browser()
    b.login(STAFF_A[0])
    page = text(b.get(f"/skp/{plan['id']}/edit"))
    assert selected(page, FIELD.format(0)) == "PKM-LAMA"
    assert "Draf SKP tersimpan." in text(b.post(f"/skp/{plan['id']}/edit", browser_form(page)))
    assert codes(org, plan["id"]) == ["PKM-LAMA", None]


def test_a_unit_not_offered_is_refused_beside_the_field_and_nothing_is_saved(stack):
    org = stack.org
    plan = mapped_plan(org)
    b = stack.browser()
    b.login(STAFF_A[0])
    page = text(b.get(f"/skp/{plan['id']}/edit"))
    before = org.plan(plan["id"])
    for bad in ("TIDAK-ADA", "BIRO"):  # no such unit; another agency's unit
        data = browser_form(page) | {FIELD.format(1): bad, "rhk-0-description": "Tidak boleh tersimpan"}
        resp = b.post(f"/skp/{plan['id']}/edit", data)
        assert resp.status_code == 422
        shown = text(resp)
        assert f'<p class="err" id="e-{FIELD.format(1)}">Pilih unit layanan dari daftar.</p>' in shown
        assert re.search(rf'id="f-{FIELD.format(1)}"[^>]*aria-invalid="true"', shown)
        assert org.plan(plan["id"]) == before


def test_a_new_skp_can_take_an_iki_from_a_units_ikm_in_english_too(stack):
    org = stack.org
    ka = org.cascade(org.head_plan(), KASI_A, approver=HEAD)
    b = stack.browser()
    b.login(STAFF_A[1])
    page = text(b.get(f"/skp/new?cycle_id={org.cycle_id}&lang=en"))
    assert "Realisation from a service unit&#39;s IKM" in page and "— not from a survey —" in page
    data = browser_form(page) | {
        "rhk-0-description": "Meningkatnya kepuasan layanan",
        "rhk-0-parent": ka["rhk"][0]["id"],
        "rhk-0-iki-0-indicator": "IKM seksi",
        "rhk-0-iki-0-target_value": "80",
        "rhk-0-iki-0-target_unit": "nilai",
        FIELD.format(0): "SEK-A",
    }
    resp = b.post(f"/skp/new?cycle_id={org.cycle_id}", data)
    assert resp.status_code == 200, errors_shown(text(resp))
    (mine,) = org.get(f"/plans?employee_nip={STAFF_A[1]}", org.as_(STAFF_A[1])).get_json()["items"]
    assert codes(org, mine["id"]) == ["SEK-A"]


def errors_shown(page: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in re.finditer(r'<p class="err" id="e-([^"]+)">([^<]*)</p>', page)}
