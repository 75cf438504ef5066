"""A machine client of an agency (role ``agency``, no NIP) reads the directory and the cycles, never a
person's records: SKP plans, their versions and coverage, realisations, evidence (metadata and
files), continuous feedback and daily logs all answer 403 problem+json naming nothing of the data,
while HR of the same agency reads every one of them (issue 14, defect 4)."""

from __future__ import annotations

import io

import pytest

from tests.plans.support import API, KASI_A, STAFF_A, problem

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SECRET_TEXTS = ("Laporan rapi, pertahankan", "Menyusun laporan rahasia", "bukti-rina.pdf", "Tiga dokumen selesai")


@pytest.fixture
def records(org, team):
    """Staff A[0]'s approved SKP with a realisation, an evidence file, feedback from the kasi and a
    daily log; the ids the table below needs."""
    _hp, _ka, sa = team
    iki_id = sa["rhk"][0]["iki"][0]["id"]
    r = org.post(
        f"/plans/{sa['id']}/realisations",
        org.as_(STAFF_A[0]),
        {"iki_id": iki_id, "period_seq": 1, "value": 3, "note": "Tiga dokumen selesai"},
    )
    assert r.status_code == 201, r.get_json()
    realisation = r.get_json()
    r = org.client.post(
        f"{API}/plans/{sa['id']}/realisations/{realisation['id']}/evidence",
        headers=org.as_(STAFF_A[0]),
        data={"file": (io.BytesIO(PDF), "bukti-rina.pdf", "application/pdf")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.get_json()
    evidence = r.get_json()
    r = org.post(f"/plans/{sa['id']}/feedback", org.as_(KASI_A), {"value_code": "akuntabel", "text": SECRET_TEXTS[0]})
    assert r.status_code == 201, r.get_json()
    r = org.post("/daily-logs", org.as_(STAFF_A[0]), {"date": "2026-01-05", "activity": SECRET_TEXTS[1], "minutes": 60})
    assert r.status_code == 201, r.get_json()
    return {"plan": sa["id"], "evidence": evidence["id"], "nip": STAFF_A[0]}


PERSON_LEVEL = [
    ("plans list", "/plans"),
    ("plans list of one person", "/plans?employee_nip={nip}"),
    ("plan", "/plans/{plan}"),
    ("plan versions", "/plans/{plan}/versions"),
    ("plan version", "/plans/{plan}/versions/1"),
    ("plan coverage", "/plans/{plan}/coverage"),
    ("realisations with evidence metadata", "/plans/{plan}/realisations"),
    ("evidence file", "/evidence/{evidence}"),
    ("continuous feedback", "/plans/{plan}/feedback"),
    ("daily logs of a person", "/daily-logs?employee_nip={nip}"),
    ("daily logs", "/daily-logs"),
]


@pytest.mark.parametrize(("what", "path"), PERSON_LEVEL, ids=[w for w, _ in PERSON_LEVEL])
def test_the_agency_role_reads_no_person_level_record(org, records, what, path):
    url = path.format(**records)
    assert org.get(url, org.hr).status_code == 200, what  # HR of the agency reads it
    client = org.tokens.headers("agency", sub="bkd-sync")  # a machine client of the same agency
    r = org.get(url, client)
    body = problem(r, 403, "auth.person_data")
    text = r.get_data(as_text=True)
    for secret in (*SECRET_TEXTS, records["nip"], "Rina"):
        assert secret not in text, (what, secret)
    assert set(body) == {"type", "title", "status", "detail", "code", "instance", "request_id"}, body


def test_the_agency_role_still_reads_the_directory_and_the_cycles(org, records):
    client = org.tokens.headers("agency", sub="bkd-sync")
    r = org.get("/employees?limit=200", client)
    assert r.status_code == 200 and len(r.get_json()["items"]) == len(org.ALL)
    r = org.get(f"/employees/{STAFF_A[0]}", client)
    assert r.status_code == 200 and r.get_json()["nip"] == STAFF_A[0]
    assert org.get("/units", client).status_code == 200
    assert org.get(f"/cycles/{org.cycle_id}", client).status_code == 200
    assert [c["id"] for c in org.get("/cycles", client).get_json()["items"]] == [org.cycle_id]
    # ... but not another agency's employee, and writes stay HR's
    problem(org.get(f"/employees/{org.OTHER_EMP}", client), 404)
