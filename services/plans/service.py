"""Use cases of the plans service. HTTP views and event consumers both call these functions;
each takes the open session and the acting principal, enforces object-level access, applies the
rules of ``domain.py``, writes the audit row and the outbox events in the same transaction."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, lazyload
from sqlalchemy.orm.attributes import flag_modified

from services.common.auth import Principal, forbid
from services.common.errors import FieldError, Problem
from services.common.usecase import audit, emit, not_found, now, platform, today, validation

from . import domain
from .models import (
    ActingAssignment,
    Agency,
    Cycle,
    DailyLog,
    Employee,
    Evidence,
    Feedback,
    Iki,
    Period,
    Plan,
    PlanVersion,
    Realisation,
    Rhk,
    Unit,
)

# ------------------------------------------------------------------ access


def in_agency(p: Principal, agency_code: str, roles=("hr", "agency")) -> bool:
    return p.is_admin or (p.has(*roles) and p.agency == agency_code)


def require_hr(p: Principal, agency_code: str) -> None:
    if not in_agency(p, agency_code, roles=("hr",)):
        raise forbid()


def superior_lookup(s: Session):
    cache: dict[str, str | None] = {}

    def superior_of(nip: str) -> str | None:
        if nip not in cache:
            cache[nip] = s.scalar(select(Employee.superior_nip).where(Employee.nip == nip))
        return cache[nip]

    return superior_of


def acting_for(s: Session, acting_nip: str | None, on: date) -> set[str]:
    """NIPs this person stands in for (Plt/Plh) on the given day."""
    if not acting_nip:
        return set()
    rows = s.scalars(
        select(ActingAssignment.for_nip).where(
            ActingAssignment.acting_nip == acting_nip,
            ActingAssignment.start_date <= on,
            ActingAssignment.end_date >= on,
        )
    )
    return set(rows)


def supervises(s: Session, p: Principal, employee_nip: str) -> bool:
    """The principal is in the employee's reporting line, directly, indirectly or as acting official."""
    if not p.nip or p.nip == employee_nip:
        return False
    superior_of = superior_lookup(s)
    if domain.is_in_reporting_line(p.nip, employee_nip, superior_of):
        return True
    return any(domain.is_in_reporting_line(n, employee_nip, superior_of) for n in acting_for(s, p.nip, today()))


def can_read_person(s: Session, p: Principal, agency_code: str, nip: str) -> bool:
    return in_agency(p, agency_code) or p.nip == nip or supervises(s, p, nip)


def subtree(s: Session, agency_code: str, root_nips: set[str]) -> set[str]:
    """Everyone below the given people in the reporting lines of the agency."""
    rows = s.execute(select(Employee.nip, Employee.superior_nip).where(Employee.agency_code == agency_code)).all()
    children: dict[str, list[str]] = {}
    for nip, sup in rows:
        if sup:
            children.setdefault(sup, []).append(nip)
    out, stack = set(), list(root_nips)
    while stack:
        for c in children.get(stack.pop(), []):
            if c not in out:
                out.add(c)
                stack.append(c)
    return out


# ------------------------------------------------------------------ directory


def create_agency(s: Session, p: Principal, data: dict) -> Agency:
    if not p.is_admin:
        raise forbid()
    if s.get(Agency, data["code"]):
        raise Problem(409, "plans.agency_exists", agency=data["code"])
    agency = Agency(code=data["code"], name=data["name"], created_at=now())
    s.add(agency)
    audit(s, p, "agency.created", "agency", agency.code, after=data, agency=agency.code)
    return agency


def get_agency(s: Session, code: str) -> Agency:
    agency = s.get(Agency, code)
    if agency is None:
        raise not_found("agency", code)
    return agency


def unit_payload(u: Unit) -> dict:
    return {
        "id": u.id,
        "agency_code": u.agency_code,
        "code": u.code,
        "name": u.name,
        "parent_code": u.parent.code if u.parent else None,
        "head_nip": u.head_nip,
    }


def unit_by_code(s: Session, agency_code: str, code: str) -> Unit | None:
    return s.scalar(select(Unit).where(Unit.agency_code == agency_code, Unit.code == code))


def upsert_unit(
    s: Session, p: Principal, agency_code: str, data: dict, *, expected_version: int | None = None
) -> tuple[Unit, str]:
    require_hr(p, agency_code)
    get_agency(s, agency_code)
    parent = None
    if data.get("parent_code"):
        parent = unit_by_code(s, agency_code, data["parent_code"])
        if parent is None:
            raise validation([("parent_code", "unit.parent_unknown")])
    unit = unit_by_code(s, agency_code, data["code"])
    if unit is not None and parent is not None:
        walk = parent
        while walk is not None:  # a unit may not sit below itself
            if walk.id == unit.id:
                raise validation([("parent_code", "unit.parent_cycle")])
            walk = walk.parent if walk.parent_id else None
    before = unit_payload(unit) if unit else None
    if unit is None:
        unit = Unit(
            agency_code=agency_code,
            code=data["code"],
            name=data["name"],
            parent_id=parent.id if parent else None,
            head_nip=data.get("head_nip"),
            updated_at=now(),
        )
        s.add(unit)
        outcome = "created"
    else:
        changes = {
            "name": data["name"],
            "parent_id": parent.id if parent else None,
            "head_nip": data.get("head_nip", unit.head_nip),
        }
        if all(getattr(unit, k) == v for k, v in changes.items()):
            return unit, "unchanged"
        for k, v in changes.items():
            setattr(unit, k, v)
        unit.updated_at = now()
        outcome = "updated"
    s.flush()
    s.refresh(unit)
    after = unit_payload(unit)
    audit(s, p, f"unit.{outcome}", "unit", unit.id, before=before, after=after, agency=agency_code)
    emit(s, "plans.unit.upserted", unit.id, after)
    return unit, outcome


def employee_payload(e: Employee) -> dict:
    return {
        "nip": e.nip,
        "agency_code": e.agency_code,
        "name": e.name,
        "email": e.email,
        "phone": e.phone,
        "position": e.position,
        "grade": e.grade,
        "unit_code": e.unit.code,
        "unit_name": e.unit.name,
        "superior_nip": e.superior_nip,
        "language": e.language,
        "active": e.active,
    }


def _normalise_nip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def check_employee(
    s: Session,
    agency_code: str,
    data: dict,
    *,
    pending: dict[str, str | None] | None = None,
    pending_units: set[str] | None = None,
    prefix: str = "",
) -> list[FieldError]:
    """All the field errors of one employee record; ``pending`` are superiors from the same import."""
    errors: list[FieldError] = []
    nip = _normalise_nip(data.get("nip"))
    try:
        domain.parse_nip(nip or "", today())
    except domain.InvalidNip as exc:
        errors.append(FieldError(prefix + "nip", exc.code, exc.params))
    if "unit_code" in data and not (
        unit_by_code(s, agency_code, data["unit_code"]) or (pending_units and data["unit_code"] in pending_units)
    ):
        errors.append(FieldError(prefix + "unit_code", "employee.unit_unknown", {"unit_code": data["unit_code"]}))
    sup = _normalise_nip(data.get("superior_nip"))
    if sup:
        known = (pending and sup in pending) or s.scalar(
            select(func.count()).select_from(Employee).where(Employee.nip == sup, Employee.agency_code == agency_code)
        )
        if not known:
            errors.append(FieldError(prefix + "superior_nip", "employee.superior_unknown", {"superior_nip": sup}))
        elif nip:
            db_lookup = superior_lookup(s)

            def superior_of(n: str) -> str | None:
                if pending and n in pending:
                    return pending[n]
                return db_lookup(n)

            if domain.creates_reporting_cycle(nip, sup, superior_of):
                errors.append(FieldError(prefix + "superior_nip", "employee.reporting_cycle", {"superior_nip": sup}))
    return errors


def upsert_employee(s: Session, p: Principal, agency_code: str, data: dict) -> tuple[Employee, str]:
    require_hr(p, agency_code)
    get_agency(s, agency_code)
    data = dict(data)
    data["nip"] = _normalise_nip(data["nip"])
    data["superior_nip"] = _normalise_nip(data.get("superior_nip"))
    errors = check_employee(s, agency_code, data)
    if errors:
        raise Problem(422, "validation", errors=errors)
    existing = s.scalar(select(Employee).where(Employee.nip == data["nip"]))
    if existing is not None and existing.agency_code != agency_code:
        raise validation([("nip", "employee.other_agency")])
    return _write_employee(s, p, agency_code, existing, data)


def _write_employee(
    s: Session, p: Principal, agency_code: str, emp: Employee | None, data: dict
) -> tuple[Employee, str]:
    unit = unit_by_code(s, agency_code, data["unit_code"])
    fields = {
        "name": data["name"],
        "email": data.get("email"),
        "phone": data.get("phone"),
        "position": data["position"],
        "grade": data.get("grade"),
        "unit_id": unit.id,
        "superior_nip": data.get("superior_nip"),
        "language": data.get("language") or "id",
        "active": data.get("active", True),
    }
    before = employee_payload(emp) if emp else None
    if emp is None:
        emp = Employee(nip=data["nip"], agency_code=agency_code, updated_at=now(), **fields)
        s.add(emp)
        outcome = "created"
    else:
        if all(getattr(emp, k) == v for k, v in fields.items()):
            return emp, "unchanged"
        for k, v in fields.items():
            setattr(emp, k, v)
        emp.updated_at = now()
        outcome = "updated"
    s.flush()
    s.refresh(emp)
    after = employee_payload(emp)
    audit(
        s,
        p,
        f"employee.{outcome}",
        "employee",
        emp.nip,
        before=before,
        after=after,
        agency=agency_code,
        subject=emp.nip,
    )
    emit(s, "plans.employee.upserted", emp.nip, after)
    return emp, outcome


def update_employee(s: Session, p: Principal, emp: Employee, changes: dict) -> Employee:
    require_hr(p, emp.agency_code)
    data = employee_payload(emp) | changes
    data["superior_nip"] = _normalise_nip(data.get("superior_nip"))
    errors = check_employee(s, emp.agency_code, data)
    if errors:
        raise Problem(422, "validation", errors=errors)
    _write_employee(s, p, emp.agency_code, emp, data)
    return emp


def get_employee(s: Session, p: Principal, nip: str) -> Employee:
    emp = s.scalar(select(Employee).where(Employee.nip == nip))
    if emp is None or not can_read_person(s, p, emp.agency_code, emp.nip):
        raise not_found("employee", nip)  # 404, not 403: do not reveal who exists elsewhere
    return emp


def employee_query(s: Session, p: Principal, args: dict):
    stmt = select(Employee)
    if in_agency(p, p.agency or "") or p.is_admin:
        if not p.is_admin:
            stmt = stmt.where(Employee.agency_code == p.agency)
    else:
        visible = {p.nip} | subtree(s, p.agency or "", {p.nip} | acting_for(s, p.nip, today())) if p.nip else set()
        stmt = stmt.where(Employee.nip.in_(visible or {"\0"}))
    if "unit_code" in args:
        stmt = stmt.join(Unit, Employee.unit_id == Unit.id).where(Unit.code == args["unit_code"])
    if "superior_nip" in args:
        stmt = stmt.where(Employee.superior_nip == args["superior_nip"])
    if "active" in args:
        stmt = stmt.where(Employee.active == args["active"])
    return stmt


# ------------------------------------------------------------------ CSV import

UNIT_COLUMNS = ("code", "name", "parent_code", "head_nip")
EMPLOYEE_COLUMNS = ("nip", "name", "email", "phone", "position", "grade", "unit_code", "superior_nip", "language")


def import_directory(
    s: Session, p: Principal, agency_code: str, kind: str, text: str, *, dry_run: bool, load_row
) -> dict:
    """Validate every row first; apply all of them or none. ``load_row(kind, dict)`` returns
    (data, field_errors) using the API's schemas."""
    require_hr(p, agency_code)
    get_agency(s, agency_code)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    expected = UNIT_COLUMNS if kind == "units" else EMPLOYEE_COLUMNS
    required = ("code", "name") if kind == "units" else ("nip", "name", "position", "unit_code")
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    unknown = [c for c in header if c not in expected]
    if missing or unknown:
        errs = [FieldError("header", "import.column_missing", {"column": c}) for c in missing]
        errs += [FieldError("header", "import.column_unknown", {"column": c}) for c in unknown]
        raise Problem(422, "validation", errors=errs)
    rows: list[tuple[int, dict]] = []
    errors: list[dict] = []
    seen: dict[str, int] = {}
    key = "code" if kind == "units" else "nip"
    total = 0
    for line, raw in enumerate(reader, start=2):
        total += 1
        raw = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        clean = {k: v for k, v in raw.items() if v != ""}
        data, field_errors = load_row(kind, clean)
        for fe in field_errors:
            errors.append({"row": line, "field": fe.field, "code": fe.code, "params": fe.params, "message": fe.message})
        if data is None:
            continue
        k = data[key]
        if k in seen:
            errors.append({"row": line, "field": key, "code": "import.duplicate", "params": {"first_row": seen[k]}})
            continue
        seen[k] = line
        rows.append((line, data))
    if kind == "units":
        pending_units = {d["code"] for _, d in rows}
        parents = {d["code"]: d.get("parent_code") for _, d in rows}
        for line, d in rows:
            pc = d.get("parent_code")
            if pc and pc not in pending_units and unit_by_code(s, agency_code, pc) is None:
                errors.append({"row": line, "field": "parent_code", "code": "unit.parent_unknown", "params": {}})
            walk, hops = pc, 0
            while walk and hops < 1000:
                if walk == d["code"]:
                    errors.append({"row": line, "field": "parent_code", "code": "unit.parent_cycle", "params": {}})
                    break
                walk = parents.get(walk) if walk in parents else None
                hops += 1
    else:
        pending = {d["nip"]: _normalise_nip(d.get("superior_nip")) for _, d in rows}
        for line, d in rows:
            d["superior_nip"] = _normalise_nip(d.get("superior_nip"))
            for fe in check_employee(s, agency_code, d, pending=pending):
                errors.append({"row": line, "field": fe.field, "code": fe.code, "params": fe.params})
            other = s.scalar(select(Employee.agency_code).where(Employee.nip == d["nip"]))
            if other and other != agency_code:
                errors.append({"row": line, "field": "nip", "code": "employee.other_agency", "params": {}})
    report = {
        "kind": kind,
        "dry_run": dry_run,
        "rows": total,
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "errors": errors,
    }
    if errors:
        if dry_run:
            return report
        raise Problem(
            422,
            "import.rejected",
            errors=[
                FieldError(f"rows[{e['row']}].{e['field']}", e["code"], e.get("params") or {}, e.get("message"))
                for e in errors
            ],
            rows=report["rows"],
        )
    # apply in dependency order (parents and superiors first); a dry run rolls everything back
    ordered = _dependency_order(rows, key, "parent_code" if kind == "units" else "superior_nip")
    for _, d in ordered:
        if kind == "units":
            _, outcome = upsert_unit(s, p, agency_code, d)
        else:
            emp = s.scalar(select(Employee).where(Employee.nip == d["nip"]))
            _, outcome = _write_employee(s, p, agency_code, emp, d)
        report[outcome] += 1
    if dry_run:
        s.rollback()
    return report


def _dependency_order(rows: list[tuple[int, dict]], key: str, ref: str) -> list[tuple[int, dict]]:
    by_key = {d[key]: (line, d) for line, d in rows}
    out, done = [], set()

    def visit(k: str, depth: int = 0):
        if k in done or k not in by_key or depth > 1000:
            return
        parent = by_key[k][1].get(ref)
        if parent:
            visit(parent, depth + 1)
        done.add(k)
        out.append(by_key[k])

    for k in by_key:
        visit(k)
    return out


# ------------------------------------------------------------------ acting officials


def create_acting(s: Session, p: Principal, data: dict) -> ActingAssignment:
    agency_code = p.agency or ""
    require_hr(p, agency_code)
    for fld in ("acting_nip", "for_nip"):
        if not s.scalar(select(Employee.id).where(Employee.nip == data[fld], Employee.agency_code == agency_code)):
            raise validation([(fld, "employee.unknown")])
    a = ActingAssignment(agency_code=agency_code, created_at=now(), **data)
    s.add(a)
    s.flush()
    audit(
        s,
        p,
        "acting.created",
        "acting",
        a.id,
        after={k: str(v) for k, v in data.items()},
        agency=agency_code,
        subject=data["acting_nip"],
    )
    return a


# ------------------------------------------------------------------ cycles


def cycle_state(c: Cycle) -> domain.CycleState:
    return domain.CycleState(c.stage, c.period_seq, c.phase)


def cycle_out(c: Cycle) -> Cycle:
    c.state = domain.state_label(cycle_state(c))
    return c


def period_payload(pr: Period) -> dict:
    return {
        "seq": pr.seq,
        "name_id": pr.name_id,
        "name_en": pr.name_en,
        "start": pr.start,
        "end": pr.end,
        "deadline": pr.deadline,
    }


def create_cycle(s: Session, p: Principal, data: dict) -> Cycle:
    agency_code = p.agency or ""
    require_hr(p, agency_code)
    get_agency(s, agency_code)
    name = data.get("name") or f"Penilaian Kinerja {data['year']}"
    if s.scalar(
        select(Cycle.id).where(Cycle.agency_code == agency_code, Cycle.year == data["year"], Cycle.name == name)
    ):
        raise Problem(409, "cycle.exists", year=data["year"], name=name)
    for code in data.get("unit_codes") or []:
        if unit_by_code(s, agency_code, code) is None:
            raise validation([("unit_codes", "employee.unit_unknown")], unit_code=code)
    specs = domain.make_periods(data["year"], data["period_type"], data.get("deadline_days", 5))
    c = Cycle(
        agency_code=agency_code,
        year=data["year"],
        name=name,
        period_type=data["period_type"],
        stage="draft",
        planning_deadline=data.get("planning_deadline"),
        unit_codes=data.get("unit_codes"),
        created_at=now(),
        updated_at=now(),
    )
    c.periods = [
        Period(seq=sp.seq, name_id=sp.name_id, name_en=sp.name_en, start=sp.start, end=sp.end, deadline=sp.deadline)
        for sp in specs
    ]
    s.add(c)
    s.flush()
    audit(
        s,
        p,
        "cycle.created",
        "cycle",
        c.id,
        after={"year": c.year, "name": c.name, "period_type": c.period_type},
        agency=agency_code,
    )
    emit(
        s,
        "plans.cycle.opened",
        c.id,
        {
            "cycle_id": c.id,
            "agency_code": agency_code,
            "year": c.year,
            "name": c.name,
            "period_type": c.period_type,
            "stage": c.stage,
            "planning_deadline": c.planning_deadline,
            "unit_codes": c.unit_codes,
            "periods": [period_payload(pr) for pr in c.periods],
        },
    )
    return cycle_out(c)


def get_cycle(s: Session, p: Principal, cycle_id: int) -> Cycle:
    c = s.get(Cycle, cycle_id)
    if c is None or not (p.is_admin or p.agency == c.agency_code):
        raise not_found("cycle", cycle_id)
    return cycle_out(c)


def update_period(s: Session, p: Principal, c: Cycle, seq: int, data: dict) -> Cycle:
    """HR sets a period's fill-in deadline (batas pengisian) while the cycle is draft or planning."""
    require_hr(p, c.agency_code)
    guard_stage(c, "cycle.edit_periods")
    period = period_of(c, seq, field="seq")
    if data["deadline"] < period.start:
        raise validation([("deadline", "period.deadline_before_start")], start=str(period.start))
    before = {"deadline": str(period.deadline)}
    period.deadline = data["deadline"]
    c.updated_at = now()  # bumps the cycle's version: its ETag changes
    s.flush()
    audit(
        s,
        p,
        "period.updated",
        "cycle",
        c.id,
        before=before | {"seq": seq},
        after={"seq": seq, "deadline": str(period.deadline)},
        agency=c.agency_code,
    )
    return cycle_out(c)


def advance_cycle(s: Session, p: Principal, c: Cycle, expected: str | None) -> Cycle:
    require_hr(p, c.agency_code)
    current = cycle_state(c)
    label = domain.state_label(current)
    if expected is not None and expected != label:
        raise Problem(409, "cycle.not_expected", stage=label, expected=expected)
    nxt = domain.next_state(current, len(c.periods))
    c.stage, c.period_seq, c.phase = nxt.stage, nxt.period_seq, nxt.phase
    c.updated_at = now()
    s.flush()
    new_label = domain.state_label(nxt)
    audit(
        s, p, "cycle.advanced", "cycle", c.id, before={"state": label}, after={"state": new_label}, agency=c.agency_code
    )
    emit(
        s,
        "plans.cycle.stage_changed",
        c.id,
        {
            "cycle_id": c.id,
            "agency_code": c.agency_code,
            "year": c.year,
            "previous": label,
            "stage": nxt.stage,
            "period_seq": nxt.period_seq,
            "phase": nxt.phase,
            "state": new_label,
        },
    )
    return cycle_out(c)


def guard_stage(c: Cycle, action: str) -> None:
    domain.guard(cycle_state(c), action)


def period_of(c: Cycle, seq: int | None, field: str = "period_seq") -> Period | None:
    if seq is None:
        return None
    for pr in c.periods:
        if pr.seq == seq:
            return pr
    raise validation([(field, "period.unknown")], seq=seq)


# ------------------------------------------------------------------ plans (SKP)


def plan_content_dict(plan: Plan) -> dict:
    return {
        "approach": plan.approach,
        "behaviour": dict(plan.behaviour or {}),
        "annex": dict(plan.annex or {}),
        "rhk": [
            {
                "id": r.id,
                "kind": r.kind,
                "description": r.description,
                "parent_rhk_id": r.parent_rhk_id,
                "organisation_goal": r.organisation_goal,
                "iki": [
                    {
                        "id": i.id,
                        "aspect": i.aspect,
                        "indicator": i.indicator,
                        "target_value": i.target_value,
                        "target_unit": i.target_unit,
                        "target_text": i.target_text,
                        "satisfaction_unit_code": i.satisfaction_unit_code,
                    }
                    for i in r.iki
                ],
            }
            for r in plan.rhk
        ],
    }


def plan_ref(plan: Plan, s: Session) -> dict:
    unit = s.get(Unit, plan.unit_id)
    return {
        "plan_id": plan.id,
        "cycle_id": plan.cycle_id,
        "agency_code": plan.agency_code,
        "employee_nip": plan.employee_nip,
        "penilai_nip": plan.penilai_nip,
        "unit_code": unit.code,
        "status": plan.status,
        "revision": plan.revision,
    }


def _check_parents(s: Session, plan_cycle_id: int, penilai_nip: str | None, rhk: list[dict]) -> list[tuple[str, str]]:
    wanted = {r.get("parent_rhk_id") for r in rhk if r.get("parent_rhk_id")}
    if not wanted:
        return []
    valid = set()
    if penilai_nip:
        sup_plan = s.scalar(select(Plan).where(Plan.cycle_id == plan_cycle_id, Plan.employee_nip == penilai_nip))
        if sup_plan:
            valid = {r.id for r in sup_plan.rhk}
    return [
        (f"rhk[{i}].parent_rhk_id", "rhk.parent_unknown")
        for i, r in enumerate(rhk)
        if r.get("parent_rhk_id") and r["parent_rhk_id"] not in valid
    ]


def _apply_content(s: Session, plan: Plan, data: dict) -> None:
    errors = domain.validate_plan_content(
        data["approach"], data["rhk"], data["behaviour"], is_head_of_unit=plan.is_head_of_unit
    )
    errors += _check_parents(s, plan.cycle_id, plan.penilai_nip, data["rhk"])
    existing_rhk = {r.id: r for r in plan.rhk}
    existing_iki = {i.id: i for r in plan.rhk for i in r.iki}
    for i, r in enumerate(data["rhk"]):
        if r.get("id") and r["id"] not in existing_rhk:
            errors.append((f"rhk[{i}].id", "rhk.unknown_id"))
        for j, k in enumerate(r.get("iki") or []):
            if k.get("id") and k["id"] not in existing_iki:
                errors.append((f"rhk[{i}].iki[{j}].id", "iki.unknown_id"))
    kept_iki = {k["id"] for r in data["rhk"] for k in r.get("iki") or [] if k.get("id")}
    if plan.id is not None:
        for iki_id in set(existing_iki) - kept_iki:
            if s.scalar(select(func.count()).select_from(Realisation).where(Realisation.iki_id == iki_id)):
                errors.append(("rhk", "iki.has_realisation"))
    if errors:
        raise validation(errors)
    plan.approach = data["approach"]
    plan.behaviour = {k: v for k, v in data["behaviour"].items()}
    plan.annex = dict(data.get("annex") or {})
    new_rhk = []
    for pos, r in enumerate(data["rhk"]):
        row = existing_rhk.get(r.get("id")) or Rhk(id=domain_id())
        row.position, row.kind, row.description = pos, r["kind"], r["description"]
        row.parent_rhk_id, row.organisation_goal = r.get("parent_rhk_id"), r.get("organisation_goal")
        iki_rows = []
        for ipos, k in enumerate(r.get("iki") or []):
            irow = existing_iki.get(k.get("id")) or Iki(id=domain_id())
            irow.position, irow.aspect, irow.indicator = ipos, k["aspect"], k["indicator"]
            irow.target_value, irow.target_unit, irow.target_text = (
                k.get("target_value"),
                k.get("target_unit"),
                k.get("target_text"),
            )
            irow.satisfaction_unit_code = (k.get("satisfaction_unit_code") or "").strip() or None
            iki_rows.append(irow)
        row.iki = iki_rows
        new_rhk.append(row)
    plan.rhk = new_rhk


def domain_id() -> str:
    from .models import new_id

    return new_id()


def create_plan(s: Session, p: Principal, data: dict) -> Plan:
    if not p.nip:
        raise forbid()
    emp = s.scalar(select(Employee).where(Employee.nip == p.nip))
    if emp is None or not emp.active:
        raise Problem(403, "plan.not_employee")
    c = s.get(Cycle, data["cycle_id"])
    if c is None or c.agency_code != emp.agency_code:
        raise validation([("cycle_id", "cycle.unknown")])
    guard_stage(c, "plan.create")
    if s.scalar(select(Plan.id).where(Plan.cycle_id == c.id, Plan.employee_nip == emp.nip)):
        raise Problem(409, "plan.exists", cycle_id=c.id)
    plan = Plan(
        cycle_id=c.id,
        agency_code=emp.agency_code,
        employee_nip=emp.nip,
        employee_name=emp.name,
        position=emp.position,
        grade=emp.grade,
        unit_id=emp.unit_id,
        penilai_nip=emp.superior_nip,
        is_head_of_unit=is_head_of_unit(s, emp),
        approach=data["approach"],
        status="draft",
        behaviour={},
        annex={},
        created_at=now(),
        updated_at=now(),
    )
    plan.rhk = []
    _apply_content(s, plan, data)
    s.add(plan)
    cycle_id = c.id  # read now: a failed flush expires the session's objects
    try:
        s.flush()
    except IntegrityError:  # a concurrent request created it first (uq_plan_cycle_employee)
        raise Problem(409, "plan.exists", cycle_id=cycle_id) from None
    audit(
        s,
        p,
        "plan.created",
        "plan",
        plan.id,
        after=plan_content_dict(plan),
        agency=plan.agency_code,
        subject=plan.employee_nip,
    )
    return plan


def is_head_of_unit(s: Session, emp: Employee) -> bool:
    """The unit's recorded head, or someone whose superior sits outside their unit (or who has none):
    their RHK cascade from the unit's performance agreement rather than from a superior's RHK."""
    if emp.unit.head_nip:
        return emp.unit.head_nip == emp.nip
    if not emp.superior_nip:
        return True
    return s.scalar(select(Employee.unit_id).where(Employee.nip == emp.superior_nip)) != emp.unit_id


def get_plan(s: Session, p: Principal, plan_id: int) -> Plan:
    plan = s.get(Plan, plan_id)
    if plan is None or not can_read_person(s, p, plan.agency_code, plan.employee_nip):
        raise not_found("plan", plan_id)
    return plan


def _owner(p: Principal, plan: Plan) -> None:
    if p.nip != plan.employee_nip:
        raise Problem(403, "plan.only_owner")


def _penilai(s: Session, p: Principal, plan: Plan) -> None:
    """Only the direct superior of the employee (now), or an acting official for them."""
    current = s.scalar(select(Employee.superior_nip).where(Employee.nip == plan.employee_nip))
    if current is None and in_agency(p, plan.agency_code, roles=("hr",)):
        return  # the top official's penilai (e.g. the regional head) is outside the directory: HR records it
    if not p.nip or not current or (p.nip != current and current not in acting_for(s, p.nip, today())):
        raise Problem(403, "plan.only_penilai")


def update_plan(s: Session, p: Principal, plan: Plan, data: dict) -> Plan:
    _owner(p, plan)
    guard_stage(s.get(Cycle, plan.cycle_id), "plan.edit")
    domain.plan_transition(plan.status, "edit")
    before = plan_content_dict(plan)
    _apply_content(s, plan, data)
    plan.updated_at = now()
    # always UPDATE the plan row, so its version check runs (and the version moves) even when only
    # RHK/IKI rows changed and the clock has not moved: two writers with one ETag give one 412
    flag_modified(plan, "updated_at")
    s.flush()
    audit(
        s,
        p,
        "plan.updated",
        "plan",
        plan.id,
        before=before,
        after=plan_content_dict(plan),
        agency=plan.agency_code,
        subject=plan.employee_nip,
    )
    return plan


def submit_plan(s: Session, p: Principal, plan: Plan) -> Plan:
    _owner(p, plan)
    guard_stage(s.get(Cycle, plan.cycle_id), "plan.submit")
    new_status = domain.plan_transition(plan.status, "submit")
    content = plan_content_dict(plan)
    errors = domain.validate_for_submit(
        plan.approach, content["rhk"], content["behaviour"], is_head_of_unit=plan.is_head_of_unit
    )
    emp = s.scalar(select(Employee).where(Employee.nip == plan.employee_nip))
    if not emp.superior_nip:
        errors = [e for e in errors if e[1] != "rhk.cascade_required"]
    if errors:
        raise validation(errors)
    before = plan.status
    plan.status, plan.submitted_at, plan.updated_at = new_status, now(), now()
    plan.penilai_nip = emp.superior_nip  # the reporting line may have changed since drafting
    s.flush()
    audit(
        s,
        p,
        "plan.submitted",
        "plan",
        plan.id,
        before={"status": before},
        after={"status": plan.status},
        agency=plan.agency_code,
        subject=plan.employee_nip,
    )
    emit(s, "plans.plan.submitted", plan.id, plan_ref(plan, s))
    return plan


def return_plan(s: Session, p: Principal, plan: Plan, note: str) -> Plan:
    _penilai(s, p, plan)
    guard_stage(s.get(Cycle, plan.cycle_id), "plan.return")
    plan.status = domain.plan_transition(plan.status, "return")
    plan.return_note, plan.updated_at = note, now()
    s.flush()
    audit(
        s,
        p,
        "plan.returned",
        "plan",
        plan.id,
        before={"status": "submitted"},
        after={"status": plan.status, "note": note},
        agency=plan.agency_code,
        subject=plan.employee_nip,
    )
    emit(s, "plans.plan.returned", plan.id, plan_ref(plan, s) | {"note": note})
    return plan


def approve_plan(s: Session, p: Principal, plan: Plan) -> Plan:
    _penilai(s, p, plan)
    guard_stage(s.get(Cycle, plan.cycle_id), "plan.approve")
    plan.status = domain.plan_transition(plan.status, "approve")
    plan.revision += 1
    plan.approved_at, plan.approved_by, plan.return_note, plan.updated_at = now(), p.nip or p.sub, None, now()
    s.flush()
    snapshot = plan_content_dict(plan) | {
        "employee_nip": plan.employee_nip,
        "penilai_nip": plan.penilai_nip,
        "position": plan.position,
        "grade": plan.grade,
    }
    s.add(
        PlanVersion(
            plan_id=plan.id,
            revision=plan.revision,
            snapshot=snapshot,
            approved_at=plan.approved_at,
            approved_by=plan.approved_by,
        )
    )
    audit(
        s,
        p,
        "plan.approved",
        "plan",
        plan.id,
        before={"status": "submitted"},
        after={"status": plan.status, "revision": plan.revision},
        agency=plan.agency_code,
        subject=plan.employee_nip,
    )
    content = plan_content_dict(plan)
    emit(
        s,
        "plans.plan.approved",
        plan.id,
        plan_ref(plan, s)
        | {
            "approach": plan.approach,
            "employee_name": plan.employee_name,
            "position": plan.position,
            "grade": plan.grade,
            "is_head_of_unit": plan.is_head_of_unit,
            "approved_by": plan.approved_by,
            "rhk": content["rhk"],
            "behaviour": content["behaviour"],
        },
    )
    return plan


def revise_plan(s: Session, p: Principal, plan: Plan) -> Plan:
    _owner(p, plan)
    guard_stage(s.get(Cycle, plan.cycle_id), "plan.revise")
    plan.status = domain.plan_transition(plan.status, "revise")
    plan.updated_at = now()
    s.flush()
    audit(
        s,
        p,
        "plan.revision_opened",
        "plan",
        plan.id,
        before={"status": "approved"},
        after={"status": plan.status},
        agency=plan.agency_code,
        subject=plan.employee_nip,
    )
    emit(s, "plans.plan.revised", plan.id, plan_ref(plan, s))
    return plan


def plan_query(s: Session, p: Principal, args: dict):
    stmt = select(Plan).options(lazyload(Plan.rhk))  # list rows are summaries: no RHK/IKI loading
    if p.is_admin:
        pass
    elif p.has("hr", "agency"):
        stmt = stmt.where(Plan.agency_code == p.agency)
    else:
        roots = {p.nip} | acting_for(s, p.nip, today()) if p.nip else set()
        visible = ({p.nip} | subtree(s, p.agency or "", roots)) if p.nip else set()
        stmt = stmt.where(Plan.employee_nip.in_(visible or {"\0"}))
    for key in ("cycle_id", "status", "employee_nip", "penilai_nip"):
        if key in args:
            stmt = stmt.where(getattr(Plan, key) == args[key])
    if "unit_code" in args:
        stmt = stmt.join(Unit, Plan.unit_id == Unit.id).where(Unit.code == args["unit_code"])
    return stmt


def cascade_options(s: Session, p: Principal, cycle_id: int) -> dict:
    """What the caller's SKP in ``cycle_id`` may cascade from ("RHK pimpinan yang diintervensi"):
    the RHK of their penilai's plan in that cycle — ids, kinds and descriptions only, the rest of
    the superior's plan stays hidden — and whether they are a head of unit (who may cascade from
    an organisation goal instead). The penilai is the one the plan records, else the directory's."""
    if not p.nip:
        raise forbid()
    emp = s.scalar(select(Employee).where(Employee.nip == p.nip))
    if emp is None:
        raise Problem(403, "plan.not_employee")
    c = s.get(Cycle, cycle_id)
    if c is None or c.agency_code != emp.agency_code:
        raise not_found("cycle", cycle_id)
    mine = s.scalar(select(Plan).where(Plan.cycle_id == c.id, Plan.employee_nip == emp.nip))
    superior_nip = mine.penilai_nip if mine else emp.superior_nip
    out = {
        "cycle_id": c.id,
        "superior_nip": superior_nip,
        "superior_name": None,
        "plan_id": None,
        "plan_status": None,
        "is_head_of_unit": mine.is_head_of_unit if mine else is_head_of_unit(s, emp),
        "rhk": [],
    }
    if superior_nip:
        out["superior_name"] = s.scalar(select(Employee.name).where(Employee.nip == superior_nip))
        sup_plan = s.scalar(select(Plan).where(Plan.cycle_id == c.id, Plan.employee_nip == superior_nip))
        if sup_plan is not None:
            out |= {
                "plan_id": sup_plan.id,
                "plan_status": sup_plan.status,
                "rhk": [{"id": r.id, "kind": r.kind, "description": r.description} for r in sup_plan.rhk],
            }
    return out


def plan_versions(s: Session, plan: Plan) -> list[PlanVersion]:
    return list(s.scalars(select(PlanVersion).where(PlanVersion.plan_id == plan.id).order_by(PlanVersion.revision)))


def coverage(s: Session, plan: Plan) -> dict:
    subs = s.scalars(
        select(Employee.nip).where(Employee.superior_nip == plan.employee_nip, Employee.active.is_(True))
    ).all()
    sub_plans = s.scalars(
        select(Plan).where(Plan.cycle_id == plan.cycle_id, Plan.employee_nip.in_(subs or ["\0"]))
    ).all()
    links = {sp.employee_nip: [r.parent_rhk_id for r in sp.rhk] for sp in sub_plans}
    cov = domain.cascade_coverage([r.id for r in plan.rhk], links)
    return {
        "plan_id": plan.id,
        "rhk": [
            {"id": r.id, "kind": r.kind, "description": r.description, "supported_by": cov.supported.get(r.id, [])}
            for r in plan.rhk
        ],
        "unsupported": cov.unsupported,
        "idle_subordinates": [n for n in cov.idle_subordinates if n in links],
        "subordinates_without_plan": sorted(set(subs) - set(links)),
        "ratio": cov.ratio,
    }


# ------------------------------------------------------------------ realisation, evidence, logs, feedback


def _iki_of(plan: Plan, iki_id: str, field: str = "iki_id") -> Iki:
    for r in plan.rhk:
        for i in r.iki:
            if i.id == iki_id:
                return i
    raise validation([(field, "iki.unknown")])


def realisation_out(r: Realisation, s: Session) -> Realisation:
    r.period_seq = s.scalar(select(Period.seq).where(Period.id == r.period_id))
    return r


def record_realisation(s: Session, p: Principal, plan: Plan, data: dict, *, source: str = "employee") -> Realisation:
    return record_realisations(s, p, plan, [data], source=source, batch=False)[0]


def record_realisations(
    s: Session,
    p: Principal,
    plan: Plan,
    items: list[dict],
    *,
    source: str = "employee",
    batch: bool = True,
    limit: int = 100,
) -> list[Realisation]:
    """Record (or correct) the realisation of several IKI at once — the period's form, all or none,
    at most ``limit``. In a batch errors name the item (``[3].iki_id``); one item is named plainly."""
    if not items:
        raise validation([("body", "realisation.batch_empty")])
    if len(items) > limit:
        raise validation([("body", "realisation.batch_too_large")], max=limit)
    if source == "employee":
        _owner(p, plan)
    c = s.get(Cycle, plan.cycle_id)
    guard_stage(c, "realisation.record")
    if plan.status not in ("approved", "revised"):
        raise Problem(409, "realisation.plan_not_approved", plan_status=plan.status)

    def name(i: int, field: str) -> str:
        return f"[{i}].{field}" if batch else field

    periods, seen = [], {}
    for n, data in enumerate(items):
        _iki_of(plan, data["iki_id"], name(n, "iki_id"))
        period = period_of(c, data["period_seq"], name(n, "period_seq"))
        key = (data["iki_id"], period.id)
        if key in seen:
            raise validation([(name(n, "iki_id"), "realisation.repeated")], item=seen[key])
        seen[key] = n
        periods.append(period)
    existing = {
        (r.iki_id, r.period_id): r
        for r in s.scalars(
            select(Realisation).where(
                Realisation.plan_id == plan.id, Realisation.period_id.in_({pr.id for pr in periods})
            )
        )
    }
    recorded, befores = [], []
    for data, period in zip(items, periods):
        r = existing.get((data["iki_id"], period.id))
        if r is None:
            r = Realisation(plan_id=plan.id, iki_id=data["iki_id"], period_id=period.id)
            s.add(r)
            befores.append(None)
        else:
            befores.append({"value": r.value, "text": r.text, "note": r.note, "links": r.links})
        r.value, r.text, r.note, r.links = (
            data.get("value"),
            data.get("text"),
            data.get("note"),
            data.get("links") or [],
        )
        r.source, r.recorded_by, r.recorded_at = source, p.sub, now()
        r.period_seq = period.seq
        recorded.append(r)
    s.flush()
    for r, before in zip(recorded, befores):
        after = {"value": r.value, "text": r.text, "note": r.note, "links": r.links}
        audit(
            s,
            p,
            "realisation.recorded",
            "realisation",
            r.id,
            before=before,
            after=after,
            agency=plan.agency_code,
            subject=plan.employee_nip,
        )
        _emit_realisation(s, plan, r, r.period_seq)
    return recorded


def _emit_realisation(s: Session, plan: Plan, r: Realisation, seq: int) -> None:
    emit(
        s,
        "plans.realisation.recorded",
        r.id,
        {
            "realisation_id": r.id,
            "plan_id": plan.id,
            "cycle_id": plan.cycle_id,
            "employee_nip": plan.employee_nip,
            "iki_id": r.iki_id,
            "period_seq": seq,
            "value": r.value,
            "text": r.text,
            "evidence_count": len(r.evidence),
            "source": r.source,
        },
    )


def list_realisations(s: Session, plan: Plan, period_seq: int | None) -> list[Realisation]:
    stmt = select(Realisation).where(Realisation.plan_id == plan.id)
    if period_seq is not None:
        stmt = stmt.join(Period, Realisation.period_id == Period.id).where(Period.seq == period_seq)
    return [realisation_out(r, s) for r in s.scalars(stmt.order_by(Realisation.id))]


# type → magic bytes the content must start with (so a renamed .exe is refused)
EVIDENCE_TYPES = {
    "application/pdf": (b"%PDF",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/webp": (b"RIFF",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (b"PK\x03\x04",),
    "text/plain": (),
    "text/csv": (),
}


def add_evidence(
    s: Session, p: Principal, plan: Plan, r: Realisation, filename: str, content_type: str, content: bytes
) -> Evidence:
    _owner(p, plan)
    guard_stage(s.get(Cycle, plan.cycle_id), "realisation.record")
    limit = platform().config.max_upload_bytes
    if len(content) > limit:
        raise Problem(413, "evidence.too_large", limit=limit, size=len(content))
    if not content:
        raise validation([("file", "evidence.empty")])
    content_type = (content_type or "").split(";")[0].strip().lower()
    if content_type not in EVIDENCE_TYPES:
        raise Problem(415, "evidence.type", content_type=content_type or "-", allowed=", ".join(EVIDENCE_TYPES))
    magic = EVIDENCE_TYPES[content_type]
    if magic and not any(content.startswith(m) for m in magic):
        raise Problem(415, "evidence.content_mismatch", content_type=content_type, allowed=", ".join(EVIDENCE_TYPES))
    if not magic:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            raise Problem(
                415, "evidence.content_mismatch", content_type=content_type, allowed=", ".join(EVIDENCE_TYPES)
            )
    ev = Evidence(
        realisation_id=r.id,
        filename=(filename or "bukti")[:255],
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_by=p.sub,
        uploaded_at=now(),
    )
    s.add(ev)
    s.flush()
    s.refresh(r)
    audit(
        s,
        p,
        "evidence.uploaded",
        "evidence",
        ev.id,
        after={"realisation_id": r.id, "filename": ev.filename, "size": ev.size, "sha256": ev.sha256},
        agency=plan.agency_code,
        subject=plan.employee_nip,
    )
    _emit_realisation(s, plan, r, s.scalar(select(Period.seq).where(Period.id == r.period_id)))
    return ev


def get_evidence(s: Session, p: Principal, evidence_id: int) -> tuple[Evidence, bytes]:
    ev = s.get(Evidence, evidence_id)
    if ev is None:
        raise not_found("evidence", evidence_id)
    r = s.get(Realisation, ev.realisation_id)
    get_plan(s, p, r.plan_id)
    content = s.scalar(select(Evidence.content).where(Evidence.id == evidence_id))
    return ev, content


def write_daily_log(s: Session, p: Principal, data: dict) -> DailyLog:
    emp = s.scalar(select(Employee).where(Employee.nip == (p.nip or "\0")))
    if emp is None:
        raise Problem(403, "plan.not_employee")
    if data["date"] > today():
        raise validation([("date", "dailylog.future")])
    cycle = s.scalar(
        select(Cycle)
        .where(Cycle.agency_code == emp.agency_code, Cycle.year == data["date"].year, Cycle.stage != "closed")
        .order_by(Cycle.id.desc())
    )
    plan_id = None
    if cycle is not None:
        guard_stage(cycle, "dailylog.write")
        # the plan's id only: loading the SKP with its RHK and IKI was most of a log's cost
        plan_id = s.scalar(select(Plan.id).where(Plan.cycle_id == cycle.id, Plan.employee_nip == emp.nip))
    if data.get("iki_id"):
        if (
            plan_id is None
            or s.scalar(
                select(Iki.id).join(Rhk, Iki.rhk_id == Rhk.id).where(Rhk.plan_id == plan_id, Iki.id == data["iki_id"])
            )
            is None
        ):
            raise validation([("iki_id", "iki.unknown")])
    log = DailyLog(
        agency_code=emp.agency_code,
        employee_nip=emp.nip,
        superior_nip=emp.superior_nip,
        plan_id=plan_id,
        iki_id=data.get("iki_id"),
        date=data["date"],
        activity=data["activity"],
        minutes=data["minutes"],
        created_at=now(),
    )
    s.add(log)
    s.flush()
    audit(
        s,
        p,
        "dailylog.written",
        "daily_log",
        log.id,
        after={"date": str(log.date), "minutes": log.minutes, "activity": log.activity},
        agency=emp.agency_code,
        subject=emp.nip,
    )
    return log


def daily_log_query(s: Session, p: Principal, args: dict):
    stmt = select(DailyLog)
    if args.get("team"):
        if not p.nip:
            raise forbid()
        leads = {p.nip} | acting_for(s, p.nip, today())
        stmt = stmt.where(DailyLog.employee_nip.in_(select(Employee.nip).where(Employee.superior_nip.in_(leads))))
    elif args.get("employee_nip"):
        nip = args["employee_nip"]
        agency = s.scalar(select(Employee.agency_code).where(Employee.nip == nip))
        if agency is None or not can_read_person(s, p, agency, nip):
            raise not_found("employee", nip)
        stmt = stmt.where(DailyLog.employee_nip == nip)
    else:
        stmt = stmt.where(DailyLog.employee_nip == (p.nip or "\0"))
    if "date_from" in args:
        stmt = stmt.where(DailyLog.date >= args["date_from"])
    if "date_to" in args:
        stmt = stmt.where(DailyLog.date <= args["date_to"])
    return stmt


def give_feedback(s: Session, p: Principal, plan: Plan, data: dict) -> Feedback:
    if not supervises(s, p, plan.employee_nip):
        raise Problem(403, "feedback.only_superior")
    c = s.get(Cycle, plan.cycle_id)
    guard_stage(c, "feedback.give")
    if data.get("rhk_id") and data["rhk_id"] not in {r.id for r in plan.rhk}:
        raise validation([("rhk_id", "rhk.unknown_id")])
    period = period_of(c, data.get("period_seq"))
    fb = Feedback(
        plan_id=plan.id,
        giver_nip=p.nip,
        rhk_id=data.get("rhk_id"),
        value_code=data.get("value_code"),
        period_id=period.id if period else None,
        text=data["text"],
        created_at=now(),
    )
    s.add(fb)
    s.flush()
    fb.period_seq = period.seq if period else None
    audit(
        s,
        p,
        "feedback.given",
        "feedback",
        fb.id,
        after={"text": fb.text, "rhk_id": fb.rhk_id, "value_code": fb.value_code},
        agency=plan.agency_code,
        subject=plan.employee_nip,
    )
    emit(
        s,
        "plans.feedback.given",
        fb.id,
        {
            "feedback_id": fb.id,
            "plan_id": plan.id,
            "cycle_id": plan.cycle_id,
            "employee_nip": plan.employee_nip,
            "giver_nip": p.nip,
            "rhk_id": fb.rhk_id,
            "value_code": fb.value_code,
            "period_seq": fb.period_seq,
            "text": fb.text,
        },
    )
    return fb


def list_feedback(s: Session, plan: Plan) -> list[Feedback]:
    rows = list(s.scalars(select(Feedback).where(Feedback.plan_id == plan.id).order_by(Feedback.id)))
    seqs = {pr.id: pr.seq for pr in s.scalars(select(Period).where(Period.cycle_id == plan.cycle_id))}
    for fb in rows:
        fb.period_seq = seqs.get(fb.period_id)
    return rows


# ------------------------------------------------------------------ public satisfaction index (surveys)

SURVEYS_ACTOR = Principal(sub="system:surveys", roles=frozenset({"admin"}))


def record_ikm(s: Session, envelope: dict) -> list[Realisation]:
    """``surveys.ikm.computed``: record the unit's IKM (``ikm_unit``, 25–100) as the realisation of
    every IKI mapped to that unit's satisfaction (``Iki.satisfaction_unit_code``) in the agency's
    approved SKPs, for the period containing the campaign's end date. SKPs whose cycle stage does
    not take realisations, and IKI whose realisation already holds this value from the survey,
    are left alone (so a re-published index changes nothing)."""
    import logging

    log = logging.getLogger("kinerja.plans.surveys")
    data = envelope.get("data") or {}
    value, unit_code, agency = data.get("ikm_unit"), data.get("unit_code"), data.get("agency_code")
    try:
        end = date.fromisoformat(str(data.get("period_end")))
    except ValueError:
        end = None
    if value is None or not unit_code or not agency or end is None:
        log.warning("surveys.ikm.computed %s without ikm_unit, unit, agency or period_end: ignored", envelope.get("id"))
        return []
    rows = s.execute(
        select(Iki.id, Plan.id, Period.seq, Period.id)
        .join(Rhk, Iki.rhk_id == Rhk.id)
        .join(Plan, Rhk.plan_id == Plan.id)
        .join(Period, Period.cycle_id == Plan.cycle_id)
        .where(
            Iki.satisfaction_unit_code == unit_code,
            Plan.agency_code == agency,
            Plan.status.in_(("approved", "revised")),
            Period.start <= end,
            Period.end >= end,
        )
        .order_by(Plan.id, Iki.id)
    ).all()
    note = (
        f"IKM {unit_code} · {data.get('service_type') or ''} · {data.get('period_start')}–{data.get('period_end')}: "
        f"{data.get('respondents')} responden, mutu {data.get('mutu')} ({data.get('kinerja')})"
    )
    recorded: list[Realisation] = []
    for iki_id, plan_id, seq, period_id in rows:
        plan = s.get(Plan, plan_id)
        if not domain.allowed(cycle_state(s.get(Cycle, plan.cycle_id)), "realisation.record"):
            log.info("surveys.ikm.computed: plan %s's cycle takes no realisations now; IKI %s skipped", plan_id, iki_id)
            continue
        current = s.scalar(select(Realisation).where(Realisation.iki_id == iki_id, Realisation.period_id == period_id))
        if current is not None and current.source == "surveys.ikm" and current.value == value:
            continue
        recorded.append(
            record_realisation(
                s,
                SURVEYS_ACTOR,
                plan,
                {"iki_id": iki_id, "period_seq": seq, "value": value, "text": None, "note": note[:4000], "links": []},
                source="surveys.ikm",
            )
        )
    return recorded
