"""The printable SKP (issue 15, Deliver 4): ``GET /plans/{id}/skp.pdf`` prints what the form offices
sign shows — the parties, each RHK beside the superior's RHK it intervenes with its IKI and targets, the
BerAKHLAK expectations, the lampiran — dated and signed when approved, marked DRAF when not, the same
bytes on every download of one version, and only for those who may read the plan."""

from __future__ import annotations

import io
from datetime import datetime

import pypdf
import pytest

from tests.plans.support import API, HEAD, KASI_A, KASI_B, OTHER_EMP, STAFF_A, content, iki, rhk

ANNEX = {
    "resources": "Laptop, akses aplikasi SIPD dan kendaraan dinas untuk survei lapangan.",
    "accountability": "Laporan bulanan kepada Kepala Seksi Perencanaan.",
    "consequences": "Predikat kinerja menjadi dasar tunjangan kinerja.",
}


def text_of(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def pdf_of(org, plan_id: int, headers: dict, query: str = "") -> bytes:
    r = org.client.get(f"{API}/plans/{plan_id}/skp.pdf{query}", headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    assert r.mimetype == "application/pdf"
    assert r.data.startswith(b"%PDF")
    return r.data


@pytest.fixture
def printed(org):
    """Kasi A's plan approved by the head; staff A[0]'s, with its lampiran, approved by kasi A."""
    hp = org.head_plan()
    ka = org.cascade(hp, KASI_A, approver=HEAD)
    body = content(
        [
            rhk(
                "Tersusunnya dokumen perencanaan jalan desa",
                parent=ka["rhk"][0]["id"],
                ikis=[iki("kuantitas", 4, "dokumen", indicator="Jumlah dokumen perencanaan"), iki("kualitas", 95, "%")],
            ),
            rhk(
                "Terselenggaranya rapat koordinasi",
                kind="tambahan",
                parent=ka["rhk"][0]["id"],
                ikis=[iki("waktu", 12, "bulan", indicator="Rapat koordinasi tepat waktu")],
            ),
        ]
    ) | {"annex": ANNEX}
    r = org.post("/plans", org.as_(STAFF_A[0]), body | {"cycle_id": org.cycle_id})
    assert r.status_code == 201, r.get_json()
    plan = r.get_json()
    assert org.submit(plan["id"], STAFF_A[0]).status_code == 200
    assert org.approve(plan["id"], KASI_A).status_code == 200
    return hp, ka, org.plan(plan["id"], STAFF_A[0])


def test_the_approved_skp_prints_every_part_of_the_form_signed(org, printed):
    _, ka, plan = printed
    text = text_of(pdf_of(org, plan["id"], org.as_(STAFF_A[0])))
    for expected in (
        "SASARAN KINERJA PEGAWAI",
        "Rina Wati",  # the employee
        "Siti Aminah",  # the pejabat penilai
        "Analis Perencanaan",
        "Tersusunnya dokumen perencanaan jalan desa",  # RHK
        ka["rhk"][0]["description"][:30],  # the superior's RHK it intervenes (the cascade)
        "Jumlah dokumen perencanaan",  # IKI
        "4 dokumen",  # its target
        "95 %",
        "A. UTAMA",
        "B. TAMBAHAN",
        "BERORIENTASI PELAYANAN",
        "Ekspektasi berorientasi pelayanan",  # the ekspektasi khusus pimpinan
        "Ekspektasi kolaboratif",
        "LAMPIRAN SASARAN KINERJA PEGAWAI",
        ANNEX["resources"][:40],
        ANNEX["accountability"][:40],
        ANNEX["consequences"][:40],
        "Disetujui pada",
        "Pegawai yang Dinilai",
        "Pejabat Penilai Kinerja",
    ):
        assert expected in text, expected
    assert "DRAF" not in text


def test_the_same_version_gives_the_same_bytes(org, printed):
    _, _, plan = printed
    first = pdf_of(org, plan["id"], org.as_(STAFF_A[0]))
    org.clock.advance(days=3)  # the clock does not date the file: the approval does
    assert pdf_of(org, plan["id"], org.hr) == first
    assert pdf_of(org, plan["id"], org.as_(STAFF_A[0]), "?version=1") == first
    # dated by the approval, not by the machine's clock (two downloads in one second would hide that)
    created = pypdf.PdfReader(io.BytesIO(first)).metadata.creation_date
    approved = datetime.fromisoformat(plan["approved_at"].replace("Z", "+00:00"))
    assert created == approved.replace(microsecond=0)


def test_a_draft_is_marked_and_unsigned(org, printed):
    hp, _, _ = printed
    text = text_of(pdf_of(org, hp["id"], org.as_(HEAD)))
    assert "DRAF" in text and "belum disetujui" in text.lower()
    assert "Disetujui pada" not in text
    assert "Sasaran PK 1: jalan mantap 90%" in text  # a head of unit's cascade: the unit's performance agreement


def test_english(org, printed):
    _, _, plan = printed
    text = text_of(pdf_of(org, plan["id"], org.as_(STAFF_A[0]), "?lang=en"))
    assert "EMPLOYEE PERFORMANCE PLAN" in text and "Approved on" in text and "ANNEX" in text
    assert "SASARAN KINERJA PEGAWAI" not in text


def test_a_kept_version_prints_as_approved_while_the_revision_is_a_draft(org, printed):
    _, _, plan = printed
    org.advance_to("monitoring:1:check_in")
    r = org.post(f"/plans/{plan['id']}/revise", org.as_(STAFF_A[0]))
    assert r.status_code == 200, r.get_json()
    live = org.plan(plan["id"], STAFF_A[0])
    body = {k: live[k] for k in ("approach", "rhk", "behaviour", "annex")}
    body["rhk"][0]["description"] = "Tersusunnya dokumen perencanaan jalan desa yang direvisi"
    etag = org.client.get(f"{API}/plans/{plan['id']}", headers=org.as_(STAFF_A[0])).headers["ETag"]
    r = org.client.put(f"{API}/plans/{plan['id']}", json=body, headers=org.as_(STAFF_A[0]) | {"If-Match": etag})
    assert r.status_code == 200, r.get_json()
    now = text_of(pdf_of(org, plan["id"], org.as_(STAFF_A[0])))
    assert "direvisi" in now and "DRAF" in now
    kept = text_of(pdf_of(org, plan["id"], org.as_(KASI_A), "?version=1"))
    assert "direvisi" not in kept and "Disetujui pada" in kept and "DRAF" not in kept
    r = org.client.get(f"{API}/plans/{plan['id']}/skp.pdf?version=9", headers=org.as_(STAFF_A[0]))
    assert r.status_code == 404 and r.mimetype == "application/problem+json"


def test_only_those_who_read_the_plan_print_it(org, printed, tokens):
    _, _, plan = printed
    url = f"{API}/plans/{plan['id']}/skp.pdf"
    for allowed in (org.as_(STAFF_A[0]), org.as_(KASI_A), org.as_(HEAD), org.hr):
        assert org.client.get(url, headers=allowed).status_code == 200
    for refused in (org.as_(STAFF_A[1]), org.as_(KASI_B), org.other_hr, tokens.employee(OTHER_EMP, agency="OTHER")):
        r = org.client.get(url, headers=refused)
        assert r.status_code == 404 and not r.data.startswith(b"%PDF")
    r = org.client.get(url, headers=tokens.headers("agency"))  # a machine client of the agency
    assert r.status_code == 403 and not r.data.startswith(b"%PDF")
    assert org.client.get(url).status_code == 401


def test_long_texts_and_any_script_never_break_the_print(org):
    long = "Kalimat panjang “dengan” tanda — khusus 日本語 ✓. " * 200
    r = org.post(
        "/plans",
        org.as_(HEAD),
        content([rhk(long, goal=long, ikis=[iki("kuantitas", 1.5, "dokumen", indicator=long)])])
        | {"cycle_id": org.cycle_id, "annex": {"resources": long, "accountability": "", "consequences": ""}},
    )
    assert r.status_code == 201, r.get_json()
    text = text_of(pdf_of(org, r.get_json()["id"], org.as_(HEAD)))
    assert "TEKS LENGKAP" in text and "1,5 dokumen" in text


def test_an_acting_official_who_approved_signs_as_plt(org):
    """Kasi B stands in (Plt) for kasi A and approves staff A[0]'s SKP: the print names who approved."""
    ka = org.cascade(org.head_plan(), KASI_A, approver=HEAD)
    acting = {"acting_nip": KASI_B, "for_nip": KASI_A, "kind": "plt", "start_date": "2026-01-01"}
    r = org.post("/acting", org.hr, acting | {"end_date": "2026-03-31"})
    assert r.status_code == 201, r.get_json()
    plan = org.cascade(ka, STAFF_A[0], approver=KASI_B)
    text = text_of(pdf_of(org, plan["id"], org.as_(STAFF_A[0])))
    assert "Agus Salim" in text and "(Plt/Plh)" in text  # the acting official signs
    assert "Siti Aminah" in text  # the pejabat penilai of record stays in the parties
