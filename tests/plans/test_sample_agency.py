"""The deterministic sample agency (units, employees, NIPs, reporting lines, CSV, RHK text)."""

from __future__ import annotations

import csv
import io
import random
import re
from datetime import date

import pytest

from kinerja import sample_agency as sa

ASPECTS = {"kuantitas", "kualitas", "waktu", "biaya"}


@pytest.fixture(scope="module")
def agency() -> sa.SampleAgency:
    return sa.build()


def _first_given_name(name: str) -> str:
    core = name.split(",", 1)[0]  # drop suffix titles ("..., S.Kom., M.Si.")
    tokens = [t for t in core.split() if t not in sa.PREFIX_TITLES]
    assert tokens, name
    return tokens[0]


# ----------------------------------------------------------------- determinism and size


def test_same_seed_same_agency():
    a, b = sa.build(2026), sa.build(2026)
    assert a == b
    assert sa.employees_csv(a) == sa.employees_csv(b)
    assert sa.units_csv(a) == sa.units_csv(b)


def test_other_seed_other_people():
    a, b = sa.build(2026), sa.build(2027)
    assert {e.nip for e in a.employees} != {e.nip for e in b.employees}


def test_default_size_and_header(agency):
    assert 190 <= len(agency.employees) <= 210
    assert agency.code == sa.AGENCY_CODE and agency.name == sa.AGENCY_NAME
    assert 8 <= len(agency.units) <= 20


@pytest.mark.parametrize("target", [80, 150, 260])
def test_other_targets(target):
    assert len(sa.build(5, target).employees) == target


# ----------------------------------------------------------------- NIP


def _check_nip(nip: str) -> None:
    assert re.fullmatch(r"\d{18}", nip), nip
    birth = date(int(nip[0:4]), int(nip[4:6]), int(nip[6:8]))  # raises if not a real date
    assert 1965 <= birth.year <= 1998, nip
    appt_year, appt_month = int(nip[8:12]), int(nip[12:14])
    assert 1 <= appt_month <= 12, nip
    appointed = date(appt_year, appt_month, 1)
    assert appointed <= date(2024, 12, 1), nip
    # age at appointment >= 20 (compare tuples to avoid 29 February arithmetic)
    assert (appointed.year, appointed.month, appointed.day) >= (birth.year + 20, birth.month, birth.day), nip
    assert (appointed.year, appointed.month, appointed.day) < (birth.year + 36, birth.month, birth.day), nip
    assert nip[14] in "12", nip
    assert 1 <= int(nip[15:18]) <= 999, nip


def test_nips_valid_and_unique(agency):
    nips = [e.nip for e in agency.employees]
    for nip in nips:
        _check_nip(nip)
    assert len(set(nips)) == len(nips)


def test_first_name_lists_are_disjoint():
    assert sa.MALE_FIRST_NAMES and sa.FEMALE_FIRST_NAMES
    assert not (sa.MALE_FIRST_NAMES & sa.FEMALE_FIRST_NAMES)


def test_sex_digit_matches_first_name(agency):
    for e in agency.employees:
        first = _first_given_name(e.name)
        expected = sa.FEMALE_FIRST_NAMES if e.nip[14] == "2" else sa.MALE_FIRST_NAMES
        assert first in expected, (e.nip, e.name)
        assert sa.given_name(e.name) == first
        if "Hj." in e.name.split() or "Dra." in e.name.split():
            assert e.nip[14] == "2", e.name
        if "H." in e.name.split() or "Drs." in e.name.split():
            assert e.nip[14] == "1", e.name
    sexes = {e.nip[14] for e in agency.employees}
    assert sexes == {"1", "2"}


def test_bidan_are_women(agency):
    bidan = [e for e in agency.employees if e.position.startswith("Bidan")]
    assert bidan
    assert all(e.nip[14] == "2" for e in bidan)


# ----------------------------------------------------------------- contact data and attributes


def test_emails_phones_unique_and_well_formed(agency):
    emails = [e.email for e in agency.employees]
    assert len(set(emails)) == len(emails)
    domain = re.escape(sa.EMAIL_DOMAIN)
    for email in emails:
        assert re.fullmatch(rf"[a-z0-9]+(\.[a-z0-9]+)*@{domain}", email), email
        assert email.isascii() and email == email.lower()
    phones = [e.phone for e in agency.employees]
    assert len(set(phones)) == len(phones)
    assert all(re.fullmatch(r"08\d{8,11}", p) for p in phones)


def test_grades_positions_language(agency):
    for e in agency.employees:
        assert e.grade in sa.GRADES, e.grade
        assert re.fullmatch(r"(II|III|IV)/[a-e]", e.grade)
        assert e.position.strip()
        assert e.language in {"id", "en"}
    langs = [e.language for e in agency.employees]
    assert 1 <= langs.count("en") <= len(langs) // 10
    root = next(e for e in agency.employees if e.superior_nip is None)
    assert root.position == "Sekretaris Daerah" and root.grade in {"IV/c", "IV/d"}
    # heads of dinas rank at least III/c; seniority: the Sekda is not outranked by anybody
    for e in agency.employees:
        if e.is_head:
            assert sa.GRADES.index(e.grade) >= sa.GRADES.index("III/c"), e
        assert sa.GRADES.index(e.grade) <= sa.GRADES.index(root.grade)
    positions = " | ".join(e.position for e in agency.employees)
    for expected in (
        "Kepala Dinas",
        "Sekretaris",
        "Kepala Bidang",
        "Kepala Puskesmas",
        "Dokter",
        "Perawat",
        "Bidan",
        "Analis Kebijakan",
        "Pranata Komputer",
        "Pengadministrasi Umum",
        "Guru",
    ):
        assert expected in positions, expected


# ----------------------------------------------------------------- units and reporting lines


def test_units_tree(agency):
    codes = [u.code for u in agency.units]
    assert len(set(codes)) == len(codes)
    by_code = {u.code: u for u in agency.units}
    roots = [u for u in agency.units if u.parent_code is None]
    assert [u.code for u in roots] == ["SETDA"]
    for u in agency.units:
        seen = set()
        cur = u
        while cur.parent_code is not None:
            assert cur.code not in seen, "cycle in units"
            seen.add(cur.code)
            cur = by_code[cur.parent_code]
        assert cur.code == "SETDA"
    puskesmas = [u for u in agency.units if u.parent_code == "DINKES" and u.code.startswith("PKM-")]
    assert 2 <= len(puskesmas) <= 3
    for code in ("DINKES", "DISDIK", "DISDUKCAPIL", "BKPSDM", "DISKOMINFO"):
        assert by_code[code].parent_code == "SETDA"
    assert any(u.parent_code == "DISDUKCAPIL" for u in agency.units)


def test_unit_heads(agency):
    by_nip = {e.nip: e for e in agency.employees}
    heads = {u.code: u.head_nip for u in agency.units}
    for u in agency.units:
        head = by_nip[u.head_nip]
        assert head.is_head and head.unit_code == u.code
        if u.parent_code is None:
            assert head.superior_nip is None
        else:
            assert head.superior_nip == heads[u.parent_code]
    assert sum(e.is_head for e in agency.employees) == len(agency.units)
    assert {e.unit_code for e in agency.employees} == set(heads)


def test_reporting_lines(agency):
    by_nip = {e.nip: e for e in agency.employees}
    units = {u.code: u for u in agency.units}
    roots = [e for e in agency.employees if e.superior_nip is None]
    assert len(roots) == 1 and roots[0].unit_code == "SETDA"
    for e in agency.employees:
        if e.superior_nip is None:
            continue
        boss = by_nip[e.superior_nip]  # exists
        assert boss.unit_code in {e.unit_code, units[e.unit_code].parent_code}
        if not e.is_head:
            assert boss.unit_code == e.unit_code
        # no cycles; depth inside a unit at most 3 levels (head -> section -> staff)
        seen, cur, levels_in_unit = {e.nip}, e, 1
        while cur.superior_nip is not None:
            cur = by_nip[cur.superior_nip]
            assert cur.nip not in seen, "reporting cycle"
            seen.add(cur.nip)
            if cur.unit_code == e.unit_code:
                levels_in_unit += 1
        assert cur is roots[0]
        assert levels_in_unit <= 3


def test_span_of_control(agency):
    reports: dict[str, int] = {}
    for e in agency.employees:
        if e.superior_nip:
            reports[e.superior_nip] = reports.get(e.superior_nip, 0) + 1
    by_nip = {e.nip: e for e in agency.employees}
    for nip, n in reports.items():
        boss = by_nip[nip]
        if not boss.is_head:  # kepala bidang / bagian / seksi / subbagian
            assert 3 <= n <= 12, (boss.position, n)
        assert n <= 40, (boss.position, n)


# ----------------------------------------------------------------- CSV


def test_units_csv_round_trip(agency):
    rows = list(csv.DictReader(io.StringIO(sa.units_csv(agency))))
    assert list(rows[0].keys()) == ["code", "name", "parent_code"]
    assert {(r["code"], r["name"], r["parent_code"] or None) for r in rows} == {
        (u.code, u.name, u.parent_code) for u in agency.units
    }
    seen = set()
    for r in rows:
        assert r["parent_code"] == "" or r["parent_code"] in seen
        seen.add(r["code"])


def test_employees_csv_round_trip(agency):
    text = sa.employees_csv(agency)
    reader = csv.DictReader(io.StringIO(text))
    assert reader.fieldnames == [
        "nip",
        "name",
        "email",
        "phone",
        "position",
        "grade",
        "unit_code",
        "superior_nip",
        "language",
    ]
    rows = list(reader)
    assert len(rows) == len(agency.employees)
    by_nip = {e.nip: e for e in agency.employees}
    seen: set[str] = set()
    roots = 0
    for r in rows:
        e = by_nip[r["nip"]]
        assert (r["name"], r["email"], r["phone"], r["position"], r["grade"], r["unit_code"], r["language"]) == (
            e.name,
            e.email,
            e.phone,
            e.position,
            e.grade,
            e.unit_code,
            e.language,
        )
        assert (r["superior_nip"] or None) == e.superior_nip
        if r["superior_nip"] == "":
            roots += 1
        else:
            assert r["superior_nip"] in seen, "superior must be listed before the report"
        seen.add(r["nip"])
    assert roots == 1


# ----------------------------------------------------------------- RHK text


def _check_rhk(rhk: dict) -> None:
    assert isinstance(rhk["description"], str) and len(rhk["description"]) > 15
    iki = rhk["iki"]
    assert 1 <= len(iki) <= 3
    aspects = [i["aspect"] for i in iki]
    assert len(set(aspects)) == len(aspects)
    assert set(aspects) <= ASPECTS
    for i in iki:
        assert i["indicator"].strip() and i["target_unit"].strip()
        assert isinstance(i["target_value"], (int, float)) and not isinstance(i["target_value"], bool)
        assert i["target_value"] > 0


def test_head_goals_per_unit(agency):
    for u in agency.units:
        goals = sa.head_goals(u.code)
        assert 2 <= len(goals) <= 4
        assert all(isinstance(g, str) and g for g in goals)
    assert any("KTP-el" in g and "akta kelahiran" in g for g in sa.head_goals("DISDUKCAPIL"))
    assert any("pelayanan kesehatan dasar" in g for g in sa.head_goals("PKM-01"))


def test_rhk_cascade_for_every_employee(agency):
    rng = random.Random(11)
    rhk: dict[str, dict] = {}
    for e in agency.employees:  # superiors come first
        if e.superior_nip is None:
            parent = sa.head_goals(e.unit_code)[0]
        else:  # a unit head cascades from the parent unit's head, staff from their direct superior
            parent = rhk[e.superior_nip]["description"]
        rhk[e.nip] = sa.rhk_for(e.position, e.unit_code, parent, rng)
        _check_rhk(rhk[e.nip])
        # every position of the sample has its own concrete template, not the generic fallback
        assert not rhk[e.nip]["description"].startswith("Terlaksananya tugas"), e.position
    # heads take one of their unit's goals (perjanjian kinerja)
    for u in agency.units:
        assert rhk[u.head_nip]["description"] in sa.head_goals(u.code)


def test_rhk_examples_and_determinism():
    perawat = sa.rhk_for(
        "Perawat Ahli Pertama", "PKM-01", "Meningkatnya cakupan pelayanan kesehatan dasar", random.Random(1)
    )
    _check_rhk(perawat)
    assert "keperawatan" in perawat["description"]
    again = sa.rhk_for(
        "Perawat Ahli Pertama", "PKM-01", "Meningkatnya cakupan pelayanan kesehatan dasar", random.Random(1)
    )
    assert again == perawat
    ktp = sa.rhk_for(
        "Kepala Seksi Pelayanan KTP-el",
        "UPT-ADMINDUK",
        "Meningkatnya kecepatan pelayanan KTP-el dan akta kelahiran di unit pelayanan",
        random.Random(2),
    )
    _check_rhk(ktp)
    assert "KTP-el" in ktp["description"]
    unknown = sa.rhk_for("Penjaga Mercusuar", "XYZ", "Meningkatnya keselamatan pelayaran", random.Random(3))
    _check_rhk(unknown)
    assert "Meningkatnya keselamatan pelayaran" in unknown["description"]
    for seed in range(30):
        _check_rhk(sa.rhk_for("Guru Matematika Ahli Muda", "SMPN-01", "", random.Random(seed)))
