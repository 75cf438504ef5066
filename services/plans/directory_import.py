"""CSV import of an agency's directory (units or employees): every row is checked first — columns,
fields, duplicates, unknown parents and superiors, reporting cycles — then all rows are applied
in dependency order, or none. The blueprint, its schemas and the use case."""

from __future__ import annotations

import csv
import io

from flask import g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal
from services.common.errors import FieldError, Problem, flatten_messages
from services.common.http import ImportRowError, import_rejected
from services.common.usecase import platform

from .access import PREFIX, require_hr
from .directory import UnitIn, get_agency, unit_by_code, upsert_unit
from .employees import EmployeeIn, check_employee, normalise_nip, write_employee
from .models import Employee

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
    check = _unit_errors if kind == "units" else _employee_errors
    errors += check(s, agency_code, rows)
    for line, partial, refused in broken:
        errors += [e for e in check(s, agency_code, [(line, partial)], others=rows) if e["field"] not in refused]
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
    # apply in dependency order (parents and superiors first); a dry run rolls everything back
    ordered = _dependency_order(rows, key, "parent_code" if kind == "units" else "superior_nip")
    for _, d in ordered:
        if kind == "units":
            _, outcome = upsert_unit(s, p, agency_code, d)
        else:
            emp = s.scalar(select(Employee).where(Employee.nip == d["nip"]))
            _, outcome = write_employee(s, p, agency_code, emp, d)
        report[outcome] += 1
    if dry_run:
        s.rollback()
    return report


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
    s: Session, agency_code: str, rows: list[tuple[int, dict]], others: list[tuple[int, dict]] = ()
) -> list[dict]:
    """Each employee checked against the directory and the file's other rows (superiors from the
    same file count); a NIP of another agency is refused. ``others``: the file's valid rows when
    ``rows`` is one the schema refused (its NIP may be missing)."""
    errors = []
    pending = {d["nip"]: normalise_nip(d.get("superior_nip")) for _, d in [*others, *rows] if d.get("nip")}
    for line, d in rows:
        d["superior_nip"] = normalise_nip(d.get("superior_nip"))
        for fe in check_employee(s, agency_code, d, pending=pending):
            errors.append({"row": line, "field": fe.field, "code": fe.code, "params": fe.params})
        if not d.get("nip"):
            continue
        other = s.scalar(select(Employee.agency_code).where(Employee.nip == d["nip"]))
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


def load_row(kind: str, row: dict):
    """One CSV row through the API's own schema: (data, []) or (None, field errors)."""
    schema = UnitIn() if kind == "units" else EmployeeIn()
    try:
        return schema.load(row), []
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
