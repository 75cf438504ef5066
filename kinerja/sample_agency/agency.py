"""Building the sample agency: units sized from their weights, a head per unit, middle managers
with their staff (or staff reporting to the head: clinicians, teachers), a few English speakers;
and the units and employees as import CSV (parents and superiors first)."""

from __future__ import annotations

import csv
import dataclasses
import io
import random
from dataclasses import dataclass

from .catalogue import AGENCY_CODE, AGENCY_NAME, EDU, GRADES, SPEC_BY_CODE, STAFF, UNIT_SPECS, G, Pool, Role
from .people import PeopleBuilder, jf_level

MIN_UNIT_SIZE = 5


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


def unit_kind(unit_code: str) -> str:
    """Kind of a sample unit ("setda", "dinkes", "puskesmas", "sekolah", ...); "umum" if unknown."""
    spec = SPEC_BY_CODE.get(unit_code)
    if spec is not None:
        return spec.kind
    if unit_code.startswith("PKM-"):
        return "puskesmas"
    if unit_code.startswith(("SMPN-", "SDN-", "SMP-", "SD-")):
        return "sekolah"
    return "umum"


# --------------------------------------------------------------------------- generation


def _allocate(target: int, weights: list[int]) -> list[int]:
    total = sum(weights)
    raw = [target * w / total for w in weights]
    sizes = [max(MIN_UNIT_SIZE, int(r)) for r in raw]
    order = sorted(range(len(weights)), key=lambda i: raw[i] - int(raw[i]), reverse=True)
    i = 0
    while sum(sizes) < target:
        sizes[order[i % len(order)]] += 1
        i += 1
    while sum(sizes) > target:
        j = max(range(len(sizes)), key=lambda k: sizes[k])
        sizes[j] -= 1
    return sizes


def _split(rng: random.Random, total: int, parts: int, minimum: int = 3) -> list[int]:
    """Split ``total`` into ``parts`` shares, each >= minimum when possible, slightly uneven."""
    base = [min(minimum, total // parts)] * parts
    for _ in range(total - sum(base)):
        base[rng.randrange(parts)] += 1
    return base


def _pick_positions(rng: random.Random, pool: Pool, count: int) -> list[str]:
    """First every pool entry once (in order), then weighted draws."""
    out = [name for name, _ in pool[:count]]
    names = [n for n, _ in pool]
    weights = [w for _, w in pool]
    while len(out) < count:
        out.append(rng.choices(names, weights=weights)[0])
    return out


def build(seed: int = 2026, employees_target: int = 200) -> SampleAgency:
    """Build the sample agency; the same arguments always give the same agency."""
    if employees_target < MIN_UNIT_SIZE * len(UNIT_SPECS):
        raise ValueError(f"employees_target must be at least {MIN_UNIT_SIZE * len(UNIT_SPECS)}")
    rng = random.Random(seed)
    b = PeopleBuilder(rng)
    sizes = _allocate(employees_target, [s.weight for s in UNIT_SPECS])
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

    def structural(role: Role) -> tuple[dict, int]:
        prefix, suffix = rng.choice(role.titles)
        person = b.person(female_prob=role.female_prob, birth=role.birth, edu=role.edu, prefix=prefix, suffix=suffix)
        grade = b.grade_index(role.edu, person["appointment_year"], *role.grade)
        return person, grade

    def staff(position: str, unit: str, superior: str) -> None:
        profile = STAFF[position]
        opt = rng.choices(profile.options, weights=[o.weight for o in profile.options])[0]
        person = b.person(
            female_prob=profile.female_prob,
            birth=(1967, 1998),
            edu=opt.edu,
            prefix=rng.choice(opt.prefix),
            suffix=rng.choice(opt.suffix),
            religion=profile.religion,
        )
        start, _ = EDU[opt.edu]
        cap = G["IV/b"] if opt.track == "ahli" else G["III/d"]
        grade = b.grade_index(opt.edu, person["appointment_year"], start, cap)
        title = position if opt.track is None else f"{position} {jf_level(opt.track, grade)}"
        add(person, title, grade, unit, superior, False)

    for spec, size in zip(UNIT_SPECS, sizes):
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

    units = [SampleUnit(s.code, s.name, s.parent, heads[s.code]) for s in UNIT_SPECS]
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
