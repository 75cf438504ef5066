"""The penilai writes the ekspektasi khusus pimpinan per BerAKHLAK value of a subordinate's SKP (issue 15,
Deliver 2): audited, refused to anyone else (the employee too), and an employee's later edit of the SKP keeps
the penilai's texts — the employee's form sends the plan back whole, so a changed text is kept, not refused."""

from __future__ import annotations

from tests.plans.support import HEAD, KASI_A, KASI_B, STAFF_A, content, field_errors, problem

TEXT = "Menyerahkan laporan bulanan paling lambat tanggal 5."


def _put(org, plan_id: int, nip: str, behaviour: dict):
    etag = org.get(f"/plans/{plan_id}", org.hr).headers["ETag"]  # a stranger's ETag, as if guessed
    return org.put(f"/plans/{plan_id}/behaviour", org.as_(nip) | {"If-Match": etag}, {"behaviour": behaviour})


def test_the_penilai_writes_the_expectations_and_the_employee_keeps_them(org):
    hp = org.head_plan()
    ka = org.cascade(hp, KASI_A, approver=HEAD)
    sa = org.cascade(ka, STAFF_A[0])  # a draft: its penilai is kasi A
    pid = sa["id"]
    # neither the employee, nor a kasi of another seksi writes the leader's expectations
    problem(_put(org, pid, STAFF_A[0], {"akuntabel": "Saya sendiri."}), 403, "plan.only_penilai")
    assert _put(org, pid, KASI_B, {"akuntabel": TEXT}).status_code in (403, 404)
    body = problem(_put(org, pid, KASI_A, {"jujur": TEXT}), 422, "validation")
    assert field_errors(body) == {"behaviour.jujur": "behaviour.unknown_value"}
    r = _put(org, pid, KASI_A, {"akuntabel": TEXT})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["behaviour"]["akuntabel"] == TEXT and r.get_json()["behaviour_by_penilai"] == ["akuntabel"]
    # audited, naming the penilai's change
    audit = org.get(f"/audit?subject={STAFF_A[0]}&limit=200", org.hr).get_json()
    rows = audit["items"] if isinstance(audit, dict) else audit
    assert any(a["action"] == "plan.behaviour_set" for a in rows)
    # the employee edits the SKP (changing that text too): the penilai's text stays, the others are theirs
    r = org.get(f"/plans/{pid}", org.as_(STAFF_A[0]))
    data = content(r.get_json()["rhk"], behaviour={**r.get_json()["behaviour"], "akuntabel": "Diubah pegawai."})
    data["behaviour"]["loyal"] = "Menjaga nama baik instansi."
    r = org.put(f"/plans/{pid}", org.as_(STAFF_A[0]) | {"If-Match": r.headers["ETag"]}, data)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["behaviour"]["akuntabel"] == TEXT
    assert r.get_json()["behaviour"]["loyal"] == "Menjaga nama baik instansi."
    # submitted: the penilai may still write (e.g. before approving); an empty text removes their expectation
    assert org.submit(pid, STAFF_A[0]).status_code == 200
    r = _put(org, pid, KASI_A, {"akuntabel": "", "kolaboratif": "Aktif di rapat koordinasi."})
    assert r.status_code == 200, r.get_json()
    assert "akuntabel" not in r.get_json()["behaviour"] and r.get_json()["behaviour_by_penilai"] == ["kolaboratif"]
    # approving needs every value's expectation: the one just removed is named
    body = problem(org.approve(pid, KASI_A), 422, "validation")
    assert field_errors(body) == {"behaviour.akuntabel": "behaviour.expectation_required"}
    assert _put(org, pid, KASI_A, {"akuntabel": TEXT}).status_code == 200
    # too long a text is refused beside its value, nothing changed
    body = problem(_put(org, pid, KASI_A, {"adaptif": "x" * 2001}), 422, "validation")
    assert field_errors(body) == {"behaviour.adaptif": "behaviour.too_long"}
    # approved: the SKP is frozen for the penilai as for the employee
    assert org.approve(pid, KASI_A).status_code == 200
    assert _put(org, pid, KASI_A, {"adaptif": TEXT}).status_code == 409
