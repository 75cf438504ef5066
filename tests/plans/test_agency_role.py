"""A machine client of an agency (role ``agency``, no NIP) reads what its scopes open (issue 16): the
directory with ``directory:read``, the cycles with ``plans:read`` or ``results:read``, SKP plans (their
versions and realisations) with ``plans:read``. Coverage, evidence files, continuous feedback and
daily logs no scope opens. Every refusal is 403 problem+json ``auth.scope_missing`` naming the
scopes that would open it and nothing of the data, while HR of the same agency reads every one of
them (issue 14, defect 4)."""

from __future__ import annotations

import io

import pytest

from tests.plans.support import API, KASI_A, STAFF_A, problem

SCOPES = ("directory:read", "plans:read", "results:read", "surveys:read", "surveys:responses:write", "webhooks:manage")

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


PERSON_LEVEL = [  # what, path, the scope that opens it to a machine client (None: no scope does)
    ("plans list", "/plans", "plans:read"),
    ("plans list of one person", "/plans?employee_nip={nip}", "plans:read"),
    ("plan", "/plans/{plan}", "plans:read"),
    ("plan versions", "/plans/{plan}/versions", "plans:read"),
    ("plan version", "/plans/{plan}/versions/1", "plans:read"),
    ("plan coverage", "/plans/{plan}/coverage", None),
    ("realisations with evidence metadata", "/plans/{plan}/realisations", "plans:read"),
    ("evidence file", "/evidence/{evidence}", None),
    ("continuous feedback", "/plans/{plan}/feedback", None),
    ("daily logs of a person", "/daily-logs?employee_nip={nip}", None),
    ("daily logs", "/daily-logs", None),
]


def machine(org, *scopes: str, agency: str = "PKMB") -> dict:
    return org.tokens.headers("agency", agency=agency, sub="bkd-sync", scope=" ".join(scopes) or None)


@pytest.mark.parametrize(("what", "path", "opener"), PERSON_LEVEL, ids=[w for w, _, _ in PERSON_LEVEL])
def test_a_persons_records_open_to_a_machine_client_only_with_plans_read(org, records, what, path, opener):
    url = path.format(**records)
    assert org.get(url, org.hr).status_code == 200, what  # HR of the agency reads it
    others = [s for s in SCOPES if s != opener]  # every scope but the one that opens it
    for client in (machine(org), machine(org, *others)):
        r = org.get(url, client)
        body = problem(r, 403, "auth.scope_missing")
        assert body["scopes"] == ([opener] if opener else []), (what, body)
        text = r.get_data(as_text=True)
        for secret in (*SECRET_TEXTS, records["nip"], "Rina"):
            assert secret not in text, (what, secret)
        assert set(body) == {
            "type",
            "title",
            "status",
            "detail",
            "code",
            "instance",
            "request_id",
            "scopes",
            "required",
        }
    if opener:
        r = org.get(url, machine(org, opener))
        assert r.status_code == 200, (what, r.get_json())
        other = org.get(url, machine(org, opener, agency="OTHER"))  # another agency's client: never PKMB's
        assert other.status_code in (200, 404) and records["nip"] not in other.get_data(as_text=True), what


def test_the_agency_role_reads_the_directory_and_the_cycles_with_their_scopes(org, records):
    client = machine(org, "directory:read")
    r = org.get("/employees?limit=200", client)
    assert r.status_code == 200 and len(r.get_json()["items"]) == len(org.ALL)
    r = org.get(f"/employees/{STAFF_A[0]}", client)
    assert r.status_code == 200 and r.get_json()["nip"] == STAFF_A[0]
    assert org.get("/units", client).status_code == 200
    assert org.get("/acting", client).status_code == 200
    for scope in ("plans:read", "results:read"):  # a TPP system filters the results feed by cycle
        client = machine(org, scope)
        assert org.get(f"/cycles/{org.cycle_id}", client).status_code == 200
        assert [c["id"] for c in org.get("/cycles", client).get_json()["items"]] == [org.cycle_id]
    body = problem(org.get("/cycles", machine(org, "directory:read")), 403, "auth.scope_missing")
    assert body["scopes"] == ["plans:read", "results:read"]
    body = problem(org.get("/employees", machine(org, "plans:read")), 403, "auth.scope_missing")
    assert body["scopes"] == ["directory:read"]
    # ... but not another agency's employee, and writes stay HR's
    problem(org.get(f"/employees/{org.OTHER_EMP}", machine(org, "directory:read")), 404)
    r = org.post("/units", machine(org, *SCOPES), {"code": "X1", "name": "Unit X"})
    assert problem(r, 403, "auth.scope_missing")["scopes"] == []
