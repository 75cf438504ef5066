"""The sample agency's data, read from the JSON files beside this module: the agency's identity,
golongan, titles, name groups, staff positions (people.json), the unit tree with its structural
roles and staff pools (units.json). Plain frozen dataclasses; nothing random here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent


def load(name: str) -> dict:
    """One of the JSON files of this package."""
    return json.loads((HERE / name).read_text(encoding="utf-8"))


_PEOPLE = load("people.json")
_UNITS = load("units.json")

CITY_NAME: str = _PEOPLE["agency"]["city"]
AGENCY_CODE: str = _PEOPLE["agency"]["code"]
AGENCY_NAME: str = _PEOPLE["agency"]["name"]
EMAIL_DOMAIN: str = _PEOPLE["agency"]["email_domain"]

#: Golongan ruang from low to high (golongan I is not used for this sample).
GRADES: tuple[str, ...] = tuple(_PEOPLE["grades"])
G = {g: i for i, g in enumerate(GRADES)}

#: Titles that may precede the given name (academic, professional, religious).
PREFIX_TITLES: tuple[str, ...] = tuple(_PEOPLE["prefix_titles"])

#: Mobile number prefixes a phone number starts with.
PHONE_PREFIXES: tuple[str, ...] = tuple(_PEOPLE["phone_prefixes"])


# --------------------------------------------------------------------------- names


@dataclass(frozen=True)
class NameGroup:
    religion: str  # "islam" | "kristen"
    weight: int
    male_first: tuple[str, ...]
    female_first: tuple[str, ...]
    male_second: tuple[str, ...]
    female_second: tuple[str, ...]
    single_name_prob: float = 0.0
    clan: tuple[str, ...] = ()  # marga: appended for both sexes
    boru_prob: float = 0.0  # women written "X br. Marga"


NAME_GROUPS: dict[str, NameGroup] = {
    key: NameGroup(
        religion=g["religion"],
        weight=g["weight"],
        male_first=tuple(g["male_first"]),
        female_first=tuple(g["female_first"]),
        male_second=tuple(g["male_second"]),
        female_second=tuple(g["female_second"]),
        single_name_prob=g.get("single_name_prob", 0.0),
        clan=tuple(g.get("clan", ())),
        boru_prob=g.get("boru_prob", 0.0),
    )
    for key, g in _PEOPLE["name_groups"].items()
}

MALE_FIRST_NAMES: frozenset[str] = frozenset(n for g in NAME_GROUPS.values() for n in g.male_first)
FEMALE_FIRST_NAMES: frozenset[str] = frozenset(n for g in NAME_GROUPS.values() for n in g.female_first)
assert not (MALE_FIRST_NAMES & FEMALE_FIRST_NAMES), MALE_FIRST_NAMES & FEMALE_FIRST_NAMES


# --------------------------------------------------------------------------- positions

#: education: (start grade index, minimum age at appointment)
EDU: dict[str, tuple[int, int]] = {k: (G[v["start_grade"]], v["min_age"]) for k, v in _PEOPLE["education"].items()}

#: jabatan fungsional levels per track: (highest grade index of the level, level name), low to high
JF_LEVELS: dict[str, tuple[tuple[int, str], ...]] = {
    track: tuple((G[grade], name) for grade, name in levels) for track, levels in _PEOPLE["jf_levels"].items()
}


@dataclass(frozen=True)
class Edu:
    weight: int
    edu: str
    prefix: tuple[str, ...] = ("",)
    suffix: tuple[str, ...] = ("",)
    track: str | None = None  # None: pelaksana; "ahli" / "terampil": jabatan fungsional


@dataclass(frozen=True)
class StaffProfile:
    options: tuple[Edu, ...]
    female_prob: float = 0.5
    religion: str | None = None


STAFF: dict[str, StaffProfile] = {
    position: StaffProfile(
        tuple(
            Edu(
                o["weight"],
                o["edu"],
                tuple(o.get("prefix", ("",))),
                tuple(o.get("suffix", ("",))),
                o.get("track"),
            )
            for o in p["options"]
        ),
        p.get("female", 0.5),
        p.get("religion"),
    )
    for position, p in _PEOPLE["staff"].items()
}


# --------------------------------------------------------------------------- units

Pool = tuple[tuple[str, float], ...]  # (staff position, weight)


@dataclass(frozen=True)
class Role:
    """Structural role: head or middle manager."""

    birth: tuple[int, int]
    grade: tuple[int, int]
    titles: tuple[tuple[str, str], ...]  # (prefix, suffix)
    edu: str = "S1"
    female_prob: float = 0.3


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    parent: str | None
    kind: str
    weight: int
    head_position: str
    head_role: Role
    # middle managers: (position, role, staff pool)
    middles: tuple[tuple[str, Role, Pool], ...]
    # staff reporting directly to the head (puskesmas clinicians, teachers)
    direct: Pool = ()


def _titles(ref: str | list) -> tuple[tuple[str, str], ...]:
    return tuple(tuple(t) for t in (_UNITS["titles"][ref] if isinstance(ref, str) else ref))


def _pool(ref: str | list) -> Pool:
    return tuple((name, weight) for name, weight in (_UNITS["pools"][ref] if isinstance(ref, str) else ref))


ROLES: dict[str, Role] = {
    key: Role(
        tuple(r["birth"]),
        (G[r["grade"][0]], G[r["grade"][1]]),
        _titles(r["titles"]),
        r.get("edu", "S1"),
        r.get("female_prob", 0.3),
    )
    for key, r in _UNITS["roles"].items()
}

UNIT_SPECS: tuple[UnitSpec, ...] = tuple(
    UnitSpec(
        u["code"],
        u["name"],
        u["parent"],
        u["kind"],
        u["weight"],
        u["head_position"],
        ROLES[u["head_role"]],
        tuple((m["position"], ROLES[m.get("role", "middle")], _pool(m["pool"])) for m in u["middles"]),
        _pool(u.get("direct", ())),
    )
    for u in _UNITS["units"]
)
SPEC_BY_CODE = {s.code: s for s in UNIT_SPECS}
