"""Issue 15, bug 8: HR of one agency registering a NIP that another agency's directory holds is
refused (a NIP belongs to one agency), and the refusal tells nothing of that person: not that the
NIP is registered elsewhere, not where, not who — in both languages, through the employee API and
the CSV import alike. It only asks to check the NIP and to contact the administrator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.plans.support import KASI_B, STAFF_A, field_errors, new_employee, problem

MESSAGES = Path(__file__).resolve().parents[2] / "services" / "plans" / "messages"
# what the refusal must not say: that the NIP exists elsewhere, or anything of the person or agency
TELLS = ("instansi lain", "another agency", "terdaftar pada", "registered with", "PKMB", "Rina Wati", "Agus Salim")


def _said(body: dict) -> str:
    """Everything a refusal says to a person (its texts), without the per-request members."""
    return json.dumps({k: v for k, v in body.items() if k not in ("instance", "request_id")}, ensure_ascii=False)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_nip_of_another_agency_is_refused_without_revealing_it(org, lang):
    before = org.counts()
    headers = org.other_hr | {"Accept-Language": lang}
    answers = []
    for nip, name in ((STAFF_A[0], "Rina Wati"), (KASI_B, "Agus Salim")):
        body = problem(
            org.post("/employees", headers, new_employee(nip=nip, name=name, unit_code="BIRO", superior_nip=None)), 422
        )
        assert field_errors(body) == {"nip": "employee.nip_unavailable"}
        said = _said(body)
        assert not [w for w in TELLS if w.lower() in said.lower()], said
        (error,) = body["errors"]
        assert ("admin Kinerja" if lang == "id" else "Kinerja administrator") in error["detail"]
        answers.append(said)
    assert answers[0] == answers[1]  # the same answer whoever the NIP belongs to: nothing personal in it

    csv = f"nip,name,position,unit_code\n{STAFF_A[0]},Dibajak,Analis,BIRO\n"
    report = org.import_csv("employees", csv, headers, dry_run=True)  # the dry run reports each row's errors
    assert report.status_code == 200 and [(e["row"], e["field"], e["code"]) for e in report.get_json()["errors"]] == [
        (2, "nip", "employee.nip_unavailable")
    ]
    body = problem(org.import_csv("employees", csv, headers), 422)
    assert field_errors(body) == {"rows[2].nip": "employee.nip_unavailable"}
    for said in (_said(report.get_json()), _said(body)):
        assert not [w for w in TELLS if w.lower() in said.lower()], said
    assert org.counts() == before  # nothing saved
    assert org.get(f"/employees/{STAFF_A[0]}", org.hr).get_json()["agency_code"] == "PKMB"


def test_the_catalogues_carry_the_new_text_and_not_the_old_one():
    for lang in ("id", "en"):
        messages = json.loads((MESSAGES / f"{lang}.json").read_text(encoding="utf-8"))
        assert "employee.nip_unavailable" in messages and "employee.other_agency" not in messages
