"""The directory of an agency: the agency itself and its unit tree — the blueprint, its schemas and
its use cases. Employees, reporting lines and acting officials are in ``employees.py``; the CSV
import of units and employees in ``directory_import.py``."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal, forbid
from services.common.errors import Problem
from services.common.grants import act_for, agency_arg
from services.common.http import PageArgs, page_schema, paginate
from services.common.scopes import accepts
from services.common.usecase import not_found, now, platform, record, validation

from .access import PREFIX, require_hr
from .models import Agency, Grant, Unit
from .schemas import NIP_OPT_DOC

blp = Blueprint("directory", __name__, url_prefix=PREFIX, description="Agencies and their unit trees")

# ------------------------------------------------------------------ schemas


class AgencyIn(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Z0-9_-]{2,40}$"))
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))


class AgencyOut(Schema):
    code = fields.String()
    name = fields.String()


class UnitIn(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.-]{1,40}$"))
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    parent_code = fields.String(load_default=None, allow_none=True, metadata={"maxLength": 40})
    head_nip = fields.String(load_default=None, allow_none=True, metadata=NIP_OPT_DOC)


class UnitOut(Schema):
    id = fields.Integer()
    agency_code = fields.String()
    code = fields.String()
    name = fields.String()
    parent_code = fields.String(allow_none=True)
    head_nip = fields.String(allow_none=True)
    version = fields.Integer()


class UnitQuery(PageArgs):
    parent_code = fields.String()
    agency = agency_arg()


# ------------------------------------------------------------------ agencies and units


def save(s: Session, row, values: dict, create: Callable) -> tuple:
    """Create a directory row (``create(**values)``) or set those of ``values`` that changed, and
    say which: ``created``, ``updated`` or ``unchanged`` (nothing written). The row is flushed and
    refreshed, so its id and version are known."""
    if row is None:
        row = create(**values, updated_at=now())
        s.add(row)
        outcome = "created"
    else:
        if all(getattr(row, k) == v for k, v in values.items()):
            return row, "unchanged"
        for k, v in values.items():
            setattr(row, k, v)
        row.updated_at = now()
        outcome = "updated"
    s.flush()
    s.refresh(row)
    return row, outcome


def create_agency(s: Session, p: Principal, data: dict) -> Agency:
    if not p.is_admin:
        raise forbid()
    if s.get(Agency, data["code"]):
        raise Problem(409, "plans.agency_exists", agency=data["code"])
    agency = Agency(code=data["code"], name=data["name"], created_at=now())
    s.add(agency)
    record(s, p, "agency.created", "agency", agency.code, after=data, agency=agency.code)
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
    values = {
        "name": data["name"],
        "parent_id": parent.id if parent else None,
        "head_nip": data.get("head_nip", unit.head_nip if unit else None),
    }
    unit, outcome = save(s, unit, values, partial(Unit, agency_code=agency_code, code=data["code"]))
    if outcome == "unchanged":
        return unit, outcome
    after = unit_payload(unit)
    record(
        s,
        p,
        f"unit.{outcome}",
        "unit",
        unit.id,
        before=before,
        after=after,
        agency=agency_code,
        event="plans.unit.upserted",
    )
    return unit, outcome


# ------------------------------------------------------------------ views


@blp.route("/agencies")
class Agencies(MethodView):
    @blp.arguments(AgencyIn)
    @blp.response(201, AgencyOut)
    def post(self, data):
        """Register an agency (admin)."""
        with platform().uow() as s:
            return create_agency(s, current_principal(), data)


@blp.route("/agencies/<code>")
class AgencyItem(MethodView):
    @accepts("directory:read")
    @blp.response(200, AgencyOut)
    def get(self, code):
        p = current_principal()
        if not (p.is_admin or p.agency == code):
            raise not_found("agency", code)
        with platform().uow() as s:
            return get_agency(s, code)


@blp.route("/units")
class Units(MethodView):
    @accepts("directory:read")
    @blp.arguments(UnitQuery, location="query")
    @blp.response(200, page_schema(UnitOut))
    def get(self, args):
        """Units of the caller's agency (a tree through parent_code); a machine client with a grant of
        another agency names it with ``agency``."""
        with platform().uow() as s:
            p = act_for(s, Grant, args.get("agency"))
            stmt = select(Unit).where(Unit.agency_code == (p.agency or "\0"))
            if "parent_code" in args:
                parent = unit_by_code(s, p.agency or "", args["parent_code"])
                stmt = stmt.where(Unit.parent_id == (parent.id if parent else -1))
            page = paginate(s, stmt, Unit.id, args.get("cursor"), args["limit"])
            page["items"] = [unit_payload(u) | {"version": u.version} for u in page["items"]]
            return page

    @blp.arguments(UnitIn)
    @blp.response(201, UnitOut)
    def post(self, data):
        """Create or update a unit by code (HR)."""
        p = current_principal()
        with platform().uow() as s:
            unit, _ = upsert_unit(s, p, p.agency or "", data)
            return unit_payload(unit) | {"version": unit.version}
