"""Printing the SKP from the portal (issue 15, Deliver 4): "Cetak SKP (PDF)" on the employee's plan
page, on the supervisor's view of it and on a kept version; the portal streams the plans service's
PDF with the signed-in user's token and language, and refuses whoever may not read the plan."""

from __future__ import annotations

import io

import pypdf

from tests.plans.support import API, HEAD, KASI_A, KASI_B, STAFF_A
from tests.portal.support import text


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join((p.extract_text() or "").split()) for p in pypdf.PdfReader(io.BytesIO(data)).pages)


def approved(org) -> dict:
    kasi = org.cascade(org.head_plan(), KASI_A, approver=HEAD)
    return org.cascade(kasi, STAFF_A[0], approver=KASI_A)


def api_pdf(org, plan_id: int, query: str = "") -> bytes:
    r = org.client.get(f"{API}/plans/{plan_id}/skp.pdf{query}", headers=org.as_(STAFF_A[0]))
    assert r.status_code == 200
    return r.data


def test_the_employee_prints_the_approved_skp_from_the_plan_page(stack):
    plan = approved(stack.org)
    b = stack.browser()
    b.login(STAFF_A[0])
    page = text(b.get(f"/skp/{plan['id']}"))
    assert f'href="/skp/{plan["id"]}/cetak.pdf"' in page and "Cetak SKP (PDF)" in page
    r = b.get(f"/skp/{plan['id']}/cetak.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    assert "no-store" in r.headers["Cache-Control"]
    assert r.data == api_pdf(stack.org, plan["id"])  # passed on as the service made it
    words = pdf_text(r.data)
    assert "SASARAN KINERJA PEGAWAI" in words and "Rina Wati" in words and "Disetujui pada" in words
    english = b.get(f"/skp/{plan['id']}/cetak.pdf?lang=en")
    assert "EMPLOYEE PERFORMANCE PLAN" in pdf_text(english.data)


def test_the_supervisor_prints_a_subordinates_skp_and_a_kept_version(stack):
    plan = approved(stack.org)
    b = stack.browser()
    b.login(KASI_A)
    page = text(b.get(f"/tim/skp/{plan['id']}"))
    assert f'href="/skp/{plan["id"]}/cetak.pdf"' in page
    r = b.get(f"/skp/{plan['id']}/cetak.pdf")
    assert r.mimetype == "application/pdf" and "Rina Wati" in pdf_text(r.data)
    version_page = text(b.get(f"/skp/{plan['id']}/versi/1"))
    assert f'href="/skp/{plan["id"]}/cetak.pdf?versi=1"' in version_page
    kept = b.get(f"/skp/{plan['id']}/cetak.pdf?versi=1")
    assert kept.data == api_pdf(stack.org, plan["id"], "?version=1")


def test_a_draft_prints_marked_and_others_are_refused(stack):
    plan = approved(stack.org)
    head = stack.org.get(f"/plans?employee_nip={HEAD}", stack.org.as_(HEAD)).get_json()["items"][0]
    b = stack.browser()
    b.login(HEAD)
    assert "DRAF" in pdf_text(b.get(f"/skp/{head['id']}/cetak.pdf").data)
    for outsider in (STAFF_A[1], KASI_B):
        o = stack.browser()
        o.login(outsider)
        r = o.get(f"/skp/{plan['id']}/cetak.pdf")
        assert r.status_code == 403 and r.mimetype == "text/html" and not r.data.startswith(b"%PDF")
    anonymous = stack.browser().get(f"/skp/{plan['id']}/cetak.pdf", follow_redirects=False)
    assert anonymous.status_code in (302, 303) and not anonymous.data.startswith(b"%PDF")
