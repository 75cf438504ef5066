"""CSV import of an agency's directory (units or employees): every row is checked first — columns,
fields, duplicates, unknown parents and superiors, reporting cycles — then all rows are applied
in dependency order, or none. The blueprint, its schemas and the use case."""

from __future__ import annotations

import csv
import functools
import io

from flask import g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from services.common.auth import Principal, current_principal
from services.common.errors import FieldError, Problem, flatten_messages
from services.common.http import ImportRowError, import_rejected
from services.common.usecase import now, platform, record_many

from .access import PREFIX, require_hr
from .directory import UnitIn, get_agency, unit_by_code, upsert_unit
from .employees import DirectoryLookup, EmployeeIn, check_employee, normalise_nip
from .models import Employee, Unit

blp = Blueprint("directory_import", __name__, url_prefix=PREFIX, description="CSV import of units and employees")

UNIT_COLUMNS = ("code", "name", "parent_code", "head_nip")
EMPLOYEE_COLUMNS = ("nip", "name", "email", "phone", "position", "grade", "unit_code", "superior_nip", "language")


class ImportQuery(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("units", "employees")))
    dry_run = fields.Boolean(load_default=False)


class ImportReport(Schema):
    kind = fields.String()
    dry_run = fields.Boolean()
    rows = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    errors = fields.List(fields.Nested(ImportRowError))


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
    broken: list[tuple[int, dict, set[str]]] = []  # rows the schema refused: what is left, what was refused
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
            # the cells the schema did not refuse are still checked, so that a row shows every error
            # at once (a bad NIP is not hidden behind a missing position); such a row is never applied
            refused = {fe.field.split(".")[0] for fe in field_errors}
            broken.append((line, {k: v for k, v in clean.items() if k not in refused}, refused))
            continue
        k = data[key]
        if k in seen:
            errors.append({"row": line, "field": key, "code": "import.duplicate", "params": {"first_row": seen[k]}})
            continue
        seen[k] = line
        rows.append((line, data))
    if kind == "units":
        check = _unit_errors
    else:  # the directory rows the file's checks ask about, loaded once for the whole file
        lookup = ImportLookup(s, agency_code, [d for _, d in rows] + [d for _, d, _ in broken])
        check = functools.partial(_employee_errors, lookup=lookup)
    errors += check(s, agency_code, rows)
    for line, cells, refused in broken:
        errors += [e for e in check(s, agency_code, [(line, cells)], others=rows) if e["field"] not in refused]
    errors.sort(key=lambda e: e["row"])  # stable: a row's errors stay in the order they were found
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
        raise import_rejected(errors, rows=report["rows"])
    # apply in dependency order (parents and superiors first); a dry run of units rolls everything
    # back, one of employees only counts (_write_employees)
    ordered = _dependency_order(rows, key, "parent_code" if kind == "units" else "superior_nip")
    if kind == "employees":
        for outcome, n in _write_employees(s, p, agency_code, ordered, lookup, dry_run=dry_run).items():
            report[outcome] += n
        return report
    for _, d in ordered:
        _, outcome = upsert_unit(s, p, agency_code, d)
        report[outcome] += 1
    if dry_run:
        s.rollback()
    return report


class ImportLookup(DirectoryLookup):
    """The directory as the checks of one employee import ask it, loaded in a few queries instead
    of several per row: the agency's units, and the employees the file names (its NIPs and their
    superiors, in any agency) with the superiors above them up to the top of each line. A question
    about anyone else (none, in practice) is a query as before."""

    CHUNK = 1000  # NIPs per IN list (SQLite allows 32,766 parameters; PostgreSQL more)

    def __init__(self, s: Session, agency_code: str, records: list[dict]):
        super().__init__(s, agency_code)
        self.units = {u.code: u for u in s.scalars(select(Unit).where(Unit.agency_code == agency_code))}
        self.units_by_id = {u.id: u for u in self.units.values()}
        self.rows: dict[str, dict] = {}  # nip → the employees row (a mapping), any agency
        self.absent: set[str] = set()  # NIPs looked for and not in the directory
        want = {n for d in records for n in (normalise_nip(d.get("nip")), normalise_nip(d.get("superior_nip"))) if n}
        while want:  # level by level up the reporting lines (the walk a reporting-cycle check makes)
            self._load(want)
            want = {r["superior_nip"] for r in self.rows.values() if r["superior_nip"]} - self.rows.keys() - self.absent

    def _load(self, nips: set[str]) -> None:
        table, wanted = Employee.__table__, sorted(nips)
        for i in range(0, len(wanted), self.CHUNK):
            part = wanted[i : i + self.CHUNK]
            for row in self.s.execute(select(table).where(table.c.nip.in_(part))).mappings():
                self.rows[row["nip"]] = dict(row)
        self.absent |= nips - self.rows.keys()

    def row(self, nip: str) -> dict | None:
        if nip not in self.rows and nip not in self.absent:
            self._load({nip})
        return self.rows.get(nip)

    def unit(self, code: str) -> Unit | None:
        return self.units.get(code)

    def in_agency(self, nip: str) -> bool:
        row = self.row(nip)
        return row is not None and row["agency_code"] == self.agency_code

    def superior_of(self, nip: str) -> str | None:
        row = self.row(nip)
        return row["superior_nip"] if row else None

    def payload(self, nip: str, values: dict) -> dict:
        """What ``employees.employee_payload`` says of an employee with these column values."""
        unit = self.units_by_id.get(values["unit_id"]) or self.s.get(Unit, values["unit_id"])
        return {
            "nip": nip,
            "agency_code": values["agency_code"],
            "name": values["name"],
            "email": values["email"],
            "phone": values["phone"],
            "position": values["position"],
            "grade": values["grade"],
            "unit_code": unit.code,
            "unit_name": unit.name,
            "superior_nip": values["superior_nip"],
            "language": values["language"],
            "active": values["active"],
        }


def _write_employees(
    s: Session, p: Principal, agency_code: str, ordered: list[tuple[int, dict]], lookup: ImportLookup, *, dry_run: bool
) -> dict[str, int]:
    """Create or change every checked employee (in dependency order) with set-based statements —
    one executemany of inserts, one of updates (each guarded by the row's version, as the ORM
    does), the ``plans.employee.upserted`` events and the audit rows, one per changed employee, in
    one executemany each. ``unchanged`` records nothing; a dry run only counts."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    inserts, updates, changes = [], [], []
    at = now()
    for _, d in ordered:
        nip = d["nip"]
        values = {
            "name": d["name"],
            "email": d.get("email"),
            "phone": d.get("phone"),
            "position": d["position"],
            "grade": d.get("grade"),
            "unit_id": lookup.unit(d["unit_code"]).id,
            "superior_nip": d.get("superior_nip"),
            "language": d.get("language") or "id",
            "active": d.get("active", True),
        }
        row = lookup.row(nip)
        if row is None:
            outcome, before = "created", None
            inserts.append(values | {"nip": nip, "agency_code": agency_code, "version": 1, "updated_at": at})
        elif all(row[k] == v for k, v in values.items()):
            counts["unchanged"] += 1
            continue
        else:
            outcome, before = "updated", lookup.payload(nip, row)
            updates.append(values | {"_id": row["id"], "_version": row["version"], "version": row["version"] + 1})
            updates[-1]["updated_at"] = at
        counts[outcome] += 1
        changes.append(
            {
                "action": f"employee.{outcome}",
                "entity_type": "employee",
                "entity_id": nip,
                "before": before,
                "after": lookup.payload(nip, values | {"agency_code": agency_code}),
                "agency": agency_code,
                "subject": nip,
                "event": "plans.employee.upserted",
            }
        )
    if dry_run or not changes:
        return counts
    table = Employee.__table__
    if inserts:
        s.execute(insert(table), inserts)
    if updates:
        stmt = update(table).where(table.c.id == bindparam("_id"), table.c.version == bindparam("_version"))
        result = s.execute(stmt, updates)
        if s.get_bind().dialect.supports_sane_multi_rowcount and result.rowcount != len(updates):
            raise StaleDataError(f"employees changed meanwhile: {len(updates) - result.rowcount} of {len(updates)}")
    record_many(s, p, changes)
    return counts


def _unit_errors(
    s: Session, agency_code: str, rows: list[tuple[int, dict]], others: list[tuple[int, dict]] = ()
) -> list[dict]:
    """Parents neither in the file nor in the directory, and units that would sit below themselves.
    ``others``: the file's valid rows when ``rows`` is one the schema refused (its code may be missing)."""
    errors = []
    pending_units = {d["code"] for _, d in [*rows, *others] if d.get("code")}
    parents = {d["code"]: d.get("parent_code") for _, d in [*others, *rows] if d.get("code")}
    for line, d in rows:
        pc = d.get("parent_code")
        if pc and pc not in pending_units and unit_by_code(s, agency_code, pc) is None:
            errors.append({"row": line, "field": "parent_code", "code": "unit.parent_unknown", "params": {}})
        walk, hops = pc, 0
        while walk and d.get("code") and hops < 1000:
            if walk == d["code"]:
                errors.append({"row": line, "field": "parent_code", "code": "unit.parent_cycle", "params": {}})
                break
            walk = parents.get(walk) if walk in parents else None
            hops += 1
    return errors


def _employee_errors(
    s: Session,
    agency_code: str,
    rows: list[tuple[int, dict]],
    others: list[tuple[int, dict]] = (),
    *,
    lookup: ImportLookup,
) -> list[dict]:
    """Each employee checked against the directory and the file's other rows (superiors from the
    same file count); a NIP of another agency is refused. ``others``: the file's valid rows when
    ``rows`` is one the schema refused (its NIP may be missing)."""
    errors = []
    pending = {d["nip"]: normalise_nip(d.get("superior_nip")) for _, d in [*others, *rows] if d.get("nip")}
    for line, d in rows:
        d["superior_nip"] = normalise_nip(d.get("superior_nip"))
        for fe in check_employee(s, agency_code, d, pending=pending, lookup=lookup):
            errors.append({"row": line, "field": fe.field, "code": fe.code, "params": fe.params})
        if not d.get("nip"):
            continue
        row = lookup.row(d["nip"])
        other = row["agency_code"] if row else None
        if other and other != agency_code:
            errors.append({"row": line, "field": "nip", "code": "employee.nip_unavailable", "params": {}})
    return errors


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


@functools.lru_cache(maxsize=2)
def _row_schema(kind: str) -> Schema:
    """One schema per kind, reused (building one cost 0.4 ms, more than loading a row with it)."""
    return UnitIn() if kind == "units" else EmployeeIn()


def load_row(kind: str, row: dict):
    """One CSV row through the API's own schema: (data, []) or (None, field errors)."""
    try:
        return _row_schema(kind).load(row), []
    except ValidationError as exc:
        return None, flatten_messages(exc.messages)


@blp.route("/directory/import")
class DirectoryImport(MethodView):
    @blp.arguments(ImportQuery, location="query")
    @blp.response(200, ImportReport)
    def post(self, args):
        """CSV import of units or employees (HR). ``dry_run=true`` reports without writing; otherwise
        every row is applied or, if any row is wrong, none (422 with the errors per row).
        Send ``text/csv`` or a multipart ``file``. Units: code,name,parent_code. Employees:
        nip,name,email,phone,position,grade,unit_code,superior_nip,language."""
        p = current_principal()
        if request.mimetype == "multipart/form-data":
            f = request.files.get("file")
            if f is None:
                raise Problem(422, "validation", errors=[FieldError("file", "field.required")])
            raw = f.read()
        elif request.mimetype == "text/csv":
            raw = request.get_data()
        else:
            raise Problem(415, "http.media_type", expected="text/csv")
        limit = platform().config.max_content_length
        if len(raw) > limit:
            raise Problem(413, "http.too_large", limit=limit)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Problem(422, "validation", errors=[FieldError("file", "import.encoding")]) from None
        with platform().uow() as s:
            report = import_directory(
                s, p, p.agency or "", args["kind"], text, dry_run=args["dry_run"], load_row=load_row
            )
        cat = platform().catalogue
        for e in report["errors"]:
            e["detail"] = (
                cat.t(e["code"], g.lang, **(e.get("params") or {}))
                if cat.has(e["code"])
                else (e.get("message") or e["code"])
            )
        return report
