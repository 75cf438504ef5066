"""Evidence review reaches the employee (issue 15): the penilai's review in plans publishes
``plans.evidence.reviewed``; the default rule turns it into a message in the employee's inbox, in
their language, naming the file and — when another file is asked for — the penilai's note."""

from __future__ import annotations

import io

from tests.plans.support import API, HEAD, KASI_A, KASI_B, STAFF_A

RINA = STAFF_A[0]
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def test_the_employee_is_told_when_a_file_is_accepted_or_another_is_asked_for(notif, org):
    hp, ka, sa = org.team_a()
    org.advance_to("monitoring:1:check_in")
    iki_id = sa["rhk"][0]["iki"][0]["id"]
    rec = org.post(f"/plans/{sa['id']}/realisations", org.as_(RINA), {"iki_id": iki_id, "period_seq": 1, "value": 2})
    r = org.client.post(
        f"{API}/plans/{sa['id']}/realisations/{rec.get_json()['id']}/evidence",
        headers=org.as_(RINA),
        data={"file": (io.BytesIO(PDF), "laporan-jan.pdf", "application/pdf")},
        content_type="multipart/form-data",
    )
    ev = r.get_json()
    note = "Lampirkan laporan yang sudah ditandatangani kepala seksi."
    r = org.post(f"/evidence/{ev['id']}/review", org.as_(KASI_A), {"status": "needs_replacement", "note": note})
    assert r.status_code == 200, r.get_json()
    notif.pump()
    (msg,) = [i for i in notif.inbox(org.as_(RINA)) if i["template"] == "evidence.reviewed"]
    assert msg["title"] == "Bukti dukung laporan-jan.pdf perlu diganti"
    assert note in msg["body"] and "Siti Aminah" in msg["body"]
    assert not [i for i in notif.inbox(org.as_(KASI_A)) if i["template"] == "evidence.reviewed"]
    assert not [i for i in notif.inbox(org.as_(HEAD)) if i["template"] == "evidence.reviewed"]

    assert org.post(f"/evidence/{ev['id']}/review", org.as_(KASI_A), {"status": "accepted"}).status_code == 200
    notif.pump()
    titles = [i["title"] for i in notif.inbox(org.as_(RINA)) if i["template"] == "evidence.reviewed"]
    assert sorted(titles) == ["Bukti dukung laporan-jan.pdf diterima", "Bukti dukung laporan-jan.pdf perlu diganti"]


def test_the_message_is_in_the_employees_language(notif, org):
    # Agus (kasi B) reads English; his penilai is the head
    env = notif.publish(
        "plans.evidence.reviewed",
        {
            "evidence_id": 9,
            "realisation_id": 3,
            "plan_id": 2,
            "cycle_id": 1,
            "agency_code": "PKMB",
            "employee_nip": KASI_B,
            "penilai_nip": HEAD,
            "iki_id": "x",
            "period_seq": 1,
            "filename": "foto.png",
            "status": "needs_replacement",
            "note": "Foto buram.",
        },
    )
    (msg,) = [i for i in notif.inbox(org.as_(KASI_B)) if i["template"] == "evidence.reviewed"]
    assert msg["title"] == "Evidence foto.png needs replacing"
    assert "Budi Santoso asked for another evidence file" in msg["body"] and "Foto buram." in msg["body"]
    assert env["type"] == "plans.evidence.reviewed"
