"""The HR directory pages of the portal: the units tree, employees (search, filter, pages, edit),
the CSV import (a dry run's errors per row and cell, fixed in place, then imported) and acting
officials (Plt/Plh) — plus who may not open them and forms that refuse bad input, saving nothing."""

from __future__ import annotations

import html
import io
import re

import pytest

from tests.plans.support import HEAD, KASI_A, KASI_B, NEW_A, NEW_B, STAFF_A, STAFF_B
from tests.portal.support import text
from tests.portal.test_hr import field_error, hr

DIR_PAGES = [
    "/hr/direktori",
    "/hr/direktori/pegawai",
    f"/hr/direktori/pegawai/{STAFF_A[0]}",
    "/hr/direktori/impor",
    "/hr/direktori/impor/templat-employees.csv",
    "/hr/direktori/plt",
]
HEADER = "nip,name,email,phone,position,grade,unit_code,superior_nip,language\n"
GOOD = f"{NEW_A},Rudi Hartono,,,Analis Kebijakan,III/a,SEK-A,{KASI_A},id\n"
# row 3: NIP with sequence 000 AND no position (bug 5: both must be reported), unknown unit
BROKEN = f"199702022022032000,Wulan Sari,,,,III/a,SEK-Z,{KASI_B},id\n"
FIXED = f"{NEW_B},Wulan Sari,,,Pengelola Data,III/a,SEK-B,{KASI_B},id\n"


def error_cells(page: str) -> set[tuple[int, str]]:
    """(row, column) of every line of the import's error table."""
    return {(int(r), c) for r, c in re.findall(r'data-row="(\d+)" data-column="([^"]+)"', page)}


def employee_count(stack) -> int:
    return stack.org.count("/employees")


# ------------------------------------------------------------------ who may open them


@pytest.mark.parametrize("person", [STAFF_A[0], KASI_A])
def test_employee_and_supervisor_get_tidak_berwenang(stack, person):
    b = stack.browser()
    b.login(person)
    for path in DIR_PAGES:
        resp = b.get(path)
        assert resp.status_code == 403, path
        assert "Tidak berwenang" in text(resp) and "Seksi Perencanaan" not in text(resp), path
    before = employee_count(stack)
    resp = b.post("/hr/direktori/impor", {"kind": "employees", "csv_text": HEADER + GOOD, "action": "import"})
    assert resp.status_code == 403
    assert employee_count(stack) == before


def test_signed_out_goes_to_login(stack):
    resp = stack.browser().client.get("/hr/direktori")
    assert resp.status_code in (302, 303) and "/login" in resp.headers["Location"]


def test_hr_of_another_agency_sees_none_of_pkmb(stack):
    b = stack.browser()
    b.login("hr:OTHER")
    assert "Seksi Perencanaan" not in text(b.get("/hr/direktori"))
    assert "Rina Wati" not in text(b.get("/hr/direktori/pegawai"))
    resp = b.get(f"/hr/direktori/pegawai/{STAFF_A[0]}")
    assert resp.status_code == 404 and "Rina Wati" not in text(resp)
    # PKMB's acting officials: not listed, and not ended by another agency's HR
    body = {
        "acting_nip": KASI_B,
        "for_nip": KASI_A,
        "kind": "plh",
        "start_date": "2026-01-05",
        "end_date": "2026-01-20",
    }
    a = stack.org.post("/acting", stack.org.hr, body).get_json()
    assert "Agus Salim" not in text(b.get("/hr/direktori/plt?semua=1"))
    assert b.post(f"/hr/direktori/plt/{a['id']}/akhiri", {"end_date": "2026-01-05"}).status_code == 404
    assert stack.org.get("/acting", stack.org.hr).get_json()["items"][0]["end_date"] == "2026-01-20"


# ------------------------------------------------------------------ units tree, employees


def test_nav_and_units_tree(stack):
    b = hr(stack)
    assert 'href="/hr/direktori">Direktori</a>' in text(b.get("/"))
    page = text(b.get("/hr/direktori"))
    assert "3 unit kerja, 9 pegawai aktif." in page
    # in tree order: DINAS, then its sections one level deeper, with their heads and headcounts
    order = [m for m in re.findall(r'<tr id="unit-([^"]+)"', page)]
    assert order == ["DINAS", "SEK-A", "SEK-B"]
    assert re.search(r'class="depth-1">.*Seksi Perencanaan', page)
    assert 'href="/hr/direktori/pegawai?unit=SEK-A"' in page
    en = text(b.get("/hr/direktori?lang=en"))
    assert "Units tree" in en and "3 units, 9 active employees." in en


def test_employees_search_filter_and_pages(stack):
    b = hr(stack)
    page = text(b.get("/hr/direktori/pegawai?unit=SEK-B"))
    assert "Agus Salim" in page and "Andi Pratama" in page and "Rina Wati" not in page
    page = text(b.get("/hr/direktori/pegawai?q=aminah"))
    assert "Siti Aminah" in page and "Budi Santoso" not in page
    page = text(b.get(f"/hr/direktori/pegawai?q={STAFF_B[2][:8]}"))
    assert "Eko Saputra" in page and "Maya Sari" not in page
    assert "Tidak ada pegawai yang cocok." in text(b.get("/hr/direktori/pegawai?q=zzzz"))
    # pages of 25: import enough people to need a second page
    rows = "".join(f"19900101201503{1100 + i:04d},Pegawai {i:02d},,,Staf,II/a,SEK-A,{KASI_A},id\n" for i in range(20))
    report = stack.org.import_csv("employees", HEADER + rows).get_json()
    assert report["created"] == 20, report
    first = text(b.get("/hr/direktori/pegawai"))
    assert first.count('href="/hr/direktori/pegawai/') == 25
    nxt = html.unescape(re.search(r'href="([^"]+)" rel="next"', first).group(1))
    second = text(b.get(nxt))
    assert second.count('href="/hr/direktori/pegawai/') == 4 and 'rel="next"' not in second


def test_edit_employee_errors_beside_the_fields_then_saved(stack):
    b = hr(stack)
    path = f"/hr/direktori/pegawai/{STAFF_A[0]}"
    page = text(b.get(path))
    assert "Rina Wati" in page and "Analis Perencanaan" in page
    etag = html.unescape(re.search(r'name="etag" value="([^"]*)"', page).group(1))
    form = {
        "etag": etag,
        "name": "",
        "position": "Analis Madya",
        "grade": "III/b",
        "language": "id",
        "unit_code": "SEK-A",
        "superior_nip": KASI_A,
        "email": "bukan-surel",
        "phone": "",
        "active": "1",
    }
    resp = b.post(path, form)
    assert resp.status_code == 422
    assert field_error(text(resp), "name") == "Wajib diisi."
    resp = b.post(path, form | {"name": "Rina Wati"})  # the API's refusal, beside its field
    assert resp.status_code == 422 and field_error(text(resp), "email")
    # a superior below the employee would make a reporting cycle: refused beside the field
    resp = b.post(path, form | {"name": "Rina Wati", "email": "", "superior_nip": STAFF_A[0]})
    assert resp.status_code == 422
    emp = stack.org.get(f"/employees/{STAFF_A[0]}", stack.org.hr).get_json()
    assert emp["position"] == "Analis Perencanaan" and emp["grade"] == "III/a"  # nothing saved
    resp = b.post(path, form | {"name": "Rina Wati", "email": "rina@pkmb.go.id", "superior_nip": KASI_A})
    assert resp.status_code == 200 and "Data Rina Wati tersimpan." in text(resp)
    emp = stack.org.get(f"/employees/{STAFF_A[0]}", stack.org.hr).get_json()
    assert (emp["position"], emp["grade"], emp["email"]) == ("Analis Madya", "III/b", "rina@pkmb.go.id")
    # a stale form (the employee changed since) changes nothing and says so
    resp = b.post(path, form | {"name": "Rina W.", "email": ""})
    assert "baru saja diubah orang lain" in text(resp)
    assert stack.org.get(f"/employees/{STAFF_A[0]}", stack.org.hr).get_json()["name"] == "Rina Wati"


# ------------------------------------------------------------------ CSV import


def test_template_download(stack):
    resp = hr(stack).get("/hr/direktori/impor/templat-employees.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    assert text(resp).lstrip("\ufeff").startswith(HEADER.strip())


def test_import_with_a_broken_row_shows_each_cell_then_fixed_and_imported(stack):
    b = hr(stack)
    before = employee_count(stack)
    assert "Impor CSV" in text(b.get("/hr/direktori/impor"))
    resp = b.post(
        "/hr/direktori/impor",
        {"kind": "employees", "action": "check", "file": (io.BytesIO((HEADER + GOOD + BROKEN).encode()), "p.csv")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422
    page = text(resp)
    assert error_cells(page) == {(3, "nip"), (3, "position"), (3, "unit_code")}
    assert "3 kesalahan pada 1 baris" in page and "Tidak ada yang disimpan." in page
    assert "199702022022032000" in page and "(kosong)" in page  # the cells' content beside the errors
    assert employee_count(stack) == before
    # the file comes back in the text area; importing it as it is refuses the same cells, saving nothing
    assert html.escape(BROKEN.strip()) in page
    resp = b.post("/hr/direktori/impor", {"kind": "employees", "action": "import", "csv_text": HEADER + GOOD + BROKEN})
    assert resp.status_code == 422 and error_cells(text(resp)) == {(3, "nip"), (3, "position"), (3, "unit_code")}
    assert employee_count(stack) == before
    # fixed in place: the check is clean and says what would happen; still nothing saved
    resp = b.post("/hr/direktori/impor", {"kind": "employees", "action": "check", "csv_text": HEADER + GOOD + FIXED})
    assert resp.status_code == 200
    assert "2 baris diperiksa, tidak ada kesalahan" in text(resp) and "2 baru" in text(resp)
    assert employee_count(stack) == before
    resp = b.post("/hr/direktori/impor", {"kind": "employees", "action": "import", "csv_text": HEADER + GOOD + FIXED})
    assert resp.status_code == 200 and "Impor selesai: 2 baru, 0 diubah, 0 tetap." in text(resp)
    assert employee_count(stack) == before + 2
    assert stack.org.get(f"/employees/{NEW_B}", stack.org.hr).get_json()["unit_code"] == "SEK-B"


def test_import_form_errors_beside_the_fields(stack):
    b = hr(stack)
    resp = b.post("/hr/direktori/impor", {"kind": "", "action": "check", "csv_text": ""})
    assert resp.status_code == 422
    page = text(resp)
    assert field_error(page, "kind") == "Wajib diisi." and field_error(page, "file")
    # a header the API does not know: refused beside the file, nothing saved
    resp = b.post("/hr/direktori/impor", {"kind": "units", "action": "import", "csv_text": "kode,nama\nX,Y\n"})
    assert resp.status_code == 422 and field_error(text(resp), "file")
    resp = b.post(
        "/hr/direktori/impor",
        {"kind": "units", "action": "check", "file": (io.BytesIO(b"code,name\n\xff\xfe,X\n"), "u.csv")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422 and field_error(text(resp), "file") == "Berkas harus berenkode UTF-8."
    # a form without the session's CSRF token is refused, nothing imported
    units = {"kind": "units", "action": "import", "csv_text": "code,name\nSEK-C,Seksi Baru\n"}
    assert b.post("/hr/direktori/impor", units, csrf=False).status_code == 400
    assert stack.org.count("/units") == 3


# ------------------------------------------------------------------ acting officials


def test_appoint_acting_official_errors_then_saved_and_ended(stack):
    b = hr(stack)
    assert "Belum ada penugasan Plt/Plh." in text(b.get("/hr/direktori/plt"))
    form = {"kind": "plt", "acting_nip": KASI_B, "for_nip": KASI_B, "start_date": "2026-01-05", "end_date": "2026-1-31"}
    resp = b.post("/hr/direktori/plt", form)
    assert resp.status_code == 422
    page = text(resp)
    assert field_error(page, "acting_nip") and field_error(page, "end_date") == "Isi tanggal dengan format TTTT-BB-HH."
    resp = b.post("/hr/direktori/plt", form | {"for_nip": KASI_A, "end_date": "2026-01-01"})
    assert resp.status_code == 422 and field_error(text(resp), "end_date")
    assert stack.org.get("/acting", stack.org.hr).get_json()["items"] == []  # nothing saved
    resp = b.post("/hr/direktori/plt", form | {"for_nip": KASI_A, "end_date": "2026-03-31"})
    assert resp.status_code == 200
    page = text(resp)
    assert "Agus Salim ditetapkan sebagai Plt (pelaksana tugas) untuk Siti Aminah." in page
    assert "2026-01-05 – 2026-03-31" in page and "berjalan" in page
    (a,) = stack.org.get("/acting", stack.org.hr).get_json()["items"]
    # the employee page lists it too
    assert "Agus Salim sebagai Plt (pelaksana tugas) untuk Siti Aminah" in text(
        b.get(f"/hr/direktori/pegawai/{KASI_A}")
    )
    # ending cannot extend it; ending today keeps today as its last day
    resp = b.post(f"/hr/direktori/plt/{a['id']}/akhiri", {"end_date": "2026-04-30"})
    assert "tidak diperpanjang" in text(resp)
    resp = b.post(f"/hr/direktori/plt/{a['id']}/akhiri", {"end_date": ""})
    assert "Penugasan diakhiri; hari terakhir 2026-01-05." in text(resp)
    assert stack.org.get("/acting", stack.org.hr).get_json()["items"][0]["end_date"] == "2026-01-05"
    stack.clock.advance(days=1)
    page = text(b.get("/hr/direktori/plt"))
    assert "Belum ada penugasan Plt/Plh." in page
    assert "Berakhir" in text(b.get("/hr/direktori/plt?semua=1"))


def test_every_directory_page_in_english(stack):
    b = hr(stack)
    for path, words in (
        ("/hr/direktori/pegawai?lang=en", "Search name or NIP"),
        (f"/hr/direktori/pegawai/{HEAD}?lang=en", "Change the employee's details"),
        ("/hr/direktori/impor?lang=en", "Check (saves nothing)"),
        ("/hr/direktori/plt?lang=en", "Appoint a Plt/Plh"),
    ):
        page = html.unescape(text(b.get(path)))
        assert words in page, path


def test_import_units_then_the_tree_shows_them_in_place(stack):
    b = hr(stack)
    units = "code,name,parent_code,head_nip\nSUB-A1,Subbagian Data,SEK-A,\nSUB-X,Subbagian Yatim,NOPE,\n"
    resp = b.post("/hr/direktori/impor", {"kind": "units", "action": "check", "csv_text": units})
    assert resp.status_code == 422 and error_cells(text(resp)) == {(3, "parent_code")}
    assert stack.org.count("/units") == 3
    resp = b.post("/hr/direktori/impor", {"kind": "units", "action": "import", "csv_text": units.rsplit("SUB-X", 1)[0]})
    assert resp.status_code == 200 and "Impor selesai: 1 baru" in text(resp)
    page = text(resp)  # back on the tree: the new unit right below its parent, one level deeper
    assert re.findall(r'<tr id="unit-([^"]+)"', page) == ["DINAS", "SEK-A", "SUB-A1", "SEK-B"]
    assert re.search(r'class="depth-2">.*Subbagian Data', page)


def test_every_catalogue_key_of_these_pages_exists_in_both_languages():
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "services" / "portal"
    own = {lang: json.loads((root / "messages" / "hr_directory" / f"{lang}.json").read_text()) for lang in ("id", "en")}
    assert set(own["id"]) == set(own["en"])
    merged = {lang: dict(own[lang]) for lang in own}
    for lang in merged:
        for path in (root / "messages" / f"{lang}.json", root / "messages" / "hr" / f"{lang}.json"):
            merged[lang] |= json.loads(path.read_text())
    sources = [root / "pages_hr_directory.py"] + [
        root / "templates" / "portal" / "hr" / f"{n}.html"
        for n in ("_dirnav", "directory", "employees", "employee", "import", "acting")
    ]
    used = set()
    for path in sources:
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+(?:\.[a-z_0-9]+)+)["']""", path.read_text()))
    assert len(used) > 60
    for lang, messages in merged.items():
        assert not sorted(used - set(messages)), lang
