"""Directory API (``directory.py``, ``employees.py``): agencies, units, employees, visibility and
acting officials — through the Flask test client, as HR, employees and supervisors of the seeded
agency (and of another agency). The CSV import is in ``test_api_directory_import.py``."""

from __future__ import annotations

import pytest

from tests.plans.support import (
    HEAD,
    JAKARTA,
    KASI_A,
    KASI_B,
    NEW_A,
    NEW_B,
    OTHER_EMP,
    STAFF_A,
    STAFF_B,
    field_errors,
    new_employee,
    nips,
    problem,
)

# ------------------------------------------------------------------ agencies and units


def test_admin_creates_agency_hr_reads_only_its_own(org):
    r = org.post("/agencies", org.admin, {"code": "DUPL", "name": "Dinas Duplikat"})
    assert r.status_code == 201 and r.get_json() == {"code": "DUPL", "name": "Dinas Duplikat"}
    body = problem(org.post("/agencies", org.admin, {"code": "DUPL", "name": "Lagi"}), 409, "plans.agency_exists")
    assert body["code"] == "plans.agency_exists"
    problem(org.post("/agencies", org.hr, {"code": "MINE", "name": "Punya HR"}), 403, "auth.forbidden")
    body = problem(org.post("/agencies", org.admin, {"code": "lower case", "name": "x"}), 422, "validation")
    assert set(field_errors(body)) == {"code", "name"}
    assert org.get("/agencies/PKMB", org.hr).get_json()["code"] == "PKMB"
    problem(org.get("/agencies/OTHER", org.hr), 404, "plans.not_found")


def test_units_list_and_refusals(org):
    body = org.get("/units", org.hr).get_json()
    assert {u["code"]: u["parent_code"] for u in body["items"]} == {"DINAS": None, "SEK-A": "DINAS", "SEK-B": "DINAS"}
    assert {u["code"] for u in org.get("/units?parent_code=DINAS", org.hr).get_json()["items"]} == {"SEK-A", "SEK-B"}
    r = org.post("/units", org.hr, {"code": "SUB-A1", "name": "Subseksi A1", "parent_code": "SEK-A"})
    assert r.status_code == 201 and r.get_json()["parent_code"] == "SEK-A"
    before = org.counts()
    body = problem(
        org.post("/units", org.hr, {"code": "X", "name": "Unit X", "parent_code": "NOPE"}), 422, "validation"
    )
    assert field_errors(body) == {"parent_code": "unit.parent_unknown"}
    body = problem(org.post("/units", org.hr, {"code": "DINAS", "name": "Dinas", "parent_code": "SUB-A1"}), 422)
    assert field_errors(body) == {"parent_code": "unit.parent_cycle"}
    problem(org.post("/units", org.as_(STAFF_A[0]), {"code": "Y", "name": "Unit Y"}), 403, "auth.forbidden")
    assert org.counts() == before
    # the other agency's HR sees only its own units
    assert {u["code"] for u in org.get("/units", org.other_hr).get_json()["items"]} == {"BIRO"}


# ------------------------------------------------------------------ employees: create, validate, update


def test_hr_creates_employee_with_etag_and_event(org):
    r = org.post("/employees", org.hr, new_employee())
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["nip"] == NEW_A and body["unit_code"] == "SEK-A" and body["superior_nip"] == KASI_A
    assert r.headers["ETag"] == f'"{body["version"]}"'
    events = [e["envelope"] for e in org.outbox("plans.employee.upserted") if e["envelope"]["subject"] == NEW_A]
    assert len(events) == 1 and events[0]["data"]["unit_code"] == "SEK-A"
    assert org.get(f"/employees/{NEW_A}", org.as_(KASI_A)).status_code == 200


@pytest.mark.parametrize(
    "nip, code",
    [
        ("19960909202101101", "nip.format"),  # 17 digits
        ("1996090920210110AB", "nip.format"),
        ("199613092021011010", "nip.birth_date"),  # month 13
        ("199602302021011010", "nip.birth_date"),  # 30 February
        ("199609092021131010", "nip.appointment"),  # appointment month 13
        ("199609092006011010", "nip.appointment_before_birth"),  # appointed aged 9
        ("199609092027011010", "nip.future"),  # appointed in 2027
        ("199609092021013010", "nip.sex"),
        ("199609092021011000", "nip.sequence"),
    ],
)
def test_invalid_nip_is_a_field_error_and_changes_nothing(org, nip, code):
    before = org.counts()
    body = problem(org.post("/employees", org.hr, new_employee(nip=nip)), 422, "validation")
    assert field_errors(body) == {"nip": code}
    assert body["errors"][0]["pointer"] == "#/nip" and body["errors"][0]["detail"]
    assert org.counts() == before


def test_unknown_unit_and_superior_are_named(org):
    before = org.counts()
    body = problem(org.post("/employees", org.hr, new_employee(unit_code="NOPE", superior_nip=NEW_B)), 422)
    assert field_errors(body) == {"unit_code": "employee.unit_unknown", "superior_nip": "employee.superior_unknown"}
    # a superior who exists, but in another agency, is unknown here too
    body = problem(org.post("/employees", org.hr, new_employee(superior_nip=OTHER_EMP)), 422)
    assert field_errors(body) == {"superior_nip": "employee.superior_unknown"}
    body = problem(org.post("/employees", org.hr, {"nip": NEW_A}), 422)
    assert field_errors(body) == {"name": "field.required", "position": "field.required", "unit_code": "field.required"}
    assert org.counts() == before


def test_reporting_line_cycle_is_refused(org):
    assert org.post("/employees", org.hr, new_employee(NEW_A)).status_code == 201
    assert org.post("/employees", org.hr, new_employee(NEW_B, superior_nip=NEW_A)).status_code == 201
    before = org.counts()
    etag = org.get(f"/employees/{NEW_A}", org.hr).headers["ETag"]
    # A -> B -> A
    body = problem(org.patch(f"/employees/{NEW_A}", org.hr | {"If-Match": etag}, {"superior_nip": NEW_B}), 422)
    assert field_errors(body) == {"superior_nip": "employee.reporting_cycle"}
    # through the create-or-update POST as well, and a longer loop (head under a staff member)
    body = problem(org.post("/employees", org.hr, new_employee(NEW_A, superior_nip=NEW_B)), 422)
    assert field_errors(body) == {"superior_nip": "employee.reporting_cycle"}
    etag = org.get(f"/employees/{HEAD}", org.hr).headers["ETag"]
    body = problem(org.patch(f"/employees/{HEAD}", org.hr | {"If-Match": etag}, {"superior_nip": STAFF_A[2]}), 422)
    assert field_errors(body) == {"superior_nip": "employee.reporting_cycle"}
    body = problem(org.patch(f"/employees/{HEAD}", org.hr | {"If-Match": etag}, {"superior_nip": HEAD}), 422)
    assert field_errors(body) == {"superior_nip": "employee.reporting_cycle"}
    assert org.counts() == before
    assert org.get(f"/employees/{NEW_A}", org.hr).get_json()["superior_nip"] == KASI_A


def test_patch_needs_current_if_match(org):
    r = org.get(f"/employees/{STAFF_A[0]}", org.hr)
    etag = r.headers["ETag"]
    assert etag == f'"{r.get_json()["version"]}"'
    before = org.counts()
    body = problem(org.patch(f"/employees/{STAFF_A[0]}", org.hr, {"position": "Analis Madya"}), 428, "etag.required")
    assert body["etag"] == etag
    body = problem(
        org.patch(f"/employees/{STAFF_A[0]}", org.hr | {"If-Match": '"999"'}, {"position": "Analis Madya"}),
        412,
        "etag.stale",
    )
    assert body["etag"] == etag
    assert org.counts() == before
    assert org.get(f"/employees/{STAFF_A[0]}", org.hr).get_json()["position"] == "Analis Perencanaan"
    r = org.patch(
        f"/employees/{STAFF_A[0]}",
        org.hr | {"If-Match": etag},
        {"position": "Analis Madya", "unit_code": "SEK-B", "superior_nip": KASI_B},
    )
    assert r.status_code == 200, r.get_json()
    assert r.headers["ETag"] != etag and r.headers["ETag"] == f'"{r.get_json()["version"]}"'
    assert r.get_json()["unit_code"] == "SEK-B" and r.get_json()["position"] == "Analis Madya"
    # the old ETag is now stale; the new one works
    problem(org.patch(f"/employees/{STAFF_A[0]}", org.hr | {"If-Match": etag}, {"grade": "III/b"}), 412)
    r2 = org.patch(f"/employees/{STAFF_A[0]}", org.hr | {"If-Match": r.headers["ETag"]}, {"grade": "III/b"})
    assert r2.status_code == 200 and r2.get_json()["grade"] == "III/b"
    # who now supervises whom follows the change
    assert STAFF_A[0] in nips(org.get("/employees", org.as_(KASI_B)))
    assert STAFF_A[0] not in nips(org.get("/employees", org.as_(KASI_A)))


def test_patch_refusals(org):
    etag = org.get(f"/employees/{STAFF_A[1]}", org.hr).headers["ETag"]
    before = org.counts()
    body = problem(org.patch(f"/employees/{STAFF_A[1]}", org.hr | {"If-Match": etag}, {"unit_code": "NOPE"}), 422)
    assert field_errors(body) == {"unit_code": "employee.unit_unknown"}
    body = problem(org.patch(f"/employees/{STAFF_A[1]}", org.hr | {"If-Match": etag}, {"nip": NEW_A}), 422)
    assert field_errors(body) == {"nip": "field.unknown"}
    body = problem(org.patch(f"/employees/{STAFF_A[1]}", org.hr | {"If-Match": etag}, {"email": "not-an-email"}), 422)
    assert field_errors(body) == {"email": "field.invalid"}
    # the employee can read themself but not change their record; a supervisor neither
    problem(org.patch(f"/employees/{STAFF_A[1]}", org.as_(STAFF_A[1]) | {"If-Match": etag}, {"name": "Saya"}), 403)
    problem(org.patch(f"/employees/{STAFF_A[1]}", org.as_(KASI_A) | {"If-Match": etag}, {"name": "Anak buah"}), 403)
    problem(org.patch(f"/employees/{NEW_A}", org.hr | {"If-Match": etag}, {"name": "Belum ada"}), 404)
    assert org.counts() == before


# ------------------------------------------------------------------ visibility


def test_hr_sees_agency_and_other_agency_hr_sees_nothing_of_it(org):
    assert nips(org.get("/employees?limit=200", org.hr)) == set(org.ALL)
    assert nips(org.get("/employees", org.other_hr)) == {OTHER_EMP}
    before = org.counts()
    problem(org.get(f"/employees/{STAFF_A[0]}", org.other_hr), 404, "plans.not_found")
    etag = org.get(f"/employees/{STAFF_A[0]}", org.hr).headers["ETag"]
    problem(org.patch(f"/employees/{STAFF_A[0]}", org.other_hr | {"If-Match": etag}, {"name": "Dibajak"}), 404)
    # taking over the NIP by "creating" it in the other agency is refused too
    body = problem(
        org.post("/employees", org.other_hr, new_employee(nip=STAFF_A[0], unit_code="BIRO", superior_nip=None)), 422
    )
    assert field_errors(body) == {"nip": "employee.nip_unavailable"}
    body = problem(
        org.import_csv(
            "employees", f"nip,name,position,unit_code\n{STAFF_A[0]},Dibajak,Analis,BIRO\n", headers=org.other_hr
        ),
        422,
        "import.rejected",
    )
    assert field_errors(body) == {"rows[2].nip": "employee.nip_unavailable"}
    # nor may HR act in another agency's directory through the acting endpoint
    body = problem(
        org.post(
            "/acting",
            org.other_hr,
            {
                "acting_nip": KASI_B,
                "for_nip": KASI_A,
                "kind": "plt",
                "start_date": "2026-01-01",
                "end_date": "2026-03-31",
            },
        ),
        422,
    )
    assert field_errors(body) == {"acting_nip": "employee.unknown"}
    assert org.counts() == before
    assert org.get(f"/employees/{STAFF_A[0]}", org.hr).get_json()["name"] == "Rina Wati"


def test_employee_sees_only_themself(org):
    me = org.as_(STAFF_A[1])
    assert nips(org.get("/employees", me)) == {STAFF_A[1]}
    assert org.get(f"/employees/{STAFF_A[1]}", me).get_json()["name"] == "Dewi Lestari"
    for other in (STAFF_A[0], KASI_A, HEAD, OTHER_EMP):
        problem(org.get(f"/employees/{other}", me), 404, "plans.not_found")
    # filters cannot widen what one sees
    assert nips(org.get(f"/employees?superior_nip={KASI_A}", me)) == {STAFF_A[1]}
    assert nips(org.get("/employees?unit_code=SEK-B", me)) == set()


def test_supervisor_sees_reporting_line_only(org):
    assert nips(org.get("/employees", org.as_(KASI_A))) == {KASI_A, *STAFF_A}
    assert nips(org.get("/employees", org.as_(HEAD))) == set(org.ALL)  # direct and indirect
    assert org.get(f"/employees/{STAFF_B[2]}", org.as_(HEAD)).status_code == 200
    for peer_team in (*STAFF_B, KASI_B, HEAD):
        problem(org.get(f"/employees/{peer_team}", org.as_(KASI_A)), 404)
    assert nips(org.get("/employees?unit_code=SEK-A", org.as_(HEAD))) == {KASI_A, *STAFF_A}
    assert nips(org.get(f"/employees?superior_nip={KASI_B}", org.as_(HEAD))) == set(STAFF_B)


def test_acting_official_sees_the_line_they_stand_in_for(org):
    problem(org.get(f"/employees/{STAFF_A[0]}", org.as_(KASI_B)), 404)
    body = {
        "acting_nip": KASI_B,
        "for_nip": KASI_A,
        "kind": "plh",
        "start_date": "2026-01-01",
        "end_date": "2026-01-31",
    }
    problem(org.post("/acting", org.as_(HEAD), body), 403)
    bad = problem(org.post("/acting", org.hr, body | {"end_date": "2025-12-31"}), 422)
    assert field_errors(bad) == {"end_date": "field.invalid"}
    bad = problem(org.post("/acting", org.hr, body | {"for_nip": NEW_A}), 422)
    assert field_errors(bad) == {"for_nip": "employee.unknown"}
    r = org.post("/acting", org.hr, body)
    assert r.status_code == 201 and r.get_json()["kind"] == "plh"
    assert org.get(f"/employees/{STAFF_A[0]}", org.as_(KASI_B)).status_code == 200
    assert set(STAFF_A) <= nips(org.get("/employees", org.as_(KASI_B)))
    org.clock.advance(days=40)  # the assignment has ended
    problem(org.get(f"/employees/{STAFF_A[0]}", org.as_(KASI_B)), 404)


def test_acting_officials_are_listed_and_ended_early_by_hr(org):
    """HR lists its agency's Plt/Plh and ends one early (today by default); ending never extends an
    appointment nor moves it before its start; a person lists only the appointments they hold or
    that stand in for them, and ends none."""
    body = {
        "acting_nip": KASI_B,
        "for_nip": KASI_A,
        "kind": "plt",
        "start_date": "2026-01-01",
        "end_date": "2026-03-31",
    }
    a = org.post("/acting", org.hr, body).get_json()
    listed = org.get("/acting", org.hr).get_json()["items"]
    assert [(x["id"], x["acting_nip"], x["end_date"]) for x in listed] == [(a["id"], KASI_B, "2026-03-31")]
    assert org.get("/acting", org.other_hr).get_json()["items"] == []
    assert org.get("/acting", org.as_(HEAD)).get_json()["items"] == []  # a person sees only their own
    assert [x["id"] for x in org.get("/acting", org.as_(KASI_B)).get_json()["items"]] == [a["id"]]
    assert [x["id"] for x in org.get("/acting", org.as_(KASI_A)).get_json()["items"]] == [a["id"]]
    problem(org.post(f"/acting/{a['id']}/end", org.other_hr, {}), 404)
    problem(org.post(f"/acting/{a['id']}/end", org.as_(HEAD), {}), 404)
    bad = problem(org.post(f"/acting/{a['id']}/end", org.hr, {"end_date": "2026-04-30"}), 422)
    assert field_errors(bad) == {"end_date": "acting.end_after_end"}
    bad = problem(org.post(f"/acting/{a['id']}/end", org.hr, {"end_date": "2025-12-31"}), 422)
    assert field_errors(bad) == {"end_date": "acting.end_before_start"}
    assert org.get(f"/employees/{STAFF_A[0]}", org.as_(KASI_B)).status_code == 200
    org.clock.advance(days=2)
    r = org.post(f"/acting/{a['id']}/end", org.hr, {})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["end_date"] == org.clock().astimezone(JAKARTA).date().isoformat()
    assert org.get("/acting?current=true", org.hr).get_json()["items"][0]["id"] == a["id"]  # today is its last day
    org.clock.advance(days=1)
    assert org.get("/acting?current=true", org.hr).get_json()["items"] == []
    problem(org.get(f"/employees/{STAFF_A[0]}", org.as_(KASI_B)), 404)


def test_employees_are_searched_by_name_or_nip(org):
    """``q``: part of the name (any case) or the NIP's beginning; a ``%`` is a character, not a wildcard."""
    assert nips(org.get("/employees?q=aminah", org.hr)) == {KASI_A}
    assert nips(org.get(f"/employees?q={STAFF_A[0][:10]}", org.hr)) == {STAFF_A[0]}
    assert nips(org.get("/employees?q=%25", org.hr)) == set()
    assert nips(org.get("/employees?q=a&unit_code=SEK-B", org.hr)) == {KASI_B, *STAFF_B}
