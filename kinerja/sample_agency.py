"""Deterministic sample agency for demos and tests.

Generates a fictional city government ("Pemerintah Kota Teluk Damar") with a
tree of units (Sekretariat Daerah at the root, dinas/badan below it, puskesmas,
a school and a civil-registration service unit below their dinas) and about
200 employees with realistic Indonesian names, valid NIPs, golongan, positions
and reporting lines.  It also provides RHK/IKI text for cascaded SKP demos.

Everything is driven by ``random.Random(seed)``: no I/O, no clock.
"""

from __future__ import annotations

import calendar
import csv
import dataclasses
import io
import random
import re
from dataclasses import dataclass

__all__ = [
    "AGENCY_CODE",
    "AGENCY_NAME",
    "CITY_NAME",
    "EMAIL_DOMAIN",
    "GRADES",
    "PREFIX_TITLES",
    "MALE_FIRST_NAMES",
    "FEMALE_FIRST_NAMES",
    "SampleUnit",
    "SampleEmployee",
    "SampleAgency",
    "build",
    "units_csv",
    "employees_csv",
    "unit_kind",
    "head_goals",
    "rhk_for",
    "given_name",
]

CITY_NAME = "Teluk Damar"
AGENCY_CODE = "PKTD"
AGENCY_NAME = f"Pemerintah Kota {CITY_NAME}"
EMAIL_DOMAIN = "telukdamar.go.id"

#: Golongan ruang from low to high (golongan I is not used for this sample).
GRADES: tuple[str, ...] = (
    "II/a",
    "II/b",
    "II/c",
    "II/d",
    "III/a",
    "III/b",
    "III/c",
    "III/d",
    "IV/a",
    "IV/b",
    "IV/c",
    "IV/d",
    "IV/e",
)
_G = {g: i for i, g in enumerate(GRADES)}

#: Titles that may precede the given name (academic, professional, religious).
PREFIX_TITLES: tuple[str, ...] = ("dr.", "drg.", "apt.", "Drs.", "Dra.", "Ir.", "Dr.", "H.", "Hj.")

_REFERENCE_YEAR = 2025  # "now" for seniority, fixed (no clock)
_LAST_APPOINTMENT = (2024, 12)  # no appointment after this month


# --------------------------------------------------------------------------- public types


@dataclass(frozen=True)
class SampleUnit:
    code: str
    name: str
    parent_code: str | None
    head_nip: str | None


@dataclass(frozen=True)
class SampleEmployee:
    nip: str
    name: str
    email: str
    phone: str
    position: str
    grade: str
    unit_code: str
    superior_nip: str | None
    language: str
    is_head: bool


@dataclass(frozen=True)
class SampleAgency:
    code: str
    name: str
    units: list[SampleUnit]
    employees: list[SampleEmployee]


# --------------------------------------------------------------------------- names


@dataclass(frozen=True)
class _NameGroup:
    religion: str  # "islam" | "kristen"
    weight: int
    male_first: tuple[str, ...]
    female_first: tuple[str, ...]
    male_second: tuple[str, ...]
    female_second: tuple[str, ...]
    single_name_prob: float = 0.0
    clan: tuple[str, ...] = ()  # marga: appended for both sexes
    boru_prob: float = 0.0  # women written "X br. Marga"


_NAME_GROUPS: dict[str, _NameGroup] = {
    "jawa": _NameGroup(
        religion="islam",
        weight=24,
        single_name_prob=0.15,
        male_first=(
            "Budi",
            "Agus",
            "Joko",
            "Slamet",
            "Bambang",
            "Heru",
            "Eko",
            "Bayu",
            "Hendro",
            "Sugeng",
            "Teguh",
            "Yudi",
            "Sutrisno",
            "Mulyono",
            "Sugiyanto",
            "Haryanto",
            "Arif",
        ),
        female_first=(
            "Sri",
            "Retno",
            "Wulan",
            "Dewi",
            "Rini",
            "Suparmi",
            "Sumarni",
            "Suwarni",
            "Tutik",
            "Ratna",
            "Indah",
            "Ayu",
            "Kartika",
            "Diah",
            "Endah",
        ),
        male_second=(
            "Santoso",
            "Wibowo",
            "Prasetyo",
            "Setiawan",
            "Susanto",
            "Hartono",
            "Nugroho",
            "Kurniawan",
            "Saputro",
            "Purnomo",
            "Widodo",
            "Raharjo",
            "Sulistyo",
        ),
        female_second=(
            "Wahyuni",
            "Lestari",
            "Rahayu",
            "Handayani",
            "Kusumawati",
            "Puspitasari",
            "Wulandari",
            "Susanti",
            "Setyaningsih",
            "Purwanti",
            "Hastuti",
        ),
    ),
    "sunda": _NameGroup(
        religion="islam",
        weight=6,
        male_first=("Asep", "Ujang", "Cecep", "Dadang", "Yayan", "Deden", "Aceng", "Ujang", "Iwan"),
        female_first=("Euis", "Iis", "Cucu", "Nining", "Imas", "Neneng", "Yeni", "Rina"),
        male_second=(
            "Sunandar",
            "Suherman",
            "Supriatna",
            "Hermawan",
            "Saepudin",
            "Ruhimat",
            "Permana",
            "Sopandi",
            "Hidayat",
        ),
        female_second=("Rahmawati", "Nurhasanah", "Komalasari", "Sumiati", "Kurniasih", "Mulyani", "Marlina"),
    ),
    "minang": _NameGroup(
        religion="islam",
        weight=12,
        male_first=(
            "Rahmat",
            "Fauzan",
            "Yusuf",
            "Hendra",
            "Zulfikar",
            "Afrizal",
            "Syafri",
            "Andri",
            "Fadli",
            "Yuliandri",
            "Irwandi",
        ),
        female_first=("Yulia", "Fitri", "Yenni", "Desi", "Silvia", "Elvira", "Rosmaini", "Mardiah", "Yusnita"),
        male_second=(
            "Hidayat",
            "Putra",
            "Rasyid",
            "Effendi",
            "Yunus",
            "Chaniago",
            "Piliang",
            "Tanjung",
            "Sikumbang",
            "Koto",
        ),
        female_second=("Rahmi", "Yanti", "Afriani", "Syafitri", "Marlina", "Oktavia", "Yusra"),
    ),
    "melayu": _NameGroup(
        religion="islam",
        weight=12,
        male_first=(
            "Syahrial",
            "Zulkifli",
            "Azhar",
            "Fauzi",
            "Khairul",
            "Mahmud",
            "Rizal",
            "Iskandar",
            "Syamsul",
            "Ismail",
        ),
        female_first=(
            "Zubaidah",
            "Rosmawati",
            "Syarifah",
            "Mariani",
            "Nurhayati",
            "Rohani",
            "Zuraidah",
            "Nurlela",
            "Rahimah",
        ),
        male_second=("Syahputra", "Hamzah", "Effendi", "Abdullah", "Husin", "Yahya", "Arifin"),
        female_second=("Syahfitri", "Hanum", "Maharani", "Aryani", "Khairani", "Fadhilah"),
    ),
    "muslim": _NameGroup(
        religion="islam",
        weight=10,
        male_first=("Muhammad", "Ahmad", "Abdul", "Rizky", "Fajar", "Hasan", "Ilham", "Reza", "Fikri", "Taufik"),
        female_first=("Siti", "Fatimah", "Aisyah", "Nurul", "Annisa", "Rahmah", "Khairunnisa", "Zahra", "Laila"),
        male_second=(
            "Pratama",
            "Ramadhan",
            "Maulana",
            "Firmansyah",
            "Hidayatullah",
            "Saputra",
            "Hakim",
            "Rahman",
            "Fauzan",
        ),
        female_second=("Hidayah", "Fitriani", "Rahmawati", "Azzahra", "Safitri", "Ramadhani", "Zulaikha", "Maulida"),
    ),
    "batak_toba": _NameGroup(
        religion="kristen",
        weight=18,
        boru_prob=0.4,
        male_first=(
            "Roy",
            "Parlindungan",
            "Maruli",
            "Togar",
            "Hotman",
            "Jansen",
            "Benny",
            "Frans",
            "Robert",
            "Daniel",
            "Samuel",
            "Yosua",
            "Jonathan",
            "Hotasi",
        ),
        female_first=(
            "Tiurma",
            "Lamria",
            "Romauli",
            "Rosmaida",
            "Debora",
            "Lidia",
            "Yohana",
            "Rotua",
            "Masniari",
            "Ruth",
            "Juliana",
        ),
        male_second=("Parulian", "Halomoan", "Martua", "Tua"),
        female_second=("Sari", "Uli", "Natalia", "Kristina"),
        clan=(
            "Simanjuntak",
            "Sinaga",
            "Pardede",
            "Panjaitan",
            "Hutapea",
            "Sitompul",
            "Manurung",
            "Situmorang",
            "Silalahi",
            "Simatupang",
            "Hutagalung",
            "Sihombing",
            "Tambunan",
            "Napitupulu",
            "Sirait",
            "Siahaan",
        ),
    ),
    "mandailing": _NameGroup(
        religion="islam",
        weight=13,
        male_first=("Irwan", "Rahmad", "Syaiful", "Parlaungan", "Ridwan", "Sahrul", "Baginda", "Amiruddin"),
        female_first=("Hasnah", "Maslina", "Nurhayati", "Rosmawati", "Salmah", "Hotnida", "Rismawati"),
        male_second=("Hamonangan", "Sakti", "Pangihutan"),
        female_second=("Hannum", "Sari", "Wardani"),
        clan=(
            "Nasution",
            "Lubis",
            "Harahap",
            "Siregar",
            "Hasibuan",
            "Daulay",
            "Rangkuti",
            "Batubara",
            "Pulungan",
            "Matondang",
        ),
    ),
    "kristen": _NameGroup(
        religion="kristen",
        weight=5,
        male_first=(
            "Yohanes",
            "Paulus",
            "Petrus",
            "Stefanus",
            "Agustinus",
            "Antonius",
            "Fransiskus",
            "Markus",
            "Kristian",
        ),
        female_first=("Maria", "Elisabeth", "Kristina", "Magdalena", "Theresia", "Agnes", "Veronika", "Natalia"),
        male_second=("Wijaya", "Kristanto", "Sutanto", "Halawa", "Zebua", "Laia", "Gea"),
        female_second=("Kristiani", "Setiawati", "Halawa", "Zebua", "Laia", "Novitasari"),
    ),
}

MALE_FIRST_NAMES: frozenset[str] = frozenset(n for g in _NAME_GROUPS.values() for n in g.male_first)
FEMALE_FIRST_NAMES: frozenset[str] = frozenset(n for g in _NAME_GROUPS.values() for n in g.female_first)
assert not (MALE_FIRST_NAMES & FEMALE_FIRST_NAMES), MALE_FIRST_NAMES & FEMALE_FIRST_NAMES


def given_name(full_name: str) -> str:
    """The first given name of a display name, ignoring prefix and suffix titles."""
    core = full_name.split(",", 1)[0]
    for token in core.split():
        if token not in PREFIX_TITLES:
            return token
    raise ValueError(f"no given name in {full_name!r}")


# --------------------------------------------------------------------------- positions

# education: (start grade index, minimum age at appointment)
_EDU = {
    "SMA": (_G["II/a"], 20),
    "D3": (_G["II/c"], 21),
    "S1": (_G["III/a"], 22),
    "PROF": (_G["III/a"], 24),  # Ners, apoteker, profesi
    "DR": (_G["III/b"], 25),  # dokter / dokter gigi
}


@dataclass(frozen=True)
class _Edu:
    weight: int
    edu: str
    prefix: tuple[str, ...] = ("",)
    suffix: tuple[str, ...] = ("",)
    track: str | None = None  # None: pelaksana; "ahli" / "terampil": jabatan fungsional


@dataclass(frozen=True)
class _StaffProfile:
    options: tuple[_Edu, ...]
    female_prob: float = 0.5
    religion: str | None = None


def _p(*options: _Edu, female: float = 0.5, religion: str | None = None) -> _StaffProfile:
    return _StaffProfile(options, female, religion)


_STAFF: dict[str, _StaffProfile] = {
    # --- administrasi umum
    "Pengadministrasi Umum": _p(
        _Edu(5, "SMA"), _Edu(2, "D3", suffix=("A.Md.",)), _Edu(2, "S1", suffix=("S.Sos.", "S.E.", "S.AP."))
    ),
    "Pengadministrasi Perkantoran": _p(_Edu(3, "SMA"), _Edu(2, "D3", suffix=("A.Md.",))),
    "Pengelola Keuangan": _p(_Edu(2, "D3", suffix=("A.Md.Ak.",)), _Edu(3, "S1", suffix=("S.E.", "S.Ak."))),
    "Bendahara": _p(_Edu(1, "D3", suffix=("A.Md.",)), _Edu(2, "S1", suffix=("S.E.", "S.Ak."))),
    "Pengelola Barang Milik Daerah": _p(_Edu(2, "SMA"), _Edu(1, "S1", suffix=("S.E.",))),
    "Arsiparis": _p(
        _Edu(1, "D3", suffix=("A.Md.Ars.",), track="terampil"),
        _Edu(1, "S1", suffix=("S.I.Kom.", "S.Hum."), track="ahli"),
        female=0.6,
    ),
    "Analis Sumber Daya Manusia Aparatur": _p(
        _Edu(1, "S1", suffix=("S.Psi.", "S.Sos.", "S.AP.", "S.Psi., M.Psi."), track="ahli"), female=0.55
    ),
    "Pranata Sumber Daya Manusia Aparatur": _p(_Edu(1, "D3", suffix=("A.Md.",), track="terampil")),
    "Asesor Sumber Daya Manusia Aparatur": _p(
        _Edu(1, "S1", suffix=("S.Psi., M.Psi.", "S.Psi."), track="ahli"), female=0.6
    ),
    "Analis Kebijakan": _p(
        _Edu(1, "S1", suffix=("S.Sos.", "S.IP.", "S.AP., M.AP.", "S.Sos., M.Si.", "S.IP., M.Si."), track="ahli")
    ),
    "Perencana": _p(_Edu(1, "S1", suffix=("S.T.", "S.E., M.Si.", "S.P.W.K.", "S.T., M.T.", "S.E."), track="ahli")),
    "Analis Hukum": _p(_Edu(1, "S1", suffix=("S.H.", "S.H., M.H."), track="ahli")),
    "Perancang Peraturan Perundang-undangan": _p(_Edu(1, "S1", suffix=("S.H.", "S.H., M.H."), track="ahli")),
    "Pranata Hubungan Masyarakat": _p(_Edu(1, "S1", suffix=("S.I.Kom.", "S.Sos."), track="ahli"), female=0.6),
    "Analis Pengelolaan Keuangan APBD": _p(_Edu(1, "S1", suffix=("S.E.", "S.Ak.", "S.E., M.Ak."), track="ahli")),
    "Widyaiswara": _p(_Edu(1, "S1", suffix=("S.Pd., M.Pd.", "S.Sos., M.Si."), track="ahli")),
    # --- informatika
    "Pranata Komputer": _p(
        _Edu(2, "D3", suffix=("A.Md.Kom.", "A.Md.T."), track="terampil"),
        _Edu(4, "S1", suffix=("S.Kom.", "S.T.", "S.Kom., M.Kom."), track="ahli"),
        female=0.35,
    ),
    "Analis Sistem Informasi": _p(_Edu(1, "S1", suffix=("S.Kom.", "S.Kom., M.T.", "S.SI."), track="ahli"), female=0.35),
    "Sandiman": _p(
        _Edu(1, "D3", suffix=("A.Md.",), track="terampil"),
        _Edu(1, "S1", suffix=("S.Tr.Sandi", "S.Kom."), track="ahli"),
        female=0.3,
    ),
    "Statistisi": _p(_Edu(1, "S1", suffix=("S.Si.", "S.Stat.", "S.Tr.Stat."), track="ahli"), female=0.55),
    "Operator Layanan Daring": _p(_Edu(2, "SMA"), _Edu(2, "D3", suffix=("A.Md.Kom.",))),
    # --- kesehatan
    "Dokter": _p(
        _Edu(4, "DR", prefix=("dr.",), track="ahli"),
        _Edu(1, "DR", prefix=("dr.",), suffix=("M.Kes.",), track="ahli"),
        female=0.65,
    ),
    "Dokter Gigi": _p(_Edu(1, "DR", prefix=("drg.",), track="ahli"), female=0.7),
    "Perawat": _p(
        _Edu(3, "D3", suffix=("A.Md.Kep.",), track="terampil"),
        _Edu(4, "PROF", suffix=("S.Kep., Ners",), track="ahli"),
        female=0.72,
    ),
    "Bidan": _p(
        _Edu(4, "D3", suffix=("A.Md.Keb.",), track="terampil"),
        _Edu(2, "PROF", suffix=("S.Tr.Keb., Bd.", "S.Keb., Bd."), track="ahli"),
        female=1.0,
    ),
    "Apoteker": _p(_Edu(1, "PROF", prefix=("apt.",), suffix=("S.Farm.",), track="ahli"), female=0.7),
    "Asisten Apoteker": _p(_Edu(1, "D3", suffix=("A.Md.Farm.",), track="terampil"), female=0.7),
    "Pranata Laboratorium Kesehatan": _p(
        _Edu(3, "D3", suffix=("A.Md.A.K.",), track="terampil"),
        _Edu(1, "S1", suffix=("S.Tr.Kes.",), track="ahli"),
        female=0.65,
    ),
    "Nutrisionis": _p(
        _Edu(1, "D3", suffix=("A.Md.Gz.",), track="terampil"),
        _Edu(2, "S1", suffix=("S.Gz.",), track="ahli"),
        female=0.8,
    ),
    "Sanitarian": _p(
        _Edu(2, "D3", suffix=("A.Md.K.L.",), track="terampil"), _Edu(1, "S1", suffix=("S.K.M.",), track="ahli")
    ),
    "Epidemiolog Kesehatan": _p(_Edu(1, "S1", suffix=("S.K.M.", "S.K.M., M.Epid."), track="ahli"), female=0.6),
    "Penyuluh Kesehatan Masyarakat": _p(_Edu(1, "S1", suffix=("S.K.M.",), track="ahli"), female=0.6),
    "Perekam Medis": _p(_Edu(1, "D3", suffix=("A.Md.RMIK",), track="terampil"), female=0.65),
    "Administrator Kesehatan": _p(_Edu(1, "S1", suffix=("S.K.M.", "S.K.M., M.Kes."), track="ahli"), female=0.55),
    "Pengelola Program Imunisasi": _p(
        _Edu(
            1,
            "D3",
            suffix=("A.Md.Kep.", "A.Md.Keb."),
        ),
        _Edu(1, "S1", suffix=("S.K.M.",)),
        female=0.7,
    ),
    # --- pendidikan
    "Guru Matematika": _p(_Edu(1, "S1", suffix=("S.Pd.", "S.Pd., M.Pd.", "S.Si."), track="ahli"), female=0.6),
    "Guru Bahasa Indonesia": _p(_Edu(1, "S1", suffix=("S.Pd.", "S.Pd., M.Pd."), track="ahli"), female=0.75),
    "Guru Bahasa Inggris": _p(_Edu(1, "S1", suffix=("S.Pd.", "S.S."), track="ahli"), female=0.7),
    "Guru Ilmu Pengetahuan Alam": _p(_Edu(1, "S1", suffix=("S.Pd.", "S.Si."), track="ahli"), female=0.6),
    "Guru Ilmu Pengetahuan Sosial": _p(_Edu(1, "S1", suffix=("S.Pd.",), track="ahli"), female=0.6),
    "Guru Pendidikan Pancasila": _p(_Edu(1, "S1", suffix=("S.Pd.",), track="ahli"), female=0.55),
    "Guru Pendidikan Agama Islam": _p(
        _Edu(1, "S1", suffix=("S.Pd.I.", "S.Ag."), track="ahli"), female=0.5, religion="islam"
    ),
    "Guru Pendidikan Agama Kristen": _p(
        _Edu(1, "S1", suffix=("S.Pd.K.", "S.Th."), track="ahli"), female=0.5, religion="kristen"
    ),
    "Guru Pendidikan Jasmani": _p(_Edu(1, "S1", suffix=("S.Pd.", "S.Or."), track="ahli"), female=0.25),
    "Guru Seni Budaya": _p(_Edu(1, "S1", suffix=("S.Pd.", "S.Sn."), track="ahli"), female=0.6),
    "Guru Bimbingan dan Konseling": _p(_Edu(1, "S1", suffix=("S.Pd.", "S.Psi."), track="ahli"), female=0.7),
    "Guru Informatika": _p(_Edu(1, "S1", suffix=("S.Kom.", "S.Pd."), track="ahli"), female=0.45),
    "Pustakawan": _p(
        _Edu(1, "D3", suffix=("A.Md.",), track="terampil"),
        _Edu(1, "S1", suffix=("S.IIP.", "S.Hum."), track="ahli"),
        female=0.7,
    ),
    "Pranata Laboratorium Pendidikan": _p(_Edu(1, "D3", suffix=("A.Md.",), track="terampil"), female=0.5),
    "Pengawas Sekolah": _p(_Edu(1, "S1", suffix=("S.Pd., M.Pd.", "M.Pd."), track="ahli"), female=0.5),
    "Penilik": _p(_Edu(1, "S1", suffix=("S.Pd.", "S.Pd., M.Pd."), track="ahli"), female=0.55),
    "Pamong Belajar": _p(_Edu(1, "S1", suffix=("S.Pd.",), track="ahli"), female=0.6),
    "Pengembang Teknologi Pembelajaran": _p(_Edu(1, "S1", suffix=("S.Pd.", "S.Kom.", "S.Pd., M.Pd."), track="ahli")),
    # --- kependudukan dan pencatatan sipil
    "Administrator Database Kependudukan": _p(_Edu(1, "S1", suffix=("S.Kom.", "S.T."), track="ahli"), female=0.4),
    "Pengadministrasi Kependudukan": _p(_Edu(3, "SMA"), _Edu(1, "D3", suffix=("A.Md.",)), female=0.55),
    "Operator Perekaman KTP-el": _p(_Edu(3, "SMA"), _Edu(2, "D3", suffix=("A.Md.Kom.",))),
    "Verifikator Data Kependudukan": _p(
        _Edu(1, "D3", suffix=("A.Md.",)), _Edu(2, "S1", suffix=("S.Sos.", "S.H.", "S.Kom."))
    ),
    "Pengadministrasi Pencatatan Sipil": _p(
        _Edu(2, "SMA"), _Edu(1, "D3", suffix=("A.Md.",)), _Edu(1, "S1", suffix=("S.H.", "S.Sos.")), female=0.6
    ),
    "Verifikator Dokumen Pencatatan Sipil": _p(_Edu(1, "S1", suffix=("S.H.", "S.Sos.")), female=0.55),
}

_KEAHLIAN_LEVELS = ((_G["III/b"], "Ahli Pertama"), (_G["III/d"], "Ahli Muda"), (_G["IV/c"], "Ahli Madya"))
_KETERAMPILAN_LEVELS = ((_G["II/d"], "Terampil"), (_G["III/b"], "Mahir"), (_G["III/d"], "Penyelia"))


def _jf_level(track: str, grade_idx: int) -> str:
    levels = _KEAHLIAN_LEVELS if track == "ahli" else _KETERAMPILAN_LEVELS
    for top, name in levels:
        if grade_idx <= top:
            return name
    return levels[-1][1]


@dataclass(frozen=True)
class _Role:
    """Structural role: head or middle manager."""

    birth: tuple[int, int]
    grade: tuple[int, int]
    titles: tuple[tuple[str, str], ...]  # (prefix, suffix)
    edu: str = "S1"
    female_prob: float = 0.3


_GENERAL_HEAD_TITLES = (
    ("", "S.Sos., M.Si."),
    ("", "S.H., M.H."),
    ("", "S.E., M.M."),
    ("", "S.STP., M.AP."),
    ("Drs.", "M.Si."),
    ("", "S.IP., M.Si."),
    ("Ir.", "M.T."),
    ("Dr.", "S.Sos., M.Si."),
)
_GENERAL_MIDDLE_TITLES = (
    ("", "S.Sos."),
    ("", "S.E."),
    ("", "S.H."),
    ("", "S.STP., M.Si."),
    ("", "S.Sos., M.AP."),
    ("", "S.E., M.M."),
    ("", "S.IP."),
    ("", "S.T."),
    ("", "S.Kom."),
    ("", "S.Kom., M.T."),
)

_ROLE_SEKDA = _Role((1966, 1970), (_G["IV/c"], _G["IV/d"]), _GENERAL_HEAD_TITLES, female_prob=0.2)
_ROLE_KADIS = _Role((1967, 1976), (_G["IV/b"], _G["IV/c"]), _GENERAL_HEAD_TITLES, female_prob=0.3)
_ROLE_MIDDLE = _Role((1968, 1983), (_G["III/d"], _G["IV/b"]), _GENERAL_MIDDLE_TITLES, female_prob=0.4)
_ROLE_KASI = _Role((1974, 1990), (_G["III/b"], _G["IV/a"]), _GENERAL_MIDDLE_TITLES, female_prob=0.45)


@dataclass(frozen=True)
class _UnitSpec:
    code: str
    name: str
    parent: str | None
    kind: str
    weight: int
    head_position: str
    head_role: _Role
    # middle managers: (position, role, staff pool [(staff position, weight)])
    middles: tuple[tuple[str, _Role, tuple[tuple[str, float], ...]], ...]
    # staff reporting directly to the head (puskesmas clinicians, teachers)
    direct: tuple[tuple[str, float], ...] = ()


_ADMIN_POOL = (
    ("Pengadministrasi Umum", 3),
    ("Pengelola Keuangan", 2),
    ("Analis Sumber Daya Manusia Aparatur", 1),
    ("Perencana", 1),
    ("Arsiparis", 1),
    ("Bendahara", 1),
    ("Pengelola Barang Milik Daerah", 1),
)


def _sekretaris(unit: str) -> tuple[str, _Role, tuple[tuple[str, float], ...]]:
    return (f"Sekretaris {unit}", _ROLE_MIDDLE, _ADMIN_POOL)


def _kabid(area: str, pool: tuple[tuple[str, float], ...], role: _Role = _ROLE_MIDDLE):
    return (f"Kepala Bidang {area}", role, pool)


_HEALTH_MIDDLE = _Role(
    (1968, 1983),
    (_G["III/d"], _G["IV/b"]),
    (
        ("dr.", "M.Kes."),
        ("", "S.K.M., M.Kes."),
        ("", "S.K.M."),
        ("dr.", ""),
        ("apt.", "S.Farm., M.Farm."),
        ("", "S.Kep., Ners, M.Kep."),
    ),
    female_prob=0.55,
)
_EDU_MIDDLE = _Role(
    (1968, 1983),
    (_G["III/d"], _G["IV/b"]),
    (("", "S.Pd., M.Pd."), ("Drs.", "M.Pd."), ("", "S.Pd."), ("", "S.Sos., M.Si.")),
    female_prob=0.5,
)


_PUSKESMAS = (
    ("PKM-01", "Puskesmas Teluk Damar", 24),
    ("PKM-02", "Puskesmas Sei Bening", 20),
    ("PKM-03", "Puskesmas Padang Rumbia", 18),
)

_PUSKESMAS_CLINICAL = (
    ("Perawat", 8),
    ("Bidan", 7),
    ("Dokter", 2),
    ("Dokter Gigi", 1),
    ("Apoteker", 1),
    ("Asisten Apoteker", 1),
    ("Pranata Laboratorium Kesehatan", 1),
    ("Nutrisionis", 1),
    ("Sanitarian", 1),
    ("Penyuluh Kesehatan Masyarakat", 1),
    ("Epidemiolog Kesehatan", 0.5),
    ("Pengelola Program Imunisasi", 0.7),
)

_TEACHERS = (
    ("Guru Matematika", 3),
    ("Guru Bahasa Indonesia", 3),
    ("Guru Bahasa Inggris", 2),
    ("Guru Ilmu Pengetahuan Alam", 3),
    ("Guru Ilmu Pengetahuan Sosial", 2),
    ("Guru Pendidikan Pancasila", 1),
    ("Guru Pendidikan Agama Islam", 2),
    ("Guru Pendidikan Agama Kristen", 1),
    ("Guru Pendidikan Jasmani", 1),
    ("Guru Seni Budaya", 1),
    ("Guru Bimbingan dan Konseling", 1),
    ("Guru Informatika", 1),
)

_KTU = _Role(
    (1974, 1990),
    (_G["III/b"], _G["III/d"]),
    (("", "S.E."), ("", "S.Sos."), ("", "S.AP."), ("", "S.K.M.")),
    female_prob=0.55,
)

_UNIT_SPECS: tuple[_UnitSpec, ...] = (
    _UnitSpec(
        "SETDA",
        "Sekretariat Daerah",
        None,
        "setda",
        16,
        "Sekretaris Daerah",
        _ROLE_SEKDA,
        (
            (
                "Kepala Bagian Umum",
                _ROLE_MIDDLE,
                (
                    ("Pengadministrasi Umum", 3),
                    ("Pengelola Barang Milik Daerah", 1),
                    ("Arsiparis", 1),
                    ("Pengadministrasi Perkantoran", 1),
                ),
            ),
            (
                "Kepala Bagian Organisasi",
                _ROLE_MIDDLE,
                (("Analis Kebijakan", 2), ("Analis Sumber Daya Manusia Aparatur", 1), ("Pengadministrasi Umum", 1)),
            ),
            (
                "Kepala Bagian Hukum",
                _ROLE_MIDDLE,
                (("Perancang Peraturan Perundang-undangan", 2), ("Analis Hukum", 2), ("Pengadministrasi Umum", 1)),
            ),
            (
                "Kepala Bagian Perencanaan dan Keuangan",
                _ROLE_MIDDLE,
                (
                    ("Perencana", 1),
                    ("Analis Pengelolaan Keuangan APBD", 2),
                    ("Pengelola Keuangan", 2),
                    ("Bendahara", 1),
                ),
            ),
            (
                "Kepala Bagian Protokol dan Komunikasi Pimpinan",
                _ROLE_MIDDLE,
                (("Pranata Hubungan Masyarakat", 2), ("Pengadministrasi Umum", 1)),
            ),
        ),
    ),
    _UnitSpec(
        "DINKES",
        "Dinas Kesehatan",
        "SETDA",
        "dinkes",
        18,
        "Kepala Dinas Kesehatan",
        _Role(
            (1967, 1976),
            (_G["IV/b"], _G["IV/c"]),
            (("dr.", "M.Kes."), ("dr.", "M.K.M."), ("drg.", "M.Kes.")),
            edu="DR",
            female_prob=0.45,
        ),
        (
            _sekretaris("Dinas Kesehatan"),
            _kabid(
                "Pencegahan dan Pengendalian Penyakit",
                (("Epidemiolog Kesehatan", 2), ("Pengelola Program Imunisasi", 2), ("Perawat", 1), ("Sanitarian", 1)),
                _HEALTH_MIDDLE,
            ),
            _kabid(
                "Kesehatan Masyarakat",
                (("Nutrisionis", 2), ("Penyuluh Kesehatan Masyarakat", 2), ("Bidan", 1), ("Sanitarian", 1)),
                _HEALTH_MIDDLE,
            ),
            _kabid(
                "Pelayanan Kesehatan",
                (("Administrator Kesehatan", 2), ("Apoteker", 1), ("Pranata Komputer", 1), ("Asisten Apoteker", 1)),
                _HEALTH_MIDDLE,
            ),
            _kabid(
                "Sumber Daya Kesehatan",
                (("Administrator Kesehatan", 1), ("Apoteker", 1), ("Pengadministrasi Umum", 1)),
                _HEALTH_MIDDLE,
            ),
        ),
    ),
    *(
        _UnitSpec(
            code,
            name,
            "DINKES",
            "puskesmas",
            weight,
            "Kepala Puskesmas",
            _Role(
                (1970, 1985),
                (_G["III/c"], _G["IV/a"]),
                (("dr.", ""), ("dr.", "M.Kes."), ("", "S.K.M., M.Kes."), ("drg.", "")),
                edu="DR",
                female_prob=0.55,
            ),
            (
                (
                    "Kepala Subbagian Tata Usaha",
                    _KTU,
                    (
                        ("Pengadministrasi Umum", 2),
                        ("Pengelola Keuangan", 1),
                        ("Perekam Medis", 2),
                        ("Pranata Komputer", 1),
                    ),
                ),
            ),
            _PUSKESMAS_CLINICAL,
        )
        for code, name, weight in _PUSKESMAS
    ),
    _UnitSpec(
        "DISDIK",
        "Dinas Pendidikan",
        "SETDA",
        "disdik",
        14,
        "Kepala Dinas Pendidikan",
        _Role(
            (1967, 1976),
            (_G["IV/b"], _G["IV/c"]),
            (("Drs.", "M.Pd."), ("", "S.Pd., M.Pd."), ("Dr.", "S.Pd., M.Pd.")),
            female_prob=0.35,
        ),
        (
            _sekretaris("Dinas Pendidikan"),
            _kabid(
                "Pembinaan Sekolah Dasar",
                (("Pengawas Sekolah", 2), ("Analis Kebijakan", 1), ("Pengadministrasi Umum", 1)),
                _EDU_MIDDLE,
            ),
            _kabid(
                "Pembinaan Sekolah Menengah Pertama",
                (("Pengawas Sekolah", 2), ("Pengembang Teknologi Pembelajaran", 1), ("Pengadministrasi Umum", 1)),
                _EDU_MIDDLE,
            ),
            _kabid(
                "Guru dan Tenaga Kependidikan",
                (
                    ("Analis Sumber Daya Manusia Aparatur", 2),
                    ("Widyaiswara", 1),
                    ("Pengembang Teknologi Pembelajaran", 1),
                ),
                _EDU_MIDDLE,
            ),
            _kabid(
                "Pendidikan Anak Usia Dini dan Pendidikan Nonformal",
                (("Penilik", 2), ("Pamong Belajar", 2)),
                _EDU_MIDDLE,
            ),
        ),
    ),
    _UnitSpec(
        "SMPN-01",
        f"SMP Negeri 1 {CITY_NAME}",
        "DISDIK",
        "sekolah",
        24,
        "Kepala Sekolah",
        _Role(
            (1968, 1982),
            (_G["III/d"], _G["IV/b"]),
            (("", "S.Pd., M.Pd."), ("", "S.Pd."), ("Drs.", "")),
            female_prob=0.5,
        ),
        (
            (
                "Kepala Tata Usaha",
                _KTU,
                (
                    ("Pengadministrasi Umum", 2),
                    ("Pengelola Keuangan", 1),
                    ("Pustakawan", 1),
                    ("Pranata Laboratorium Pendidikan", 1),
                ),
            ),
        ),
        _TEACHERS,
    ),
    _UnitSpec(
        "DISDUKCAPIL",
        "Dinas Kependudukan dan Pencatatan Sipil",
        "SETDA",
        "disdukcapil",
        14,
        "Kepala Dinas Kependudukan dan Pencatatan Sipil",
        _ROLE_KADIS,
        (
            _sekretaris("Dinas Kependudukan dan Pencatatan Sipil"),
            _kabid(
                "Pelayanan Pendaftaran Penduduk",
                (("Verifikator Data Kependudukan", 2), ("Pengadministrasi Kependudukan", 2)),
            ),
            _kabid(
                "Pelayanan Pencatatan Sipil",
                (("Verifikator Dokumen Pencatatan Sipil", 2), ("Pengadministrasi Pencatatan Sipil", 2)),
            ),
            _kabid(
                "Pengelolaan Informasi Administrasi Kependudukan",
                (("Administrator Database Kependudukan", 2), ("Pranata Komputer", 2)),
            ),
        ),
    ),
    _UnitSpec(
        "UPT-ADMINDUK",
        "UPT Pelayanan KTP-el dan Akta Kelahiran",
        "DISDUKCAPIL",
        "upt_adminduk",
        14,
        "Kepala UPT Pelayanan Administrasi Kependudukan",
        _Role((1970, 1985), (_G["III/c"], _G["IV/a"]), _GENERAL_MIDDLE_TITLES, female_prob=0.45),
        (
            (
                "Kepala Seksi Pelayanan KTP-el",
                _ROLE_KASI,
                (
                    ("Operator Perekaman KTP-el", 3),
                    ("Verifikator Data Kependudukan", 1),
                    ("Operator Layanan Daring", 1),
                ),
            ),
            (
                "Kepala Seksi Pelayanan Akta Kelahiran",
                _ROLE_KASI,
                (
                    ("Pengadministrasi Pencatatan Sipil", 3),
                    ("Verifikator Dokumen Pencatatan Sipil", 1),
                    ("Operator Layanan Daring", 1),
                ),
            ),
            (
                "Kepala Seksi Layanan Daring dan Pengaduan",
                _ROLE_KASI,
                (("Operator Layanan Daring", 2), ("Pengadministrasi Kependudukan", 1)),
            ),
        ),
    ),
    _UnitSpec(
        "BKPSDM",
        "Badan Kepegawaian dan Pengembangan Sumber Daya Manusia",
        "SETDA",
        "bkpsdm",
        14,
        "Kepala Badan Kepegawaian dan Pengembangan Sumber Daya Manusia",
        _ROLE_KADIS,
        (
            _sekretaris("Badan Kepegawaian dan Pengembangan Sumber Daya Manusia"),
            _kabid(
                "Penilaian Kinerja Aparatur dan Penghargaan",
                (
                    ("Analis Sumber Daya Manusia Aparatur", 3),
                    ("Pranata Sumber Daya Manusia Aparatur", 1),
                    ("Pranata Komputer", 1),
                ),
            ),
            _kabid(
                "Pengembangan Kompetensi Aparatur",
                (
                    ("Analis Sumber Daya Manusia Aparatur", 2),
                    ("Widyaiswara", 1),
                    ("Asesor Sumber Daya Manusia Aparatur", 1),
                ),
            ),
            _kabid(
                "Mutasi dan Promosi",
                (("Analis Sumber Daya Manusia Aparatur", 2), ("Pranata Sumber Daya Manusia Aparatur", 2)),
            ),
            _kabid(
                "Pengadaan, Pemberhentian dan Informasi Kepegawaian",
                (("Pranata Sumber Daya Manusia Aparatur", 2), ("Pranata Komputer", 1)),
            ),
        ),
    ),
    _UnitSpec(
        "DISKOMINFO",
        "Dinas Komunikasi dan Informatika",
        "SETDA",
        "diskominfo",
        12,
        "Kepala Dinas Komunikasi dan Informatika",
        _Role(
            (1967, 1976),
            (_G["IV/b"], _G["IV/c"]),
            (("", "S.Kom., M.T."), ("Ir.", "M.Kom."), ("", "S.T., M.Kom."), ("", "S.Sos., M.Si.")),
            female_prob=0.3,
        ),
        (
            _sekretaris("Dinas Komunikasi dan Informatika"),
            _kabid("Aplikasi Informatika", (("Pranata Komputer", 3), ("Analis Sistem Informasi", 2))),
            _kabid(
                "Informasi dan Komunikasi Publik", (("Pranata Hubungan Masyarakat", 3), ("Operator Layanan Daring", 1))
            ),
            _kabid("Persandian dan Statistik", (("Sandiman", 2), ("Statistisi", 2))),
        ),
    ),
    _UnitSpec(
        "BAPPEDA",
        "Badan Perencanaan Pembangunan Daerah",
        "SETDA",
        "bappeda",
        12,
        "Kepala Badan Perencanaan Pembangunan Daerah",
        _ROLE_KADIS,
        (
            _sekretaris("Badan Perencanaan Pembangunan Daerah"),
            _kabid("Perencanaan Pembangunan Manusia dan Pemerintahan", (("Perencana", 3), ("Analis Kebijakan", 1))),
            _kabid("Perencanaan Infrastruktur dan Kewilayahan", (("Perencana", 3), ("Statistisi", 1))),
            _kabid(
                "Pengendalian dan Evaluasi Pembangunan", (("Perencana", 2), ("Analis Kebijakan", 1), ("Statistisi", 1))
            ),
        ),
    ),
)

_SPEC_BY_CODE = {s.code: s for s in _UNIT_SPECS}
_MIN_UNIT_SIZE = 5


def unit_kind(unit_code: str) -> str:
    """Kind of a sample unit ("setda", "dinkes", "puskesmas", "sekolah", ...); "umum" if unknown."""
    spec = _SPEC_BY_CODE.get(unit_code)
    if spec is not None:
        return spec.kind
    if unit_code.startswith("PKM-"):
        return "puskesmas"
    if unit_code.startswith(("SMPN-", "SDN-", "SMP-", "SD-")):
        return "sekolah"
    return "umum"


# --------------------------------------------------------------------------- generation


class _Builder:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.nips: set[str] = set()
        self.emails: set[str] = set()
        self.phones: set[str] = set()

    # ---- people
    def person(
        self,
        *,
        female_prob: float,
        birth: tuple[int, int],
        edu: str,
        prefix: str,
        suffix: str,
        religion: str | None = None,
    ) -> dict:
        rng = self.rng
        female = rng.random() < female_prob
        groups = [(k, g) for k, g in _NAME_GROUPS.items() if religion is None or g.religion == religion]
        _, group = rng.choices(groups, weights=[g.weight for _, g in groups])[0]
        nip, birth_year, appt_year = self.nip(female, birth, edu)
        name, email_parts = self.name(group, female, prefix, suffix, birth_year)
        return {
            "nip": nip,
            "name": name,
            "email": self.email(email_parts),
            "phone": self.phone(),
            "female": female,
            "appointment_year": appt_year,
        }

    def name(self, group: _NameGroup, female: bool, prefix: str, suffix: str, birth_year: int) -> tuple[str, list[str]]:
        rng = self.rng
        first = rng.choice(group.female_first if female else group.male_first)
        parts = [first]
        seconds = group.female_second if female else group.male_second
        if group.clan:
            if rng.random() < 0.35:
                parts.append(rng.choice(seconds))
            clan = rng.choice(group.clan)
            if female and rng.random() < group.boru_prob:
                parts.append("br.")
            parts.append(clan)
        elif rng.random() >= group.single_name_prob:
            second = rng.choice(seconds)
            if second != first:
                parts.append(second)
        prefixes = []
        if prefix == "Drs.":
            prefix = "Dra." if female else "Drs."
        if prefix:
            prefixes.append(prefix)
        if group.religion == "islam" and birth_year < 1978 and rng.random() < 0.25:
            prefixes.append("Hj." if female else "H.")
        display = " ".join(prefixes + parts)
        if suffix:
            display += ", " + suffix
        email_parts = [p for p in parts if p != "br."]
        email_parts = [email_parts[0], email_parts[-1]] if len(email_parts) > 1 else email_parts
        return display, email_parts

    def email(self, parts: list[str]) -> str:
        base = ".".join(re.sub(r"[^a-z0-9]", "", p.lower()) for p in parts)
        local, n = base, 1
        while f"{local}@{EMAIL_DOMAIN}" in self.emails:
            n += 1
            local = f"{base}{n}"
        address = f"{local}@{EMAIL_DOMAIN}"
        self.emails.add(address)
        return address

    def phone(self) -> str:
        rng = self.rng
        while True:
            prefix = rng.choice(
                (
                    "0811",
                    "0812",
                    "0813",
                    "0821",
                    "0822",
                    "0823",
                    "0852",
                    "0853",
                    "0814",
                    "0815",
                    "0816",
                    "0855",
                    "0856",
                    "0857",
                    "0858",
                    "0817",
                    "0818",
                    "0819",
                    "0859",
                    "0877",
                    "0878",
                    "0895",
                    "0896",
                    "0897",
                    "0898",
                    "0881",
                    "0882",
                )
            )
            rest = "".join(str(rng.randrange(10)) for _ in range(rng.choice((7, 8, 8))))
            phone = prefix + rest
            if phone not in self.phones:
                self.phones.add(phone)
                return phone

    def nip(self, female: bool, birth: tuple[int, int], edu: str) -> tuple[str, int, int]:
        rng = self.rng
        _, min_age = _EDU[edu]
        lo, hi = birth
        last_y, last_m = _LAST_APPOINTMENT
        hi = min(hi, 1998, last_y - min_age - 1)
        lo = max(lo, 1965)
        while True:
            # staff skew younger: max of two draws when the range is wide
            year = rng.randint(lo, hi)
            if hi - lo > 20:
                year = max(year, rng.randint(lo, hi))
            month = rng.randint(1, 12)
            day = rng.randint(1, calendar.monthrange(year, month)[1])
            max_age = min(35, last_y - year - 1)
            age = rng.randint(min_age, max(min_age, min(max_age, min_age + rng.choice((2, 4, 6, 10)))))
            # appointment: 1..11 months after the birthday in the year the person turns `age`
            total = (year + age) * 12 + (month - 1) + rng.randint(1, 11)
            appt_y, appt_m = divmod(total, 12)
            appt_m += 1
            if (appt_y, appt_m) > (last_y, last_m):
                appt_y, appt_m = last_y, last_m
            if (appt_y, appt_m, 1) < (year + 20, month, day) or appt_y - year > 36:
                continue
            nip = f"{year:04d}{month:02d}{day:02d}{appt_y:04d}{appt_m:02d}{2 if female else 1}{rng.randint(1, 999):03d}"
            if nip not in self.nips:
                self.nips.add(nip)
                return nip, year, appt_y

    @staticmethod
    def grade_index(edu: str, appointment_year: int, lo: int, hi: int) -> int:
        start, _ = _EDU[edu]
        natural = start + max(0, _REFERENCE_YEAR - appointment_year) // 4
        return max(lo, min(hi, natural))


def _allocate(target: int, weights: list[int]) -> list[int]:
    total = sum(weights)
    raw = [target * w / total for w in weights]
    sizes = [max(_MIN_UNIT_SIZE, int(r)) for r in raw]
    order = sorted(range(len(weights)), key=lambda i: raw[i] - int(raw[i]), reverse=True)
    i = 0
    while sum(sizes) < target:
        sizes[order[i % len(order)]] += 1
        i += 1
    i = 0
    while sum(sizes) > target:
        j = max(range(len(sizes)), key=lambda k: sizes[k])
        sizes[j] -= 1
        i += 1
    return sizes


def _split(rng: random.Random, total: int, parts: int, minimum: int = 3) -> list[int]:
    """Split ``total`` into ``parts`` shares, each >= minimum when possible, slightly uneven."""
    base = [min(minimum, total // parts)] * parts
    for _ in range(total - sum(base)):
        base[rng.randrange(parts)] += 1
    return base


def _pick_positions(rng: random.Random, pool: tuple[tuple[str, float], ...], count: int) -> list[str]:
    """First every pool entry once (in order), then weighted draws."""
    out = [name for name, _ in pool[:count]]
    names = [n for n, _ in pool]
    weights = [w for _, w in pool]
    while len(out) < count:
        out.append(rng.choices(names, weights=weights)[0])
    return out


def build(seed: int = 2026, employees_target: int = 200) -> SampleAgency:
    """Build the sample agency; the same arguments always give the same agency."""
    if employees_target < _MIN_UNIT_SIZE * len(_UNIT_SPECS):
        raise ValueError(f"employees_target must be at least {_MIN_UNIT_SIZE * len(_UNIT_SPECS)}")
    rng = random.Random(seed)
    b = _Builder(rng)
    sizes = _allocate(employees_target, [s.weight for s in _UNIT_SPECS])
    employees: list[SampleEmployee] = []
    heads: dict[str, str] = {}

    def add(person: dict, position: str, grade: int, unit: str, superior: str | None, is_head: bool) -> str:
        employees.append(
            SampleEmployee(
                nip=person["nip"],
                name=person["name"],
                email=person["email"],
                phone=person["phone"],
                position=position,
                grade=GRADES[grade],
                unit_code=unit,
                superior_nip=superior,
                language="id",
                is_head=is_head,
            )
        )
        return person["nip"]

    def structural(role: _Role) -> tuple[dict, int]:
        prefix, suffix = rng.choice(role.titles)
        person = b.person(female_prob=role.female_prob, birth=role.birth, edu=role.edu, prefix=prefix, suffix=suffix)
        grade = b.grade_index(role.edu, person["appointment_year"], *role.grade)
        return person, grade

    def staff(position: str, unit: str, superior: str) -> None:
        profile = _STAFF[position]
        opt = rng.choices(profile.options, weights=[o.weight for o in profile.options])[0]
        person = b.person(
            female_prob=profile.female_prob,
            birth=(1967, 1998),
            edu=opt.edu,
            prefix=rng.choice(opt.prefix),
            suffix=rng.choice(opt.suffix),
            religion=profile.religion,
        )
        start, _ = _EDU[opt.edu]
        cap = _G["IV/b"] if opt.track == "ahli" else _G["III/d"]
        grade = b.grade_index(opt.edu, person["appointment_year"], start, cap)
        title = position if opt.track is None else f"{position} {_jf_level(opt.track, grade)}"
        add(person, title, grade, unit, superior, False)

    for spec, size in zip(_UNIT_SPECS, sizes):
        superior = heads[spec.parent] if spec.parent else None
        person, grade = structural(spec.head_role)
        head = add(person, spec.head_position, grade, spec.code, superior, True)
        heads[spec.code] = head
        remaining = size - 1
        if spec.direct:
            # one administrative section head, the rest (clinicians, teachers) report to the head
            position, role, pool = spec.middles[0]
            admin = max(min(3, remaining - 2), min(6, round(size * 0.15), remaining - 2))
            person, grade = structural(role)
            mid = add(person, position, grade, spec.code, head, False)
            for pos in _pick_positions(rng, pool, admin):
                staff(pos, spec.code, mid)
            direct = remaining - 1 - admin
            for pos in _pick_positions(rng, spec.direct, direct):
                staff(pos, spec.code, head)
        else:
            # as many sections as the pool allows while every section head keeps >= 3 staff
            m = min(len(spec.middles), max(1, remaining // 4))
            shares = _split(rng, remaining - m, m)
            for (position, role, pool), share in zip(spec.middles[:m], shares):
                person, grade = structural(role)
                mid = add(person, position, grade, spec.code, head, False)
                for pos in _pick_positions(rng, pool, share):
                    staff(pos, spec.code, mid)

    # a few employees prefer English (e.g. returned from study abroad)
    candidates = [i for i, e in enumerate(employees) if e.superior_nip is not None]
    for i in rng.sample(candidates, max(1, round(len(employees) * 0.015))):
        employees[i] = dataclasses.replace(employees[i], language="en")

    units = [SampleUnit(s.code, s.name, s.parent, heads[s.code]) for s in _UNIT_SPECS]
    return SampleAgency(AGENCY_CODE, AGENCY_NAME, units, employees)


# --------------------------------------------------------------------------- CSV


def _ordered_units(agency: SampleAgency) -> list[SampleUnit]:
    children: dict[str | None, list[SampleUnit]] = {}
    for u in agency.units:
        children.setdefault(u.parent_code, []).append(u)
    out: list[SampleUnit] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        u = stack.pop()
        out.append(u)
        stack.extend(reversed(children.get(u.code, [])))
    return out


def _ordered_employees(agency: SampleAgency) -> list[SampleEmployee]:
    reports: dict[str | None, list[SampleEmployee]] = {}
    for e in agency.employees:
        reports.setdefault(e.superior_nip, []).append(e)
    out: list[SampleEmployee] = []
    queue = list(reports.get(None, []))
    while queue:
        e = queue.pop(0)
        out.append(e)
        queue.extend(reports.get(e.nip, []))
    return out


def _to_csv(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def units_csv(agency: SampleAgency) -> str:
    """CSV ``code,name,parent_code``; parents come before their children."""
    return _to_csv(
        ["code", "name", "parent_code"], [[u.code, u.name, u.parent_code or ""] for u in _ordered_units(agency)]
    )


def employees_csv(agency: SampleAgency) -> str:
    """CSV of employees; superiors come before their reports; empty superior_nip for the root head."""
    header = ["nip", "name", "email", "phone", "position", "grade", "unit_code", "superior_nip", "language"]
    return _to_csv(
        header,
        [
            [e.nip, e.name, e.email, e.phone, e.position, e.grade, e.unit_code, e.superior_nip or "", e.language]
            for e in _ordered_employees(agency)
        ],
    )


# --------------------------------------------------------------------------- RHK / IKI text

# IKI option: (aspect, indicator, low, high, step, unit)
_Iki = tuple[str, str, float, float, float, str]
_ASPECTS = ("kuantitas", "kualitas", "waktu", "biaya")


@dataclass(frozen=True)
class _Rhk:
    description: str
    iki: tuple[_Iki, ...]
    topics: tuple[str, ...] = ()


def _r(description: str, *iki: _Iki, topics: tuple[str, ...] = ()) -> _Rhk:
    return _Rhk(description, iki, topics)


_HEAD_RHK: dict[str, tuple[_Rhk, ...]] = {
    "setda": (
        _r(
            "Meningkatnya kualitas koordinasi penyelenggaraan pemerintahan daerah",
            ("kuantitas", "Jumlah rapat koordinasi perangkat daerah yang difasilitasi", 24, 48, 4, "kegiatan"),
            ("kualitas", "Persentase rekomendasi rapat koordinasi yang ditindaklanjuti", 80, 95, 5, "%"),
            ("waktu", "Waktu penyampaian LKPJ kepada DPRD setelah tahun anggaran berakhir", 3, 3, 1, "bulan"),
        ),
        _r(
            "Meningkatnya akuntabilitas kinerja instansi pemerintah daerah",
            ("kualitas", "Nilai SAKIP pemerintah kota", 70, 80, 1, "nilai"),
            (
                "kuantitas",
                "Jumlah perangkat daerah yang dievaluasi akuntabilitas kinerjanya",
                10,
                12,
                1,
                "perangkat daerah",
            ),
            topics=("kinerja", "akuntabilitas"),
        ),
        _r(
            "Meningkatnya kualitas produk hukum daerah",
            (
                "kuantitas",
                "Jumlah rancangan peraturan daerah dan peraturan wali kota yang diselesaikan",
                20,
                40,
                2,
                "dokumen",
            ),
            ("kualitas", "Persentase produk hukum yang lolos fasilitasi tanpa revisi substansial", 85, 95, 5, "%"),
        ),
        _r(
            "Meningkatnya nilai indeks reformasi birokrasi",
            ("kualitas", "Nilai indeks reformasi birokrasi", 65, 75, 1, "nilai"),
            ("kuantitas", "Jumlah rencana aksi reformasi birokrasi yang dilaksanakan", 8, 16, 1, "rencana aksi"),
            topics=("organisasi", "birokrasi"),
        ),
    ),
    "dinkes": (
        _r(
            "Meningkatnya derajat kesehatan masyarakat",
            ("kualitas", "Persentase puskesmas terakreditasi paripurna", 60, 100, 10, "%"),
            ("kuantitas", "Jumlah puskesmas yang dibina dan dievaluasi", 3, 3, 1, "puskesmas"),
            topics=("kesehatan", "pelayanan"),
        ),
        _r(
            "Meningkatnya cakupan imunisasi dasar lengkap",
            ("kualitas", "Persentase bayi yang mendapat imunisasi dasar lengkap", 90, 98, 1, "%"),
            ("kuantitas", "Jumlah bayi yang diimunisasi lengkap", 3000, 6000, 250, "bayi"),
            topics=("imunisasi", "vaksinasi"),
        ),
        _r(
            "Menurunnya prevalensi stunting pada balita",
            ("kualitas", "Prevalensi stunting pada balita", 12, 18, 1, "%"),
            ("kuantitas", "Jumlah balita yang dipantau pertumbuhannya", 8000, 15000, 500, "balita"),
            topics=("gizi", "stunting", "ibu", "anak"),
        ),
    ),
    "puskesmas": (
        _r(
            "Meningkatnya cakupan pelayanan kesehatan dasar",
            ("kuantitas", "Jumlah kunjungan pasien rawat jalan", 15000, 30000, 1000, "kunjungan"),
            ("kualitas", "Persentase capaian standar pelayanan minimal bidang kesehatan", 90, 100, 2, "%"),
            topics=("derajat", "kesehatan", "akreditasi"),
        ),
        _r(
            "Meningkatnya cakupan imunisasi dasar lengkap di wilayah kerja puskesmas",
            ("kualitas", "Persentase bayi yang mendapat imunisasi dasar lengkap", 90, 98, 1, "%"),
            ("kuantitas", "Jumlah bayi yang diimunisasi", 400, 900, 50, "bayi"),
            topics=("imunisasi", "vaksinasi"),
        ),
        _r(
            "Meningkatnya cakupan pelayanan kesehatan ibu dan anak",
            ("kuantitas", "Jumlah ibu hamil yang mendapat pelayanan antenatal K6", 300, 700, 50, "orang"),
            ("kualitas", "Persentase persalinan di fasilitas pelayanan kesehatan", 95, 100, 1, "%"),
            topics=("stunting", "balita", "ibu", "anak", "gizi"),
        ),
        _r(
            "Meningkatnya kepuasan masyarakat terhadap pelayanan puskesmas",
            ("kualitas", "Indeks kepuasan masyarakat", 80, 90, 1, "nilai"),
            ("waktu", "Rata-rata waktu tunggu pelayanan pendaftaran", 10, 20, 5, "menit"),
        ),
    ),
    "disdik": (
        _r(
            "Meningkatnya mutu pendidikan dasar",
            ("kualitas", "Persentase satuan pendidikan dasar terakreditasi minimal B", 85, 98, 1, "%"),
            ("kuantitas", "Jumlah sekolah yang disupervisi", 40, 80, 5, "sekolah"),
        ),
        _r(
            "Meningkatnya kompetensi guru melalui pelatihan berkelanjutan",
            ("kuantitas", "Jumlah guru yang mengikuti pelatihan peningkatan kompetensi", 300, 800, 50, "orang"),
            ("kualitas", "Persentase guru yang lulus uji kompetensi", 75, 90, 5, "%"),
            topics=("guru", "pelatihan", "kompetensi"),
        ),
        _r(
            "Meningkatnya angka partisipasi sekolah",
            ("kualitas", "Angka partisipasi murni SMP", 80, 92, 1, "%"),
            ("kuantitas", "Jumlah anak tidak sekolah yang kembali bersekolah", 50, 200, 10, "anak"),
        ),
    ),
    "sekolah": (
        _r(
            "Meningkatnya mutu pembelajaran dan hasil belajar peserta didik",
            ("kualitas", "Rata-rata nilai literasi dan numerasi pada rapor pendidikan", 70, 85, 1, "nilai"),
            ("kuantitas", "Jumlah peserta didik yang dilayani", 600, 900, 20, "siswa"),
            topics=("mutu", "pendidikan", "partisipasi"),
        ),
        _r(
            "Meningkatnya kompetensi pendidik dan tenaga kependidikan",
            ("kuantitas", "Jumlah guru yang mengikuti pelatihan dan pengembangan keprofesian", 10, 30, 2, "orang"),
            ("kualitas", "Persentase guru yang menerapkan Kurikulum Merdeka", 90, 100, 5, "%"),
            topics=("guru", "pelatihan", "kompetensi"),
        ),
        _r(
            "Terwujudnya tata kelola sekolah yang akuntabel",
            ("kuantitas", "Jumlah laporan pertanggungjawaban dana BOS", 2, 4, 1, "laporan"),
            ("biaya", "Realisasi anggaran dana BOS", 500_000_000, 900_000_000, 50_000_000, "rupiah"),
            ("waktu", "Ketepatan waktu penyampaian laporan dana BOS setelah akhir semester", 1, 1, 1, "bulan"),
        ),
    ),
    "disdukcapil": (
        _r(
            "Meningkatnya kecepatan penerbitan KTP-el dan akta kelahiran",
            ("kuantitas", "Jumlah KTP-el yang diterbitkan", 30000, 60000, 1000, "dokumen"),
            ("waktu", "Rata-rata waktu penerbitan akta kelahiran", 1, 3, 1, "hari"),
            ("kualitas", "Persentase dokumen yang terbit tanpa kesalahan data", 98, 100, 1, "%"),
        ),
        _r(
            "Meningkatnya cakupan kepemilikan dokumen kependudukan",
            ("kualitas", "Persentase anak usia 0-18 tahun yang memiliki akta kelahiran", 92, 99, 1, "%"),
            ("kuantitas", "Jumlah penduduk wajib KTP yang merekam KTP-el", 5000, 12000, 500, "orang"),
        ),
        _r(
            "Meningkatnya kualitas pelayanan administrasi kependudukan secara daring",
            ("kuantitas", "Jumlah permohonan layanan daring yang diselesaikan", 10000, 25000, 1000, "permohonan"),
            ("kualitas", "Indeks kepuasan masyarakat terhadap layanan administrasi kependudukan", 82, 90, 1, "nilai"),
            topics=("daring", "online", "kepuasan"),
        ),
    ),
    "upt_adminduk": (
        _r(
            "Meningkatnya kecepatan pelayanan KTP-el dan akta kelahiran di unit pelayanan",
            ("kuantitas", "Jumlah KTP-el yang diterbitkan", 5000, 15000, 500, "dokumen"),
            ("waktu", "Rata-rata waktu penerbitan akta kelahiran", 1, 3, 1, "hari"),
            ("kualitas", "Persentase permohonan yang diselesaikan sesuai standar pelayanan", 95, 100, 1, "%"),
            topics=("penerbitan", "akta", "ktp-el", "cakupan", "kepemilikan"),
        ),
        _r(
            "Meningkatnya kepuasan masyarakat terhadap pelayanan administrasi kependudukan",
            ("kualitas", "Indeks kepuasan masyarakat", 82, 90, 1, "nilai"),
            ("kuantitas", "Jumlah pengaduan masyarakat yang ditindaklanjuti", 50, 200, 10, "pengaduan"),
            ("waktu", "Rata-rata waktu penyelesaian pengaduan", 1, 3, 1, "hari"),
            topics=("daring", "kepuasan"),
        ),
    ),
    "bkpsdm": (
        _r(
            "Meningkatnya profesionalitas ASN",
            ("kualitas", "Indeks profesionalitas ASN", 65, 80, 1, "nilai"),
            (
                "kuantitas",
                "Jumlah ASN yang mengikuti pengembangan kompetensi minimal 20 jam pelajaran",
                1500,
                3000,
                100,
                "orang",
            ),
            topics=("kompetensi", "pelatihan"),
        ),
        _r(
            "Meningkatnya kualitas pengelolaan kinerja ASN",
            ("kualitas", "Persentase ASN yang menyelesaikan SKP tepat waktu", 90, 100, 2, "%"),
            ("kuantitas", "Jumlah dokumen evaluasi kinerja pegawai yang diverifikasi", 3000, 6000, 250, "dokumen"),
            ("waktu", "Waktu penetapan predikat kinerja tahunan setelah akhir periode", 1, 2, 1, "bulan"),
            topics=("kinerja", "akuntabilitas"),
        ),
        _r(
            "Meningkatnya kualitas pelayanan administrasi kepegawaian",
            ("kuantitas", "Jumlah usulan kenaikan pangkat yang diproses", 500, 1200, 50, "usulan"),
            ("waktu", "Rata-rata waktu penyelesaian layanan kepegawaian", 3, 7, 1, "hari"),
            ("kualitas", "Indeks kepuasan layanan kepegawaian", 80, 90, 1, "nilai"),
        ),
    ),
    "diskominfo": (
        _r(
            "Meningkatnya kualitas penyelenggaraan sistem pemerintahan berbasis elektronik (SPBE)",
            ("kualitas", "Indeks SPBE", 2.6, 3.5, 0.1, "nilai"),
            ("kuantitas", "Jumlah aplikasi layanan publik yang terintegrasi", 5, 15, 1, "aplikasi"),
            topics=("elektronik", "daring", "aplikasi", "digital"),
        ),
        _r(
            "Meningkatnya keterbukaan informasi publik",
            ("kuantitas", "Jumlah konten informasi publik yang dipublikasikan", 300, 600, 20, "konten"),
            ("kualitas", "Nilai keterbukaan informasi publik", 80, 92, 1, "nilai"),
            ("waktu", "Rata-rata waktu penyelesaian permohonan informasi publik", 5, 10, 1, "hari"),
        ),
        _r(
            "Meningkatnya keamanan informasi pemerintah daerah",
            ("kuantitas", "Jumlah sistem elektronik yang dinilai keamanannya", 10, 25, 1, "sistem"),
            ("kualitas", "Persentase insiden keamanan informasi yang ditangani", 95, 100, 1, "%"),
        ),
    ),
    "bappeda": (
        _r(
            "Meningkatnya kualitas perencanaan pembangunan daerah",
            ("kuantitas", "Jumlah dokumen perencanaan daerah yang ditetapkan tepat waktu", 3, 6, 1, "dokumen"),
            ("kualitas", "Persentase keselarasan program RKPD dengan RPJMD", 90, 100, 2, "%"),
        ),
        _r(
            "Meningkatnya keselarasan program perangkat daerah dengan RPJMD",
            ("kualitas", "Persentase renja perangkat daerah yang selaras dengan RKPD", 90, 100, 2, "%"),
            ("kuantitas", "Jumlah renja perangkat daerah yang diverifikasi", 20, 40, 2, "dokumen"),
        ),
        _r(
            "Meningkatnya kualitas pengendalian dan evaluasi pembangunan",
            ("kuantitas", "Jumlah laporan evaluasi pelaksanaan RKPD", 4, 4, 1, "laporan"),
            ("kualitas", "Persentase capaian indikator kinerja daerah", 85, 95, 1, "%"),
            topics=("kinerja", "akuntabilitas"),
        ),
    ),
    "umum": (
        _r(
            "Meningkatnya kualitas pelayanan publik perangkat daerah",
            ("kualitas", "Indeks kepuasan masyarakat", 80, 90, 1, "nilai"),
            ("kuantitas", "Jumlah layanan yang memiliki standar pelayanan", 5, 15, 1, "layanan"),
        ),
        _r(
            "Meningkatnya akuntabilitas kinerja perangkat daerah",
            ("kualitas", "Nilai SAKIP perangkat daerah", 65, 80, 1, "nilai"),
            ("kuantitas", "Jumlah laporan kinerja yang disusun", 4, 4, 1, "laporan"),
        ),
    ),
}

_HEAD_PREFIXES = (
    "sekretaris daerah",
    "kepala dinas",
    "kepala badan",
    "kepala puskesmas",
    "kepala sekolah",
    "kepala upt",
)

# Ordered: the first keyword contained in the (lower-case) position wins.
_POSITION_RHK: tuple[tuple[str, tuple[_Rhk, ...]], ...] = (
    # ---------------- structural middles
    (
        "kepala bagian umum",
        (
            _r(
                "Terlaksananya pelayanan ketatausahaan, kerumahtanggaan dan perlengkapan sekretariat daerah",
                ("kuantitas", "Jumlah layanan administrasi umum yang diselesaikan", 600, 1200, 50, "layanan"),
                ("kualitas", "Persentase sarana prasarana kantor dalam kondisi baik", 85, 95, 5, "%"),
                ("biaya", "Realisasi anggaran belanja rumah tangga", 800_000_000, 1_500_000_000, 100_000_000, "rupiah"),
            ),
        ),
    ),
    (
        "kepala bagian organisasi",
        (
            _r(
                "Tersusunnya evaluasi kelembagaan dan tata laksana perangkat daerah",
                ("kuantitas", "Jumlah perangkat daerah yang dievaluasi kelembagaannya", 8, 12, 1, "perangkat daerah"),
                ("kualitas", "Persentase rekomendasi penataan organisasi yang ditindaklanjuti", 75, 90, 5, "%"),
                topics=("akuntabilitas", "birokrasi", "kinerja"),
            ),
        ),
    ),
    (
        "kepala bagian hukum",
        (
            _r(
                "Terselesaikannya penyusunan rancangan produk hukum daerah",
                ("kuantitas", "Jumlah rancangan peraturan wali kota yang diselesaikan", 15, 30, 1, "dokumen"),
                ("waktu", "Rata-rata waktu harmonisasi rancangan produk hukum", 10, 20, 5, "hari"),
                topics=("hukum",),
            ),
        ),
    ),
    (
        "kepala bagian perencanaan dan keuangan",
        (
            _r(
                "Tersusunnya dokumen perencanaan dan laporan keuangan sekretariat daerah yang akuntabel",
                ("kuantitas", "Jumlah dokumen perencanaan dan laporan keuangan yang disusun", 6, 12, 1, "dokumen"),
                ("kualitas", "Persentase laporan keuangan tanpa koreksi material", 90, 100, 5, "%"),
                ("biaya", "Realisasi anggaran sekretariat daerah", 5_000_000_000, 9_000_000_000, 500_000_000, "rupiah"),
                topics=("akuntabilitas", "kinerja"),
            ),
        ),
    ),
    (
        "kepala bagian protokol",
        (
            _r(
                "Terlaksananya keprotokolan dan publikasi kegiatan pimpinan daerah",
                ("kuantitas", "Jumlah kegiatan pimpinan yang difasilitasi keprotokolannya", 150, 300, 10, "kegiatan"),
                ("kualitas", "Persentase kegiatan pimpinan yang terpublikasi", 90, 100, 5, "%"),
                topics=("koordinasi",),
            ),
        ),
    ),
    (
        "kepala bidang pencegahan",
        (
            _r(
                "Meningkatnya cakupan imunisasi dan pengendalian penyakit menular",
                ("kualitas", "Persentase desa/kelurahan UCI (Universal Child Immunization)", 90, 100, 2, "%"),
                ("kuantitas", "Jumlah kasus penyakit menular yang diinvestigasi", 40, 120, 10, "kasus"),
                ("waktu", "Waktu respons penyelidikan epidemiologi kejadian luar biasa", 1, 2, 1, "hari"),
                topics=("imunisasi", "vaksinasi"),
            ),
        ),
    ),
    (
        "kepala bidang kesehatan masyarakat",
        (
            _r(
                "Terlaksananya program kesehatan keluarga, gizi dan promosi kesehatan",
                ("kualitas", "Persentase balita gizi kurang yang mendapat makanan tambahan", 90, 100, 2, "%"),
                ("kuantitas", "Jumlah posyandu yang dibina", 80, 160, 10, "posyandu"),
                topics=("stunting", "gizi", "ibu", "anak"),
            ),
        ),
    ),
    (
        "kepala bidang pelayanan kesehatan",
        (
            _r(
                "Meningkatnya mutu pelayanan kesehatan primer dan rujukan",
                ("kuantitas", "Jumlah fasilitas pelayanan kesehatan yang dibina mutunya", 10, 25, 1, "fasyankes"),
                ("kualitas", "Persentase puskesmas yang memenuhi standar akreditasi", 80, 100, 10, "%"),
                topics=("derajat", "pelayanan", "akreditasi"),
            ),
        ),
    ),
    (
        "kepala bidang sumber daya kesehatan",
        (
            _r(
                "Tersedianya obat, alat kesehatan dan tenaga kesehatan sesuai standar",
                ("kualitas", "Persentase ketersediaan obat esensial di puskesmas", 90, 100, 2, "%"),
                ("kuantitas", "Jumlah tenaga kesehatan yang ditingkatkan kompetensinya", 40, 100, 10, "orang"),
                topics=("derajat",),
            ),
        ),
    ),
    (
        "kepala bidang pembinaan sekolah",
        (
            _r(
                "Terlaksananya pembinaan dan supervisi mutu satuan pendidikan",
                ("kuantitas", "Jumlah satuan pendidikan yang disupervisi", 20, 60, 5, "sekolah"),
                ("kualitas", "Persentase sekolah binaan dengan rapor pendidikan kategori baik", 70, 90, 5, "%"),
                topics=("mutu", "partisipasi"),
            ),
        ),
    ),
    (
        "kepala bidang guru",
        (
            _r(
                "Terlaksananya pelatihan peningkatan kompetensi guru",
                ("kuantitas", "Jumlah guru yang mengikuti pelatihan", 200, 500, 25, "orang"),
                ("kualitas", "Persentase peserta pelatihan yang lulus post-test", 80, 95, 5, "%"),
                ("biaya", "Realisasi anggaran pelatihan guru", 300_000_000, 800_000_000, 50_000_000, "rupiah"),
                topics=("guru", "pelatihan", "kompetensi"),
            ),
        ),
    ),
    (
        "kepala bidang pendidikan anak usia dini",
        (
            _r(
                "Meningkatnya layanan pendidikan anak usia dini dan kesetaraan",
                ("kuantitas", "Jumlah lembaga PAUD dan PKBM yang dibina", 30, 80, 5, "lembaga"),
                ("kualitas", "Angka partisipasi kasar PAUD", 60, 80, 2, "%"),
                topics=("partisipasi",),
            ),
        ),
    ),
    (
        "kepala bidang pelayanan pendaftaran",
        (
            _r(
                "Terlaksananya pelayanan pendaftaran penduduk dan penerbitan KTP-el",
                ("kuantitas", "Jumlah KTP-el yang diterbitkan", 20000, 40000, 1000, "dokumen"),
                ("waktu", "Rata-rata waktu penerbitan KTP-el", 1, 3, 1, "hari"),
                ("kualitas", "Persentase penduduk wajib KTP yang telah merekam KTP-el", 97, 99, 1, "%"),
                topics=("ktp-el", "kepemilikan", "penerbitan"),
            ),
        ),
    ),
    (
        "kepala bidang pelayanan pencatatan sipil",
        (
            _r(
                "Terlaksananya pelayanan pencatatan kelahiran dan penerbitan akta kelahiran",
                ("kuantitas", "Jumlah akta kelahiran yang diterbitkan", 6000, 12000, 500, "dokumen"),
                ("waktu", "Rata-rata waktu penerbitan akta kelahiran", 1, 3, 1, "hari"),
                ("kualitas", "Persentase anak yang memiliki akta kelahiran", 92, 99, 1, "%"),
                topics=("akta", "kelahiran", "kepemilikan", "penerbitan"),
            ),
        ),
    ),
    (
        "kepala bidang pengelolaan informasi",
        (
            _r(
                "Tersedianya database kependudukan yang mutakhir dan layanan administrasi kependudukan daring",
                ("kualitas", "Persentase data kependudukan yang valid dan mutakhir", 98, 100, 1, "%"),
                ("kuantitas", "Jumlah permohonan layanan daring yang diproses", 8000, 20000, 1000, "permohonan"),
                topics=("daring", "online", "database"),
            ),
        ),
    ),
    (
        "kepala seksi pelayanan ktp-el",
        (
            _r(
                "Terlaksananya perekaman dan pencetakan KTP-el di unit pelayanan",
                ("kuantitas", "Jumlah KTP-el yang dicetak", 4000, 10000, 500, "dokumen"),
                ("waktu", "Rata-rata waktu pencetakan KTP-el setelah perekaman", 1, 2, 1, "hari"),
                ("kualitas", "Persentase KTP-el yang tercetak tanpa kesalahan data", 98, 100, 1, "%"),
                topics=("ktp-el", "penerbitan"),
            ),
        ),
    ),
    (
        "kepala seksi layanan daring",
        (
            _r(
                "Terlaksananya layanan administrasi kependudukan secara daring dan penanganan pengaduan",
                ("kuantitas", "Jumlah permohonan daring yang diselesaikan", 3000, 8000, 250, "permohonan"),
                ("waktu", "Rata-rata waktu penyelesaian pengaduan", 1, 3, 1, "hari"),
                ("kualitas", "Persentase laporan harian layanan daring yang disampaikan tepat waktu", 95, 100, 5, "%"),
                topics=("daring", "online", "kepuasan", "pengaduan"),
            ),
        ),
    ),
    (
        "kepala seksi pelayanan akta",
        (
            _r(
                "Terlaksananya penerbitan akta kelahiran di unit pelayanan",
                ("kuantitas", "Jumlah akta kelahiran yang diterbitkan", 2000, 6000, 250, "dokumen"),
                ("waktu", "Rata-rata waktu penerbitan akta kelahiran", 1, 3, 1, "hari"),
                topics=("akta", "kelahiran", "penerbitan"),
            ),
        ),
    ),
    (
        "kepala bidang penilaian kinerja",
        (
            _r(
                "Terlaksananya penilaian kinerja ASN berbasis SKP secara tepat waktu",
                ("kualitas", "Persentase ASN yang SKP-nya dinilai tepat waktu", 90, 100, 2, "%"),
                ("kuantitas", "Jumlah dokumen evaluasi kinerja yang diverifikasi", 2000, 5000, 250, "dokumen"),
                ("waktu", "Waktu rekapitulasi predikat kinerja setelah akhir periode", 1, 1, 1, "bulan"),
                topics=("kinerja",),
            ),
        ),
    ),
    (
        "kepala bidang pengembangan kompetensi",
        (
            _r(
                "Terlaksananya pengembangan kompetensi ASN",
                ("kuantitas", "Jumlah ASN yang mengikuti pelatihan", 500, 1500, 50, "orang"),
                ("kualitas", "Persentase ASN yang memenuhi 20 jam pelajaran pengembangan kompetensi", 70, 90, 5, "%"),
                (
                    "biaya",
                    "Realisasi anggaran pengembangan kompetensi",
                    500_000_000,
                    1_200_000_000,
                    100_000_000,
                    "rupiah",
                ),
                topics=("kompetensi", "profesionalitas", "pelatihan"),
            ),
        ),
    ),
    (
        "kepala bidang mutasi",
        (
            _r(
                "Terlaksananya mutasi dan promosi ASN berbasis sistem merit",
                ("kuantitas", "Jumlah SK mutasi dan promosi yang diterbitkan", 100, 300, 10, "SK"),
                ("waktu", "Rata-rata waktu penyelesaian usulan mutasi", 5, 10, 1, "hari"),
                topics=("profesionalitas", "kepegawaian"),
            ),
        ),
    ),
    (
        "kepala bidang pengadaan",
        (
            _r(
                "Terlaksananya layanan pengadaan, pensiun dan pengelolaan data kepegawaian",
                ("kuantitas", "Jumlah usulan pensiun dan kenaikan pangkat yang diproses", 300, 800, 50, "usulan"),
                ("kualitas", "Persentase data SIASN yang mutakhir", 95, 100, 1, "%"),
                topics=("kepegawaian",),
            ),
        ),
    ),
    (
        "kepala bidang aplikasi",
        (
            _r(
                "Terbangunnya aplikasi layanan publik yang terintegrasi",
                ("kuantitas", "Jumlah aplikasi yang dikembangkan atau diintegrasikan", 3, 10, 1, "aplikasi"),
                ("kualitas", "Persentase ketersediaan layanan aplikasi (uptime)", 97, 99, 1, "%"),
                topics=("elektronik", "spbe", "aplikasi"),
            ),
        ),
    ),
    (
        "kepala bidang informasi dan komunikasi",
        (
            _r(
                "Terlaksananya diseminasi informasi publik pemerintah kota",
                ("kuantitas", "Jumlah konten informasi publik yang dipublikasikan", 200, 500, 20, "konten"),
                ("waktu", "Rata-rata waktu tanggapan permohonan informasi publik", 3, 10, 1, "hari"),
                topics=("informasi", "keterbukaan"),
            ),
        ),
    ),
    (
        "kepala bidang persandian",
        (
            _r(
                "Terlaksananya pengamanan informasi dan penyediaan data statistik sektoral",
                ("kuantitas", "Jumlah sistem elektronik yang dinilai keamanannya", 5, 15, 1, "sistem"),
                ("kualitas", "Persentase data statistik sektoral yang terverifikasi", 90, 100, 5, "%"),
                topics=("keamanan",),
            ),
        ),
    ),
    (
        "kepala bidang perencanaan pembangunan manusia",
        (
            _r(
                "Tersusunnya rencana pembangunan bidang pemerintahan dan pembangunan manusia",
                ("kuantitas", "Jumlah renja perangkat daerah yang diverifikasi", 8, 15, 1, "dokumen"),
                ("kualitas", "Persentase program yang selaras dengan RPJMD", 90, 100, 2, "%"),
                topics=("perencanaan", "keselarasan"),
            ),
        ),
    ),
    (
        "kepala bidang perencanaan infrastruktur",
        (
            _r(
                "Tersusunnya rencana pembangunan bidang infrastruktur dan kewilayahan",
                ("kuantitas", "Jumlah dokumen perencanaan infrastruktur yang disusun", 4, 10, 1, "dokumen"),
                ("kualitas", "Persentase usulan musrenbang yang terakomodasi", 40, 60, 5, "%"),
                topics=("perencanaan",),
            ),
        ),
    ),
    (
        "kepala bidang pengendalian",
        (
            _r(
                "Terlaksananya pengendalian dan evaluasi pelaksanaan RKPD",
                ("kuantitas", "Jumlah laporan evaluasi pelaksanaan RKPD", 4, 4, 1, "laporan"),
                ("waktu", "Ketepatan waktu penyampaian laporan evaluasi triwulanan", 1, 1, 1, "bulan"),
                topics=("pengendalian", "evaluasi", "kinerja"),
            ),
        ),
    ),
    (
        "sekretaris ",
        (
            _r(
                "Terlaksananya pelayanan kesekretariatan, perencanaan dan keuangan perangkat daerah",
                ("kuantitas", "Jumlah dokumen perencanaan, keuangan dan kepegawaian yang disusun", 8, 16, 1, "dokumen"),
                ("kualitas", "Nilai evaluasi SAKIP perangkat daerah", 65, 80, 1, "nilai"),
                ("biaya", "Realisasi anggaran perangkat daerah", 85, 95, 1, "%"),
            ),
        ),
    ),
    (
        "tata usaha",
        (
            _r(
                "Terlaksananya administrasi ketatausahaan, kepegawaian dan keuangan unit",
                ("kuantitas", "Jumlah laporan administrasi dan keuangan yang disusun", 12, 24, 1, "laporan"),
                ("waktu", "Ketepatan waktu penyampaian laporan keuangan bulanan", 12, 12, 1, "bulan"),
                ("kualitas", "Persentase dokumen administrasi yang tertib arsip", 90, 100, 5, "%"),
            ),
        ),
    ),
    # ---------------- kesehatan
    (
        "dokter gigi",
        (
            _r(
                "Terlaksananya pelayanan kesehatan gigi dan mulut",
                ("kuantitas", "Jumlah pasien gigi dan mulut yang dilayani", 1200, 2400, 100, "pasien"),
                ("kualitas", "Persentase kepuasan pasien", 85, 95, 1, "%"),
                topics=("pelayanan", "kesehatan", "dasar"),
            ),
        ),
    ),
    (
        "dokter",
        (
            _r(
                "Terlaksananya pelayanan medis pasien rawat jalan",
                ("kuantitas", "Jumlah pasien yang diperiksa", 2500, 4500, 100, "pasien"),
                ("kualitas", "Persentase rekam medis yang lengkap", 90, 100, 2, "%"),
                ("waktu", "Rata-rata waktu tunggu pemeriksaan dokter", 15, 30, 5, "menit"),
                topics=("pelayanan", "kesehatan", "dasar"),
            ),
            _r(
                "Terlaksananya pemeriksaan kesehatan ibu hamil dan balita",
                ("kuantitas", "Jumlah ibu hamil dan balita yang diperiksa", 400, 900, 50, "orang"),
                ("kualitas", "Persentase ibu hamil risiko tinggi yang dirujuk tepat waktu", 90, 100, 2, "%"),
                topics=("ibu", "anak", "stunting", "gizi"),
            ),
            _r(
                "Terlaksananya skrining dan pemantauan kejadian ikutan pasca imunisasi",
                ("kuantitas", "Jumlah sasaran yang diskrining sebelum imunisasi", 400, 900, 50, "orang"),
                ("kualitas", "Persentase laporan KIPI yang ditindaklanjuti", 95, 100, 5, "%"),
                topics=("imunisasi", "vaksinasi"),
            ),
        ),
    ),
    (
        "perawat",
        (
            _r(
                "Terlaksananya pelayanan asuhan keperawatan pasien rawat jalan",
                ("kuantitas", "Jumlah pasien yang dilayani", 1800, 3000, 100, "pasien"),
                ("kualitas", "Persentase kepuasan pasien", 85, 95, 1, "%"),
                ("waktu", "Rata-rata waktu pelayanan triase", 5, 10, 1, "menit"),
                topics=("pelayanan", "kesehatan", "dasar", "kepuasan"),
            ),
            _r(
                "Terlaksananya pemberian imunisasi kepada bayi dan balita",
                ("kuantitas", "Jumlah bayi dan balita yang diimunisasi", 300, 700, 50, "anak"),
                ("kualitas", "Persentase imunisasi yang tercatat pada aplikasi ASIK", 95, 100, 5, "%"),
                topics=("imunisasi", "vaksinasi"),
            ),
            _r(
                "Terlaksananya kunjungan rumah perawatan kesehatan masyarakat",
                ("kuantitas", "Jumlah keluarga yang dikunjungi", 120, 300, 10, "keluarga"),
                ("kualitas", "Persentase keluarga rawan yang mendapat tindak lanjut", 85, 100, 5, "%"),
                topics=("stunting", "masyarakat", "derajat"),
            ),
        ),
    ),
    (
        "bidan",
        (
            _r(
                "Terlaksananya pelayanan antenatal care dan persalinan normal",
                ("kuantitas", "Jumlah ibu hamil yang mendapat pelayanan antenatal", 150, 400, 10, "orang"),
                ("kualitas", "Persentase persalinan yang ditolong tenaga kesehatan", 95, 100, 1, "%"),
                topics=("ibu", "anak", "stunting", "gizi", "dasar"),
            ),
            _r(
                "Terlaksananya imunisasi bayi di posyandu wilayah binaan",
                ("kuantitas", "Jumlah bayi yang mendapat imunisasi dasar", 150, 350, 10, "bayi"),
                ("kualitas", "Persentase bayi di wilayah binaan yang mendapat imunisasi dasar lengkap", 90, 98, 1, "%"),
                ("waktu", "Jangka waktu pelaksanaan posyandu", 12, 12, 1, "bulan"),
                topics=("imunisasi", "vaksinasi"),
            ),
        ),
    ),
    (
        "asisten apoteker",
        (
            _r(
                "Terlaksananya pelayanan resep dan pengelolaan stok obat",
                ("kuantitas", "Jumlah resep yang dilayani", 6000, 12000, 500, "resep"),
                ("waktu", "Rata-rata waktu pelayanan resep", 5, 15, 5, "menit"),
            ),
        ),
    ),
    (
        "apoteker",
        (
            _r(
                "Terlaksananya pelayanan kefarmasian dan pengelolaan obat sesuai standar",
                ("kuantitas", "Jumlah resep yang dikaji dan dilayani", 8000, 15000, 500, "resep"),
                ("kualitas", "Persentase ketersediaan obat esensial", 90, 100, 2, "%"),
                ("waktu", "Rata-rata waktu tunggu pelayanan obat", 10, 20, 5, "menit"),
            ),
        ),
    ),
    (
        "pranata laboratorium kesehatan",
        (
            _r(
                "Terlaksananya pemeriksaan laboratorium klinik sesuai standar",
                ("kuantitas", "Jumlah sampel yang diperiksa", 2000, 5000, 250, "sampel"),
                ("kualitas", "Persentase hasil pemeriksaan yang lolos pemantapan mutu", 95, 100, 1, "%"),
                ("waktu", "Rata-rata waktu penyampaian hasil pemeriksaan", 1, 3, 1, "jam"),
            ),
        ),
    ),
    (
        "nutrisionis",
        (
            _r(
                "Terlaksananya pemantauan status gizi dan konseling gizi balita",
                ("kuantitas", "Jumlah balita yang dipantau status gizinya", 500, 1500, 50, "balita"),
                ("kualitas", "Persentase balita gizi kurang yang mendapat konseling", 90, 100, 2, "%"),
                topics=("stunting", "gizi", "balita"),
            ),
        ),
    ),
    (
        "sanitarian",
        (
            _r(
                "Terlaksananya inspeksi kesehatan lingkungan dan sanitasi",
                ("kuantitas", "Jumlah tempat umum dan rumah yang diinspeksi", 150, 400, 10, "lokasi"),
                ("kualitas", "Persentase tempat umum yang memenuhi syarat kesehatan", 70, 90, 5, "%"),
            ),
        ),
    ),
    (
        "epidemiolog",
        (
            _r(
                "Terlaksananya surveilans epidemiologi penyakit menular",
                ("kuantitas", "Jumlah laporan surveilans mingguan", 52, 52, 1, "laporan"),
                ("waktu", "Waktu respons penyelidikan epidemiologi", 1, 2, 1, "hari"),
                ("kualitas", "Persentase kelengkapan laporan surveilans", 90, 100, 2, "%"),
                topics=("imunisasi", "penyakit", "pengendalian"),
            ),
        ),
    ),
    (
        "penyuluh kesehatan",
        (
            _r(
                "Terlaksananya penyuluhan kesehatan dan promosi perilaku hidup bersih dan sehat",
                ("kuantitas", "Jumlah kegiatan penyuluhan yang dilaksanakan", 48, 96, 4, "kegiatan"),
                ("kualitas", "Persentase rumah tangga ber-PHBS", 60, 80, 5, "%"),
                topics=("masyarakat", "stunting", "imunisasi"),
            ),
        ),
    ),
    (
        "perekam medis",
        (
            _r(
                "Terkelolanya rekam medis elektronik pasien puskesmas",
                ("kuantitas", "Jumlah rekam medis yang diinput dan diverifikasi", 8000, 20000, 1000, "berkas"),
                ("kualitas", "Persentase rekam medis yang lengkap dan terkode", 90, 100, 2, "%"),
                ("waktu", "Rata-rata waktu penyediaan berkas rekam medis", 5, 10, 5, "menit"),
            ),
        ),
    ),
    (
        "administrator kesehatan",
        (
            _r(
                "Terlaksananya analisis dan evaluasi program pelayanan kesehatan",
                ("kuantitas", "Jumlah laporan evaluasi program kesehatan", 4, 12, 1, "laporan"),
                ("kualitas", "Persentase rekomendasi evaluasi yang ditindaklanjuti", 70, 90, 5, "%"),
            ),
        ),
    ),
    (
        "imunisasi",
        (
            _r(
                "Terkelolanya logistik vaksin dan pencatatan imunisasi",
                ("kuantitas", "Jumlah laporan pemantauan wilayah setempat imunisasi", 12, 12, 1, "laporan"),
                ("kualitas", "Persentase vaksin yang disimpan sesuai rantai dingin", 98, 100, 1, "%"),
                ("waktu", "Ketepatan waktu pelaporan imunisasi bulanan", 12, 12, 1, "bulan"),
                topics=("imunisasi", "vaksinasi"),
            ),
        ),
    ),
    # ---------------- pendidikan
    (
        "guru bimbingan",
        (
            _r(
                "Terlaksananya layanan bimbingan dan konseling peserta didik",
                ("kuantitas", "Jumlah peserta didik yang mendapat layanan konseling", 150, 300, 10, "siswa"),
                ("kualitas", "Persentase kasus peserta didik yang tertangani", 85, 100, 5, "%"),
            ),
        ),
    ),
    (
        "guru",
        (
            _r(
                "Terlaksananya pembelajaran sesuai Kurikulum Merdeka",
                ("kuantitas", "Jumlah jam tatap muka per minggu", 24, 24, 1, "jam pelajaran"),
                (
                    "kualitas",
                    "Persentase peserta didik yang mencapai kriteria ketercapaian tujuan pembelajaran",
                    75,
                    90,
                    5,
                    "%",
                ),
                ("waktu", "Jangka waktu pelaksanaan pembelajaran", 2, 2, 1, "semester"),
                topics=("mutu", "pembelajaran", "hasil", "belajar"),
            ),
            _r(
                "Terlaksananya pengembangan keprofesian berkelanjutan guru",
                ("kuantitas", "Jumlah pelatihan yang diikuti", 2, 4, 1, "pelatihan"),
                ("kualitas", "Nilai uji kompetensi guru", 75, 90, 5, "nilai"),
                topics=("guru", "pelatihan", "kompetensi"),
            ),
        ),
    ),
    (
        "pengawas sekolah",
        (
            _r(
                "Terlaksananya supervisi akademik dan manajerial sekolah binaan",
                ("kuantitas", "Jumlah sekolah binaan yang disupervisi", 8, 15, 1, "sekolah"),
                ("kualitas", "Persentase sekolah binaan dengan nilai rapor pendidikan meningkat", 60, 80, 5, "%"),
            ),
        ),
    ),
    (
        "penilik",
        (
            _r(
                "Terlaksananya pengendalian mutu satuan PAUD dan pendidikan nonformal",
                ("kuantitas", "Jumlah lembaga yang dipantau", 10, 25, 1, "lembaga"),
                ("kualitas", "Persentase lembaga yang memenuhi standar pelayanan minimal", 70, 90, 5, "%"),
            ),
        ),
    ),
    (
        "pamong belajar",
        (
            _r(
                "Terlaksananya pembelajaran pendidikan kesetaraan",
                ("kuantitas", "Jumlah warga belajar yang dibimbing", 40, 100, 5, "orang"),
                ("kualitas", "Persentase warga belajar yang lulus ujian kesetaraan", 80, 95, 5, "%"),
            ),
        ),
    ),
    (
        "pengembang teknologi pembelajaran",
        (
            _r(
                "Tersedianya konten pembelajaran digital untuk guru",
                ("kuantitas", "Jumlah konten pembelajaran digital yang dikembangkan", 10, 30, 2, "konten"),
                ("kualitas", "Persentase konten yang lolos telaah", 85, 100, 5, "%"),
            ),
        ),
    ),
    (
        "widyaiswara",
        (
            _r(
                "Terlaksananya pengajaran pada pelatihan peningkatan kompetensi",
                ("kuantitas", "Jumlah jam pelajaran mengajar", 150, 300, 10, "jam pelajaran"),
                ("kualitas", "Nilai evaluasi pengajar oleh peserta", 80, 90, 1, "nilai"),
                topics=("pelatihan", "kompetensi", "guru"),
            ),
        ),
    ),
    (
        "pustakawan",
        (
            _r(
                "Terlaksananya layanan perpustakaan sekolah dan gerakan literasi",
                ("kuantitas", "Jumlah kunjungan peserta didik ke perpustakaan", 2000, 5000, 250, "kunjungan"),
                ("kualitas", "Persentase koleksi yang terkatalog", 90, 100, 5, "%"),
            ),
        ),
    ),
    (
        "pranata laboratorium pendidikan",
        (
            _r(
                "Terlaksananya pengelolaan laboratorium IPA untuk praktikum",
                ("kuantitas", "Jumlah praktikum yang difasilitasi", 40, 80, 5, "praktikum"),
                ("kualitas", "Persentase alat laboratorium dalam kondisi baik", 85, 95, 5, "%"),
            ),
        ),
    ),
    # ---------------- kependudukan
    (
        "operator perekaman ktp-el",
        (
            _r(
                "Terlaksananya perekaman data biometrik KTP-el",
                ("kuantitas", "Jumlah penduduk yang direkam data KTP-el", 2000, 5000, 250, "orang"),
                ("waktu", "Rata-rata waktu perekaman per pemohon", 10, 15, 5, "menit"),
                ("kualitas", "Persentase hasil perekaman yang lolos verifikasi", 97, 100, 1, "%"),
                topics=("ktp-el",),
            ),
        ),
    ),
    (
        "verifikator data kependudukan",
        (
            _r(
                "Terlaksananya verifikasi berkas permohonan dokumen kependudukan",
                ("kuantitas", "Jumlah berkas permohonan yang diverifikasi", 3000, 8000, 250, "berkas"),
                ("waktu", "Rata-rata waktu verifikasi berkas", 1, 1, 1, "hari"),
                ("kualitas", "Persentase dokumen terbit tanpa kesalahan data", 98, 100, 1, "%"),
                topics=("ktp-el", "penerbitan"),
            ),
        ),
    ),
    (
        "administrator database kependudukan",
        (
            _r(
                "Terpeliharanya database kependudukan dan layanan daring",
                ("kuantitas", "Jumlah data ganda yang dibersihkan", 200, 800, 50, "data"),
                ("kualitas", "Persentase ketersediaan layanan daring", 97, 99, 1, "%"),
                topics=("database", "daring"),
            ),
        ),
    ),
    (
        "pengadministrasi kependudukan",
        (
            _r(
                "Terlaksananya pelayanan loket permohonan dokumen kependudukan",
                ("kuantitas", "Jumlah pemohon yang dilayani", 2500, 6000, 250, "pemohon"),
                ("waktu", "Rata-rata waktu pelayanan di loket", 10, 20, 5, "menit"),
                topics=("ktp-el", "penerbitan", "kepuasan"),
            ),
        ),
    ),
    (
        "pencatatan sipil",
        (
            _r(
                "Terlaksananya penerbitan akta kelahiran dan akta pencatatan sipil lainnya",
                ("kuantitas", "Jumlah akta kelahiran yang diterbitkan", 1500, 4000, 250, "dokumen"),
                ("waktu", "Rata-rata waktu penerbitan akta kelahiran", 1, 3, 1, "hari"),
                ("kualitas", "Persentase akta yang terbit tanpa kesalahan data", 98, 100, 1, "%"),
                topics=("akta", "kelahiran"),
            ),
        ),
    ),
    (
        "operator layanan daring",
        (
            _r(
                "Terlaksananya pelayanan permohonan secara daring dan laporan harian layanan",
                ("kuantitas", "Jumlah permohonan daring yang diproses", 2000, 6000, 250, "permohonan"),
                ("waktu", "Rata-rata waktu tanggapan permohonan daring", 1, 2, 1, "hari"),
                ("kualitas", "Persentase laporan harian yang disampaikan tepat waktu", 95, 100, 5, "%"),
                topics=("daring", "online", "informasi"),
            ),
        ),
    ),
    # ---------------- kepegawaian / umum
    (
        "asesor sumber daya manusia",
        (
            _r(
                "Terlaksananya penilaian kompetensi ASN",
                ("kuantitas", "Jumlah ASN yang dinilai kompetensinya", 100, 300, 10, "orang"),
                ("waktu", "Waktu penyampaian laporan hasil penilaian", 5, 10, 1, "hari"),
                topics=("kompetensi",),
            ),
        ),
    ),
    (
        "analis sumber daya manusia",
        (
            _r(
                "Tersusunnya analisis kebutuhan dan evaluasi kinerja pegawai",
                ("kuantitas", "Jumlah dokumen SKP yang diverifikasi", 500, 1500, 50, "dokumen"),
                ("kualitas", "Persentase data kinerja pegawai yang valid", 95, 100, 1, "%"),
                ("waktu", "Rata-rata waktu verifikasi SKP", 2, 5, 1, "hari"),
                topics=("kinerja", "skp"),
            ),
            _r(
                "Tersusunnya analisis kebutuhan pengembangan kompetensi pegawai",
                ("kuantitas", "Jumlah pegawai yang dipetakan kebutuhan pengembangannya", 200, 600, 50, "orang"),
                ("kualitas", "Persentase rencana pengembangan kompetensi yang terealisasi", 70, 90, 5, "%"),
                topics=("kompetensi", "pelatihan", "guru"),
            ),
        ),
    ),
    (
        "pranata sumber daya manusia",
        (
            _r(
                "Terlaksananya pengolahan administrasi kepegawaian",
                ("kuantitas", "Jumlah usulan layanan kepegawaian yang diproses", 300, 800, 50, "usulan"),
                ("waktu", "Rata-rata waktu pemrosesan usulan", 2, 5, 1, "hari"),
            ),
        ),
    ),
    (
        "analis kebijakan",
        (
            _r(
                "Tersusunnya kajian dan rekomendasi kebijakan",
                ("kuantitas", "Jumlah kajian kebijakan yang disusun", 2, 6, 1, "kajian"),
                ("kualitas", "Persentase rekomendasi kebijakan yang diadopsi pimpinan", 50, 80, 10, "%"),
            ),
        ),
    ),
    (
        "perencana",
        (
            _r(
                "Tersusunnya dokumen perencanaan dan evaluasi program",
                ("kuantitas", "Jumlah dokumen perencanaan yang disusun", 4, 10, 1, "dokumen"),
                ("waktu", "Ketepatan waktu penyampaian dokumen perencanaan", 1, 1, 1, "bulan"),
                ("kualitas", "Persentase indikator program yang terukur", 90, 100, 5, "%"),
            ),
        ),
    ),
    (
        "statistisi",
        (
            _r(
                "Tersedianya data statistik sektoral yang akurat",
                ("kuantitas", "Jumlah set data statistik sektoral yang dipublikasikan", 20, 60, 5, "set data"),
                ("kualitas", "Persentase data yang lolos pemeriksaan kualitas", 90, 100, 5, "%"),
            ),
        ),
    ),
    (
        "analis hukum",
        (
            _r(
                "Tersusunnya telaah hukum atas rancangan produk hukum daerah",
                ("kuantitas", "Jumlah telaah hukum yang disusun", 20, 50, 5, "telaah"),
                ("waktu", "Rata-rata waktu penyelesaian telaah", 3, 7, 1, "hari"),
            ),
        ),
    ),
    (
        "perancang peraturan",
        (
            _r(
                "Tersusunnya rancangan peraturan wali kota yang harmonis",
                ("kuantitas", "Jumlah rancangan peraturan yang disusun", 8, 20, 1, "rancangan"),
                ("kualitas", "Persentase rancangan yang selesai harmonisasi tanpa revisi substansial", 80, 95, 5, "%"),
            ),
        ),
    ),
    (
        "pranata komputer",
        (
            _r(
                "Terpeliharanya aplikasi dan jaringan layanan perangkat daerah",
                ("kuantitas", "Jumlah permintaan dukungan teknis yang diselesaikan", 200, 600, 50, "tiket"),
                ("kualitas", "Persentase ketersediaan layanan aplikasi", 97, 99, 1, "%"),
                ("waktu", "Rata-rata waktu penyelesaian gangguan", 2, 8, 2, "jam"),
                topics=("aplikasi", "elektronik", "daring", "database", "spbe"),
            ),
        ),
    ),
    (
        "analis sistem informasi",
        (
            _r(
                "Tersusunnya analisis kebutuhan dan desain sistem informasi",
                ("kuantitas", "Jumlah dokumen analisis sistem yang disusun", 3, 8, 1, "dokumen"),
                ("kualitas", "Persentase kebutuhan pengguna yang terakomodasi", 80, 95, 5, "%"),
                topics=("aplikasi", "elektronik", "spbe"),
            ),
        ),
    ),
    (
        "sandiman",
        (
            _r(
                "Terlaksananya pengamanan persandian dan keamanan informasi",
                ("kuantitas", "Jumlah sertifikat elektronik yang diterbitkan", 50, 200, 10, "sertifikat"),
                ("kualitas", "Persentase insiden keamanan yang ditangani", 95, 100, 5, "%"),
                topics=("keamanan",),
            ),
        ),
    ),
    (
        "pranata hubungan masyarakat",
        (
            _r(
                "Terpublikasinya kegiatan dan informasi pemerintah kota",
                ("kuantitas", "Jumlah konten publikasi yang diterbitkan", 150, 400, 10, "konten"),
                ("waktu", "Rata-rata waktu publikasi setelah kegiatan", 1, 1, 1, "hari"),
                topics=("informasi", "keterbukaan", "pimpinan"),
            ),
        ),
    ),
    (
        "analis pengelolaan keuangan",
        (
            _r(
                "Tersusunnya analisis pengelolaan keuangan daerah",
                ("kuantitas", "Jumlah laporan analisis realisasi anggaran", 12, 12, 1, "laporan"),
                ("kualitas", "Persentase temuan pemeriksaan yang ditindaklanjuti", 90, 100, 5, "%"),
            ),
        ),
    ),
    (
        "bendahara",
        (
            _r(
                "Tertatausahakannya penerimaan dan pengeluaran kas",
                ("kuantitas", "Jumlah surat pertanggungjawaban yang diverifikasi", 300, 800, 50, "SPJ"),
                ("waktu", "Ketepatan waktu penyampaian SPJ fungsional", 10, 10, 1, "hari"),
                (
                    "biaya",
                    "Nilai belanja yang dipertanggungjawabkan",
                    1_000_000_000,
                    5_000_000_000,
                    250_000_000,
                    "rupiah",
                ),
            ),
        ),
    ),
    (
        "pengelola keuangan",
        (
            _r(
                "Tersusunnya laporan keuangan unit kerja",
                ("kuantitas", "Jumlah laporan keuangan yang disusun", 12, 14, 1, "laporan"),
                ("kualitas", "Persentase laporan keuangan tanpa koreksi", 90, 100, 5, "%"),
                ("waktu", "Ketepatan waktu penyampaian laporan keuangan bulanan", 10, 10, 1, "hari"),
            ),
        ),
    ),
    (
        "pengelola barang",
        (
            _r(
                "Tertatausahakannya barang milik daerah",
                ("kuantitas", "Jumlah barang milik daerah yang diinventarisasi", 500, 1500, 100, "unit"),
                ("kualitas", "Persentase aset yang tercatat dalam SIMDA BMD", 95, 100, 1, "%"),
            ),
        ),
    ),
    (
        "arsiparis",
        (
            _r(
                "Terkelolanya arsip dinamis unit kerja",
                ("kuantitas", "Jumlah berkas arsip yang ditata", 500, 1500, 100, "berkas"),
                ("kualitas", "Persentase arsip yang terdaftar pada aplikasi SRIKANDI", 90, 100, 5, "%"),
            ),
        ),
    ),
    (
        "pengadministrasi",
        (
            _r(
                "Terlaksananya administrasi persuratan dan kearsipan",
                ("kuantitas", "Jumlah surat masuk dan keluar yang diadministrasikan", 600, 1500, 50, "surat"),
                ("waktu", "Rata-rata waktu penyampaian disposisi", 1, 1, 1, "hari"),
                ("kualitas", "Persentase surat yang teragenda tanpa kesalahan", 95, 100, 5, "%"),
            ),
        ),
    ),
)

_STOPWORDS = frozenset(
    {
        "meningkatnya",
        "terlaksananya",
        "tersusunnya",
        "tersedianya",
        "terwujudnya",
        "menurunnya",
        "kualitas",
        "daerah",
        "dalam",
        "untuk",
        "yang",
        "dengan",
        "serta",
        "pada",
        "secara",
        "sesuai",
        "terhadap",
        "wilayah",
        "kerja",
        "pemerintah",
        "perangkat",
    }
)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9-]+", text.lower()) if len(w) >= 4 and w not in _STOPWORDS}


def _best(templates: tuple[_Rhk, ...], parent_rhk: str, rng: random.Random) -> _Rhk:
    parent = _words(parent_rhk)
    scored = [(len(parent & (_words(t.description) | set(t.topics))), t) for t in templates]
    top = max(s for s, _ in scored)
    return rng.choice([t for s, t in scored if s == top])


def _value(lo: float, hi: float, step: float, rng: random.Random) -> int | float:
    n = int(round((hi - lo) / step))
    v = lo + step * rng.randint(0, n)
    if all(float(x).is_integer() for x in (lo, hi, step)):
        return int(round(v))
    return round(v, 2)


def _iki(template: _Rhk, rng: random.Random) -> list[dict]:
    by_aspect: dict[str, list[_Iki]] = {}
    for item in template.iki:
        by_aspect.setdefault(item[0], []).append(item)
    aspects = [a for a in _ASPECTS if a in by_aspect]
    first = "kuantitas" if "kuantitas" in by_aspect else aspects[0]
    others = [a for a in aspects if a != first]
    k = min(len(others), rng.choice((1, 1, 2)) if others else 0)
    chosen = {first, *rng.sample(others, k)}
    out = []
    for aspect in _ASPECTS:
        if aspect in chosen:
            _, indicator, lo, hi, step, unit = rng.choice(by_aspect[aspect])
            out.append(
                {
                    "aspect": aspect,
                    "indicator": indicator,
                    "target_value": _value(lo, hi, step, rng),
                    "target_unit": unit,
                }
            )
    return out


def head_goals(unit_code: str) -> list[str]:
    """Organisational goals (perjanjian kinerja) for the head of a unit."""
    return [t.description for t in _HEAD_RHK.get(unit_kind(unit_code), _HEAD_RHK["umum"])]


def rhk_for(position: str, unit_code: str, parent_rhk: str, rng: random.Random) -> dict:
    """An RHK with 1-3 IKI (distinct aspects) for ``position`` in ``unit_code`` supporting ``parent_rhk``.

    Unit heads get one of their unit's goals (the closest to ``parent_rhk``); other positions get a
    position-specific result, preferring the one that best matches the parent RHK.
    """
    pos = position.lower()
    kind = unit_kind(unit_code)
    if pos.startswith(_HEAD_PREFIXES):
        template = _best(_HEAD_RHK.get(kind, _HEAD_RHK["umum"]), parent_rhk, rng)
    else:
        for keyword, templates in _POSITION_RHK:
            if keyword in pos:
                template = _best(templates, parent_rhk, rng)
                break
        else:
            core = parent_rhk.strip().rstrip(".")
            target = f" untuk mendukung sasaran \u201c{core}\u201d" if core else ""
            template = _r(
                f"Terlaksananya tugas {position}{target}",
                ("kuantitas", "Jumlah laporan pelaksanaan tugas", 12, 12, 1, "laporan"),
                ("kualitas", "Persentase tugas yang diselesaikan sesuai standar", 90, 100, 5, "%"),
                ("waktu", "Ketepatan waktu penyampaian laporan bulanan", 12, 12, 1, "bulan"),
            )
    return {"description": template.description, "iki": _iki(template, rng)}
