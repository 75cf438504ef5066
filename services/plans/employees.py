"""Employees of an agency and their reporting lines: creating and changing an employee (the NIP
validated, the superior known, no reporting cycles), who may see whom, and acting officials
(Plt/Plh) who stand in for someone. The blueprint, its schemas and its use cases."""

from __future__ import annotations

import logging
from functools import partial

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal, forbid
from services.common.errors import FieldError, Problem
from services.common.grants import act_for, agency_arg
from services.common.http import PageArgs, page_schema, paginate, require_if_match, with_etag
from services.common.i18n import LANGUAGES
from services.common.scopes import accepts
from services.common.usecase import not_found, now, platform, record, today, validation

from . import domain
from .access import PREFIX, in_agency, in_directory, only_visible, require_hr, superior_lookup
from .directory import get_agency, save, unit_by_code
from .models import ActingAssignment, Employee, Grant, Unit
from .schemas import NIP_DOC, NIP_OPT_DOC, UNIT_CODE_DOC

log = logging.getLogger("kinerja.plans.directory")

blp = Blueprint(
    "employees", __name__, url_prefix=PREFIX, description="Employees, reporting lines, acting officials (Plt/Plh)"
)

LANG = validate.OneOf(LANGUAGES)

# ------------------------------------------------------------------ schemas


class EmployeeIn(Schema):
    nip = fields.String(required=True, metadata=NIP_DOC)
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    email = fields.Email(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^\+?[0-9 -]{6,20}$"))
    position = fields.String(required=True, validate=validate.Length(min=2, max=200))
    grade = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    unit_code = fields.String(required=True, metadata=UNIT_CODE_DOC)
    superior_nip = fields.String(load_default=None, allow_none=True, metadata=NIP_OPT_DOC)
    language = fields.String(load_default="id", validate=LANG)
    active = fields.Boolean(load_default=True)


class EmployeeUpdate(Schema):
    name = fields.String(validate=validate.Length(min=2, max=200))
    email = fields.Email(allow_none=True)
    phone = fields.String(allow_none=True, validate=validate.Regexp(r"^\+?[0-9 -]{6,20}$"))
    position = fields.String(validate=validate.Length(min=2, max=200))
    grade = fields.String(allow_none=True, validate=validate.Length(max=20))
    unit_code = fields.String(metadata=UNIT_CODE_DOC)
    superior_nip = fields.String(allow_none=True, metadata=NIP_OPT_DOC)
    language = fields.String(validate=LANG)
    active = fields.Boolean()


class EmployeeOut(Schema):
    id = fields.Integer()
    nip = fields.String()
    agency_code = fields.String()
    name = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    position = fields.String()
    grade = fields.String(allow_none=True)
    unit_code = fields.String(attribute="unit.code")
    unit_name = fields.String(attribute="unit.name")
    superior_nip = fields.String(allow_none=True)
    language = fields.String()
    active = fields.Boolean()
    version = fields.Integer()


class EmployeeQuery(PageArgs):
    q = fields.String(
        validate=validate.Length(min=1, max=100), metadata={"description": "part of the name, or the NIP's beginning"}
    )
    unit_code = fields.String()
    superior_nip = fields.String()
    active = fields.Boolean()
    agency = agency_arg()


class ActingIn(Schema):
    acting_nip = fields.String(required=True, metadata=NIP_DOC)
    for_nip = fields.String(required=True, metadata=NIP_DOC)
    kind = fields.String(required=True, validate=validate.OneOf(("plt", "plh")))
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)

    @validates_schema
    def _dates(self, data, **kw):
        if data["end_date"] < data["start_date"]:
            raise ValidationError("end_date is before start_date", "end_date")


class ActingOut(ActingIn):
    id = fields.Integer()
    agency_code = fields.String()


class ActingQuery(PageArgs):
    for_nip = fields.String()
    acting_nip = fields.String()
    current = fields.Boolean(metadata={"description": "only appointments not yet ended (end date today or later)"})


class ActingEnd(Schema):
    end_date = fields.Date(load_default=None, metadata={"description": "the last day acting; default today"})


# ------------------------------------------------------------------ employees and reporting lines


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


def normalise_nip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


class DirectoryLookup:
    """The directory as :func:`check_employee` asks it — a unit by code, whether a NIP is the
    agency's, a person's superior — one query per question. The CSV import answers the same
    questions from rows it loads once for the whole file (``directory_import.ImportLookup``)."""

    def __init__(self, s: Session, agency_code: str):
        self.s, self.agency_code = s, agency_code
        self._superior_of = superior_lookup(s)

    def unit(self, code: str) -> Unit | None:
        return unit_by_code(self.s, self.agency_code, code)

    def in_agency(self, nip: str) -> bool:
        return bool(
            self.s.scalar(
                select(func.count())
                .select_from(Employee)
                .where(Employee.nip == nip, Employee.agency_code == self.agency_code)
            )
        )

    def superior_of(self, nip: str) -> str | None:
        return self._superior_of(nip)


def check_employee(
    s: Session,
    agency_code: str,
    data: dict,
    *,
    pending: dict[str, str | None] | None = None,
    pending_units: set[str] | None = None,
    prefix: str = "",
    lookup: DirectoryLookup | None = None,
) -> list[FieldError]:
    """All the field errors of one employee record; ``pending`` are superiors from the same import,
    ``lookup`` how the directory is asked (a query per question by default)."""
    errors: list[FieldError] = []
    nip = normalise_nip(data.get("nip"))
    try:
        domain.parse_nip(nip or "", today())
    except domain.InvalidNip as exc:
        errors.append(FieldError(prefix + "nip", exc.code, exc.params))
    lookup = lookup or DirectoryLookup(s, agency_code)
    if "unit_code" in data and not (
        lookup.unit(data["unit_code"]) or (pending_units and data["unit_code"] in pending_units)
    ):
        errors.append(FieldError(prefix + "unit_code", "employee.unit_unknown", {"unit_code": data["unit_code"]}))
    sup = normalise_nip(data.get("superior_nip"))
    if sup:
        known = (pending and sup in pending) or lookup.in_agency(sup)
        if not known:
            errors.append(FieldError(prefix + "superior_nip", "employee.superior_unknown", {"superior_nip": sup}))
        elif nip:
            db_lookup = lookup.superior_of

            def superior_of(n: str) -> str | None:
                if pending and n in pending:
                    return pending[n]
                return db_lookup(n)

            if domain.creates_reporting_cycle(nip, sup, superior_of):
                errors.append(FieldError(prefix + "superior_nip", "employee.reporting_cycle", {"superior_nip": sup}))
    return errors


def nip_unavailable(p: Principal, agency_code: str) -> Problem:
    """A NIP held by another agency's directory (a NIP belongs to one agency): refused without
    saying so — neither that the person exists, nor where, nor anything of them; the text only asks
    to check the NIP and to contact the administrator if it is right. The refusal is logged (without
    the NIP) so that an agency probing for NIPs can be noticed."""
    log.warning("employee NIP refused to %s of agency %s: it belongs to another directory", p.sub, agency_code)
    return validation([("nip", "employee.nip_unavailable")])


def upsert_employee(s: Session, p: Principal, agency_code: str, data: dict) -> tuple[Employee, str]:
    require_hr(p, agency_code)
    get_agency(s, agency_code)
    data = dict(data)
    data["nip"] = normalise_nip(data["nip"])
    data["superior_nip"] = normalise_nip(data.get("superior_nip"))
    errors = check_employee(s, agency_code, data)
    if errors:
        raise validation(errors)
    existing = s.scalar(select(Employee).where(Employee.nip == data["nip"]))
    if existing is not None and existing.agency_code != agency_code:
        raise nip_unavailable(p, agency_code)
    return write_employee(s, p, agency_code, existing, data)


def write_employee(
    s: Session, p: Principal, agency_code: str, emp: Employee | None, data: dict
) -> tuple[Employee, str]:
    """Create or change one employee from checked data; ``unchanged`` records nothing."""
    unit = unit_by_code(s, agency_code, data["unit_code"])
    values = {
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
    emp, outcome = save(s, emp, values, partial(Employee, nip=data["nip"], agency_code=agency_code))
    if outcome == "unchanged":
        return emp, outcome
    after = employee_payload(emp)
    record(
        s,
        p,
        f"employee.{outcome}",
        "employee",
        emp.nip,
        before=before,
        after=after,
        agency=agency_code,
        subject=emp.nip,
        event="plans.employee.upserted",
    )
    return emp, outcome


def update_employee(s: Session, p: Principal, emp: Employee, changes: dict) -> Employee:
    require_hr(p, emp.agency_code)
    data = employee_payload(emp) | changes
    data["superior_nip"] = normalise_nip(data.get("superior_nip"))
    errors = check_employee(s, emp.agency_code, data)
    if errors:
        raise validation(errors)
    write_employee(s, p, emp.agency_code, emp, data)
    return emp


def get_employee(s: Session, p: Principal, nip: str) -> Employee:
    emp = s.scalar(select(Employee).where(Employee.nip == nip))
    if emp is None or not in_directory(s, p, emp.agency_code, emp.nip):
        raise not_found("employee", nip)  # 404, not 403: do not reveal who exists elsewhere
    return emp


def employee_query(s: Session, p: Principal, args: dict):
    stmt = select(Employee)
    if in_agency(p, p.agency or "", ("hr", "agency")):
        if not p.is_admin:
            stmt = stmt.where(Employee.agency_code == p.agency)
    else:
        stmt = stmt.where(only_visible(s, p, Employee.nip))
    if "unit_code" in args:
        stmt = stmt.join(Unit, Employee.unit_id == Unit.id).where(Unit.code == args["unit_code"])
    if "superior_nip" in args:
        stmt = stmt.where(Employee.superior_nip == args["superior_nip"])
    if args.get("q", "").strip():
        q = args["q"].strip()
        stmt = stmt.where(or_(Employee.name.icontains(q, autoescape=True), Employee.nip.startswith(q, autoescape=True)))
    if "active" in args:
        stmt = stmt.where(Employee.active == args["active"])
    return stmt


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
    after = {k: str(v) for k, v in data.items()}
    record(
        s,
        p,
        "acting.created",
        "acting",
        a.id,
        after=after,
        agency=agency_code,
        subject=data["acting_nip"],
        event="plans.acting.upserted",
        data=acting_payload(a),
    )
    return a


def acting_payload(a: ActingAssignment, *, ended_early: bool = False) -> dict:
    """The appointment as ``plans.acting.upserted`` carries it (reviews lets the Plt/Plh act on it;
    notifications tells them of an appointment made, not of one ended early)."""
    return {
        "id": a.id,
        "agency_code": a.agency_code,
        "acting_nip": a.acting_nip,
        "for_nip": a.for_nip,
        "kind": a.kind,
        "start_date": a.start_date,
        "end_date": a.end_date,
        "ended_early": ended_early,
    }


def acting_query(p: Principal, args: dict):
    """HR's list of its agency's acting appointments (an admin's: every agency's); a person's, those
    they hold or that stand in for them (the portal shows a Plt/Plh what they may act on)."""
    stmt = select(ActingAssignment)
    if in_agency(p, p.agency or "", ("hr",)) or (p.is_machine and p.agency):  # machine: directory:read
        if not p.is_admin:
            stmt = stmt.where(ActingAssignment.agency_code == p.agency)
    elif p.nip:
        stmt = stmt.where((ActingAssignment.acting_nip == p.nip) | (ActingAssignment.for_nip == p.nip))
    else:
        raise forbid()
    for fld in ("for_nip", "acting_nip"):
        if fld in args:
            stmt = stmt.where(getattr(ActingAssignment, fld) == args[fld])
    if args.get("current"):
        stmt = stmt.where(ActingAssignment.end_date >= today())
    return stmt


def end_acting(s: Session, p: Principal, acting_id: int, end_date) -> ActingAssignment:
    """End an appointment early: its last day becomes ``end_date`` (today by default). It may not
    end before it began, nor later than it was to end (ending never extends it)."""
    a = s.get(ActingAssignment, acting_id)
    if a is None or not in_agency(p, a.agency_code, ("hr",)):
        raise not_found("acting", acting_id)  # another agency's appointment is not revealed
    end = end_date or today()
    if end < a.start_date:
        raise validation([("end_date", "acting.end_before_start")])
    if end > a.end_date:
        raise validation([("end_date", "acting.end_after_end")])
    if end != a.end_date:
        before = {"end_date": str(a.end_date)}
        a.end_date = end
        s.flush()
        record(
            s,
            p,
            "acting.ended",
            "acting",
            a.id,
            before=before,
            after={"end_date": str(end)},
            agency=a.agency_code,
            subject=a.acting_nip,
            event="plans.acting.upserted",
            data=acting_payload(a, ended_early=True),
        )
    return a


# ------------------------------------------------------------------ views


@blp.route("/employees")
class Employees(MethodView):
    @accepts("directory:read")
    @blp.arguments(EmployeeQuery, location="query")
    @blp.response(200, page_schema(EmployeeOut))
    def get(self, args):
        """Employees the caller may see: HR their agency, a supervisor their reporting line, others themselves;
        a machine client with a grant of another agency names it with ``agency``."""
        with platform().uow() as s:
            p = act_for(s, Grant, args.get("agency"))
            return paginate(s, employee_query(s, p, args), Employee.id, args.get("cursor"), args["limit"])

    @blp.arguments(EmployeeIn)
    @blp.response(201, EmployeeOut)
    def post(self, data):
        """Create or update an employee by NIP (HR). NIP validated; superior must exist; no reporting cycles."""
        p = current_principal()
        with platform().uow() as s:
            emp, _ = upsert_employee(s, p, p.agency or "", data)
            return with_etag(emp)


@blp.route("/employees/<nip>")
class EmployeeItem(MethodView):
    @accepts("directory:read")
    @blp.response(200, EmployeeOut)
    def get(self, nip):
        with platform().uow() as s:
            return with_etag(get_employee(s, current_principal(), nip))

    @blp.arguments(EmployeeUpdate)
    @blp.response(200, EmployeeOut)
    def patch(self, changes, nip):
        """Change an employee (HR); requires If-Match."""
        p = current_principal()
        with platform().uow() as s:
            emp = get_employee(s, p, nip)
            require_if_match(emp.version)
            return with_etag(update_employee(s, p, emp, changes))


@blp.route("/acting")
class Acting(MethodView):
    @accepts("directory:read")
    @blp.arguments(ActingQuery, location="query")
    @blp.response(200, page_schema(ActingOut))
    def get(self, args):
        """Acting officials (Plt/Plh) of the caller's agency (HR) or, for anyone else, the appointments they
        hold or that stand in for them; oldest first; ``current`` leaves out ended ones."""
        p = current_principal()
        with platform().uow() as s:
            return paginate(s, acting_query(p, args), ActingAssignment.id, args.get("cursor"), args["limit"])

    @blp.arguments(ActingIn)
    @blp.response(201, ActingOut)
    def post(self, data):
        """Record an acting official (Plt/Plh) who stands in as penilai for someone (HR)."""
        with platform().uow() as s:
            return create_acting(s, current_principal(), data)


@blp.route("/acting/<int:acting_id>/end")
class ActingEndView(MethodView):
    @blp.arguments(ActingEnd)
    @blp.response(200, ActingOut)
    def post(self, data, acting_id):
        """End an acting appointment early (HR of its agency): the last day is ``end_date``, default today."""
        with platform().uow() as s:
            return end_acting(s, current_principal(), acting_id, data.get("end_date"))
