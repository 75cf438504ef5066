"""CSV import of the directory through the API (``directory_import.py``): dry runs that report row
errors and write nothing, all-or-nothing application, header and media-type errors."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from services.common.audit import verify_chain
from services.plans.models import platform_tables
from tests.plans.support import API, KASI_A, NEW_A, NEW_B, NEW_C, STAFF_A, field_errors, nips, problem

CSV_HEADER = "nip,name,email,phone,position,grade,unit_code,superior_nip,language\n"


def test_csv_dry_run_reports_row_errors_and_writes_nothing(org):
    before = org.counts()
    text = CSV_HEADER + (
        f"{NEW_A},Pegawai A,,,Analis,III/a,SEK-A,{KASI_A},id\n"
        f"199609092021011000,Pegawai Nol,,,Analis,III/a,SEK-A,{KASI_A},id\n"  # row 3: sequence 000
        f"{NEW_B},Pegawai B,,,Analis,III/a,NOPE,{NEW_C},fr\n"  # row 4: unit, superior, language
        f"{NEW_A},Pegawai A lagi,,,Analis,III/a,SEK-A,,id\n"  # row 5: duplicate
    )
    r = org.import_csv("employees", text, dry_run=True)
    assert r.status_code == 200, r.get_json()
    report = r.get_json()
    assert report["dry_run"] is True and report["created"] == 0
    got = {(e["row"], e["field"], e["code"]) for e in report["errors"]}
    assert got == {
        (3, "nip", "nip.sequence"),
        (4, "language", "field.invalid"),
        (4, "unit_code", "employee.unit_unknown"),  # checked although the language was refused (bug 5)
        (4, "superior_nip", "employee.superior_unknown"),
        (5, "nip", "import.duplicate"),
    }
    assert all(e["detail"] for e in report["errors"])
    # a row whose schema is fine is checked against the directory: unit and superior
    r = org.import_csv("employees", CSV_HEADER + f"{NEW_B},Pegawai B,,,Analis,III/a,NOPE,{NEW_C},id\n", dry_run=True)
    got = {(e["row"], e["field"], e["code"]) for e in r.get_json()["errors"]}
    assert got == {(2, "unit_code", "employee.unit_unknown"), (2, "superior_nip", "employee.superior_unknown")}
    # a clean dry run says what would happen, and still writes nothing
    r = org.import_csv(
        "employees",
        CSV_HEADER + f"{NEW_A},Pegawai A,,,Analis,III/a,SEK-A,{KASI_A},id\n"
        f"{STAFF_A[0]},Rina Wati,,,Analis Madya,III/b,SEK-A,{KASI_A},id\n",
        dry_run=True,
    )
    assert r.status_code == 200
    assert {k: r.get_json()[k] for k in ("created", "updated", "errors")} == {"created": 1, "updated": 1, "errors": []}
    assert org.counts() == before
    problem(org.get(f"/employees/{NEW_A}", org.hr), 404)


def test_csv_dry_run_reports_every_error_of_every_row(org):
    """Bug 5: a row the schema refuses (position missing) still has its other cells checked, so its
    bad NIP is reported too, each error with its row and column; nothing is written."""
    before = org.counts()
    text = CSV_HEADER + (
        f"199609092021011000,Pegawai Nol,,,,III/a,SEK-A,{KASI_A},id\n"  # row 2: NIP sequence 000, no position
        f"{NEW_B},Pegawai B,,,Analis,III/a,SEK-A,{KASI_A},id\n"  # row 3: fine
        f"1997020220220320,X,,,,III/a,NOPE,{NEW_B},id\n"  # row 4: NIP, name, position, unit (superior from row 3)
    )
    r = org.import_csv("employees", text, dry_run=True)
    assert r.status_code == 200, r.get_json()
    got = [(e["row"], e["field"], e["code"]) for e in r.get_json()["errors"]]
    assert sorted(got) == sorted(
        [
            (2, "position", "field.required"),
            (2, "nip", "nip.sequence"),
            (4, "name", "field.invalid"),
            (4, "position", "field.required"),
            (4, "nip", "nip.format"),
            (4, "unit_code", "employee.unit_unknown"),
        ]
    )
    assert [e["row"] for e in r.get_json()["errors"]] == sorted(e[0] for e in got)  # in row order
    assert org.counts() == before
    # the real import refuses the same errors, per row and column, and applies nothing
    body = problem(org.import_csv("employees", text), 422, "import.rejected")
    assert {"rows[2].nip", "rows[2].position", "rows[4].nip", "rows[4].unit_code"} <= set(field_errors(body))
    assert org.counts() == before


def test_csv_with_one_broken_row_applies_nothing(org):
    before = org.counts()
    text = CSV_HEADER + (
        f"{NEW_A},Pegawai A,,,Analis,III/a,SEK-A,{KASI_A},id\n"
        f"{NEW_B},Pegawai B,,,Analis,III/a,SEK-A,{NEW_A},id\n"
        f"19970202202203201,Pegawai Rusak,,,Analis,III/a,SEK-A,{KASI_A},id\n"  # row 4: 17 digits
        f"{STAFF_A[0]},Rina Wati,,,Analis Madya,III/b,SEK-A,{KASI_A},id\n"
    )
    body = problem(org.import_csv("employees", text), 422, "import.rejected")
    assert field_errors(body) == {"rows[4].nip": "nip.format"}
    assert body["rows"] == 4
    assert org.counts() == before
    assert org.count("/employees") == 9
    assert org.get(f"/employees/{STAFF_A[0]}", org.hr).get_json()["position"] == "Analis Perencanaan"


def test_csv_header_and_media_type_errors(org):
    before = org.counts()
    body = problem(org.import_csv("employees", "nip,name,shoe_size\n1,2,3\n"), 422, "validation")
    assert {(e["field"], e["code"], e["params"]["column"]) for e in body["errors"]} == {
        ("header", "import.column_missing", "position"),
        ("header", "import.column_missing", "unit_code"),
        ("header", "import.column_unknown", "shoe_size"),
    }
    problem(org.post("/directory/import?kind=employees", org.hr, {"nip": NEW_A}), 415, "http.media_type")
    problem(
        org.client.post(
            f"{API}/directory/import?kind=employees", data=b"\xff\xfe\x00", content_type="text/csv", headers=org.hr
        ),
        422,
    )
    body = problem(org.import_csv("people", CSV_HEADER), 422)
    assert field_errors(body) == {"kind": "field.invalid"}
    problem(org.import_csv("employees", CSV_HEADER, headers=org.as_(KASI_A)), 403)
    assert org.counts() == before


def test_valid_csv_applies_every_row(org):
    # the superior of the first row is defined further down: rows are applied in dependency order
    text = CSV_HEADER + (
        f"{NEW_B},Pegawai B,b@pkmb.go.id,+62 812 000 111,Analis,III/a,SUB-A1,{NEW_A},en\n"
        f"{NEW_A},Pegawai A,,,Kepala Subseksi,III/c,SUB-A1,{KASI_A},id\n"
        f"{STAFF_A[0]},Rina Wati,,,Analis Madya,III/b,SEK-A,{KASI_A},id\n"
        f"{STAFF_A[1]},Dewi Lestari,,,Pengelola Data,II/c,SEK-A,{KASI_A},id\n"  # unchanged
    )
    problem(org.import_csv("employees", text), 422)  # SUB-A1 does not exist yet
    r = org.client.post(
        f"{API}/directory/import?kind=units",
        headers=org.hr,
        data={"file": (io.BytesIO(b"code,name,parent_code\nSUB-A1,Subseksi A1,SEK-A\n"), "units.csv", "text/csv")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 200 and r.get_json()["created"] == 1, r.get_json()
    r = org.import_csv("employees", text)
    assert r.status_code == 200, r.get_json()
    report = r.get_json()
    assert (report["rows"], report["created"], report["updated"], report["unchanged"]) == (4, 2, 1, 1)
    assert org.count("/employees") == 11
    assert org.get(f"/employees/{NEW_B}", org.hr).get_json()["superior_nip"] == NEW_A
    assert org.get(f"/employees/{STAFF_A[0]}", org.hr).get_json()["position"] == "Analis Madya"
    assert {NEW_A, NEW_B} <= nips(org.get("/employees", org.as_(KASI_A)))


MIXED_CSV = CSV_HEADER + (
    f"{NEW_B},Pegawai B,,,Analis,III/a,SEK-A,{NEW_A},en\n"  # superior created by the next row
    f"{NEW_A},Pegawai A,,,Kepala Subseksi,III/c,SEK-A,{KASI_A},id\n"
    f"{STAFF_A[0]},Rina Wati,,,Analis Madya,III/b,SEK-B,{KASI_A},id\n"  # position and unit changed
    f"{STAFF_A[1]},Dewi Lestari,,,Pengelola Data,II/c,SEK-A,{KASI_A},id\n"  # unchanged
)


def import_records_each_change_once(org) -> None:
    """The set-based write: one ``plans.employee.upserted`` event and one audit row per employee
    created or changed, none for the unchanged one, superiors before their staff; the audit chain
    intact; a changed employee's version one up; the same file again changes nothing."""
    version = org.get(f"/employees/{STAFF_A[0]}", org.hr).get_json()["version"]
    seen_events = len(org.outbox("plans.employee.upserted"))
    with org.db() as s:
        seen_audit = s.scalar(select(func.count()).select_from(platform_tables.audit))
    r = org.import_csv("employees", MIXED_CSV)
    assert r.status_code == 200, r.get_json()
    assert {k: r.get_json()[k] for k in ("created", "updated", "unchanged")} == {
        "created": 2,
        "updated": 1,
        "unchanged": 1,
    }
    events = [e["envelope"] for e in org.outbox("plans.employee.upserted")[seen_events:]]
    assert [e["subject"] for e in events] == [NEW_A, NEW_B, STAFF_A[0]]
    assert events[1]["data"]["superior_nip"] == NEW_A and events[1]["data"]["language"] == "en"
    assert (events[2]["data"]["position"], events[2]["data"]["unit_code"]) == ("Analis Madya", "SEK-B")
    with org.db() as s:
        t = platform_tables.audit
        audit = [dict(a) for a in s.execute(select(t).where(t.c.id > seen_audit).order_by(t.c.id)).mappings()]
        assert verify_chain(s, platform_tables) == (True, None)
    assert [(a["action"], a["entity_id"]) for a in audit] == [
        ("employee.created", NEW_A),
        ("employee.created", NEW_B),
        ("employee.updated", STAFF_A[0]),
    ]
    assert audit[0]["before"] is None and audit[1]["after"]["unit_name"] == "Seksi Perencanaan"
    assert (audit[2]["before"]["position"], audit[2]["before"]["unit_code"]) == ("Analis Perencanaan", "SEK-A")
    assert audit[2]["after"]["unit_name"] == "Seksi Pelaksanaan"
    person = org.get(f"/employees/{STAFF_A[0]}", org.hr).get_json()
    assert (person["version"], person["unit_code"], person["position"]) == (version + 1, "SEK-B", "Analis Madya")
    assert org.get(f"/employees/{NEW_B}", org.hr).get_json()["version"] == 1
    assert NEW_B in nips(org.get("/employees", org.as_(NEW_A)))
    before = org.counts()
    r = org.import_csv("employees", MIXED_CSV)
    assert (r.get_json()["unchanged"], r.get_json()["created"], r.get_json()["updated"]) == (4, 0, 0)
    assert org.counts() == before


def test_import_records_each_change_once(org):
    import_records_each_change_once(org)
